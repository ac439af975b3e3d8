"""The line protocol between a C benchmark and its PyTorch peer.

The benchmark starts the peer script with /usr/bin/python3 and talks to it
over its standard input and output, a line at a time, so that the peer's
runs can be interleaved with the benchmark's own in the same rounds (on a
shared machine the speed can change by half from one minute to the next,
and only runs taken in turns meet the same conditions):

  peer:  "hello" once it is ready, or "unavailable REASON" (then it exits)
  bench: "setup SPEC"     peer: "ready HOW" (warm-up runs done) or "error REASON"
  bench: "run VARIANT"    peer: "SECONDS" of one run, or "error REASON"
  bench: "quit"

The peer waits a little after each run before it answers, so the threads of
its thread pool stop spinning before the benchmark's next run starts.
"""

import sys
import time

SETTLE_SECONDS = 0.05


def serve(setup):
    """Answers the benchmark. setup(spec) returns (HOW, {VARIANT: callable})."""
    print("hello", flush=True)
    variants = {}
    for line in sys.stdin:
        words = line.split(None, 1)
        if not words:
            continue
        command, argument = words[0], (words[1].strip() if len(words) > 1 else "")
        if command == "quit":
            break
        try:
            if command == "setup":
                variants = {}  # the last spec's tensors go first
                how, variants = setup(argument)
                for fn in variants.values():
                    fn()  # warm-up: first-call allocations and kernel selection
                answer = "ready " + how
            elif command == "run":
                fn = variants[argument]
                start = time.perf_counter()
                fn()
                answer = "%.9f" % (time.perf_counter() - start)
                time.sleep(SETTLE_SECONDS)
            else:
                answer = "error unknown command " + command
        except Exception as error:  # the benchmark prints it and goes on without the peer
            answer = "error " + str(error).replace("\n", " ")
        print(answer, flush=True)
    return 0
