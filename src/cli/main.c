#include "takes-cli.h"

int
main (int argc, char **argv)
{
  return takes_cli_main (argc, argv);
}
