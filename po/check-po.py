#!/usr/bin/env python3
# Keeps the translations honest: `complete` rebuilds the template from the sources
# the way `ninja takes-pot` does and fails on any message a catalogue lacks or has
# only fuzzily; `potfiles` fails on any source with translatable strings that
# POTFILES.in does not list.

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

# The same keywords and format flags as meson's i18n 'glib' preset, so the template
# built here matches the one translators get.
XGETTEXT_GLIB = [
    "--from-code=UTF-8",
    "--add-comments",
    "--keyword=_",
    "--keyword=N_",
    "--keyword=C_:1c,2",
    "--keyword=NC_:1c,2",
    "--keyword=g_dcgettext:2",
    "--keyword=g_dngettext:2,3",
    "--keyword=g_dpgettext2:2c,3",
    "--flag=N_:1:pass-c-format",
    "--flag=C_:2:pass-c-format",
    "--flag=NC_:2:pass-c-format",
    "--flag=g_dngettext:2:pass-c-format",
    "--flag=g_strdup_printf:1:c-format",
    "--flag=g_string_printf:2:c-format",
    "--flag=g_string_append_printf:2:c-format",
    "--flag=g_error_new:3:c-format",
    "--flag=g_set_error:4:c-format",
    "--flag=g_markup_printf_escaped:1:c-format",
    "--flag=g_log:3:c-format",
    "--flag=g_print:1:c-format",
    "--flag=g_printerr:1:c-format",
    "--flag=g_printf:1:c-format",
    "--flag=g_fprintf:2:c-format",
    "--flag=g_sprintf:2:c-format",
    "--flag=g_snprintf:3:c-format",
]

# A gettext call in C: the marker must not be the tail of a longer identifier.
C_MARKER = re.compile(r"(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|g_dngettext|g_dpgettext2|ngettext)\s*\(")
PARTIAL_DIRECTIVE = re.compile(r"(?<!%)(?:%%)*%[-+ #0']*[0-9*]*(?:\.[0-9*]*)?[hlLqjzt]*$")
HEADER_FUZZY = re.compile(r'^#,[^\n]*\bfuzzy\b[^\n]*\nmsgid ""\n', re.MULTILINE)
UI_MARKER = re.compile(r'translatable\s*=\s*["\'](?:yes|true|1)["\']')


def read_potfiles(path):
    entries = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if line and not line.startswith("#"):
                entries.append(line)
    return entries


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"not ok: {' '.join(command[:1])} failed with exit status {result.returncode}")
    return result


def split_messages(template_text):
    """Messages that a macro such as G_GSIZE_FORMAT cuts short, with where they are.

    xgettext cannot expand macros, so _("%" G_GSIZE_FORMAT " bytes") yields the
    msgid "%"; at run time gettext looks up the expanded string, finds nothing and
    shows English whatever the catalogue says."""
    found = []
    for block in template_text.split("\n\n"):
        places = []
        for line in block.splitlines():
            if line.startswith("#:"):
                places.extend(line[2:].split())
        for context, msgid in po_messages(block):
            if PARTIAL_DIRECTIVE.search(msgid):
                found.append((context, msgid, places))
    return found

def po_messages(text):
    """(msgctxt, msgid) of each active message in a PO text, header excluded."""
    messages = []
    current = {}
    field = None

    def flush():
        if current.get("msgid"):
            messages.append((current.get("msgctxt"), current["msgid"]))
        current.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#~"):
            continue
        if not line:
            flush()
            field = None
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
        if match:
            field = match.group(1)
            if field == "msgctxt" and current.get("msgid") is not None:
                flush()
            current[field] = unquote(match.group(2))
        elif line.startswith('"') and field:
            current[field] = current.get(field, "") + unquote(line)
    flush()
    return messages


def unquote(quoted):
    return bytes(quoted[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def describe(messages):
    return "\n".join(f"    {(context + ' | ') if context else ''}{msgid!r}" for context, msgid in messages)


def check_complete(args):
    root = pathlib.Path(args.source_root)
    po_dir = pathlib.Path(args.po_dir)
    potfiles = po_dir / "POTFILES.in"
    missing = [entry for entry in read_potfiles(potfiles) if not (root / entry).is_file()]
    if missing:
        print(f"not ok: POTFILES.in lists files that do not exist: {', '.join(missing)}", file=sys.stderr)
        return 1

    failed = False
    with tempfile.TemporaryDirectory(prefix="takes-po-") as scratch:
        template = os.path.join(scratch, f"{args.package}.pot")
        run(
            ["xgettext", f"--package-name={args.package}", f"--directory={root}",
             f"--files-from={potfiles}", f"--output={template}"]
            + XGETTEXT_GLIB
        )
        if not os.path.exists(template):
            print("not ok: xgettext found no translatable strings at all", file=sys.stderr)
            return 1
        split = split_messages(pathlib.Path(template).read_text(encoding="utf-8"))
        split_ids = {(context, msgid) for context, msgid, _ in split}
        if split:
            failed = True
            print("not ok: these translatable strings are cut short by a macro, so no translation can ever "
                  "match them at run time; write the number with %zu / %zd (gsize / gssize), or with\n"
                  "    %\" PRId64 \" / %\" PRIu64 \" from <inttypes.h> (gint64 / guint64), which xgettext understands:\n"
                  + "\n".join(f"    {' '.join(places)}: {msgid!r}" for _, msgid, places in split), file=sys.stderr)
        for language in [word for line in read_potfiles(po_dir / "LINGUAS") for word in line.split()]:
            catalogue = po_dir / f"{language}.po"
            merged = os.path.join(scratch, f"{language}.po")
            run(["msgmerge", "--quiet", "--output-file", merged, str(catalogue), template])
            untranslated = [message for message in
                            po_messages(run(["msgattrib", "--untranslated", "--no-obsolete", merged]).stdout)
                            if message not in split_ids]
            fuzzy = [message for message in
                     po_messages(run(["msgattrib", "--only-fuzzy", "--no-obsolete", merged]).stdout)
                     if message not in split_ids]
            header_fuzzy = HEADER_FUZZY.search(catalogue.read_text(encoding="utf-8")) is not None
            total = len([message for message in po_messages(run(["msgattrib", "--no-obsolete", merged]).stdout)
                         if message not in split_ids])
            if untranslated:
                failed = True
                print(f"not ok: {language}.po leaves {len(untranslated)} messages untranslated:\n"
                      + describe(untranslated), file=sys.stderr)
            if fuzzy:
                failed = True
                print(f"not ok: {language}.po has {len(fuzzy)} fuzzy messages (changed in the source "
                      "since they were translated):\n" + describe(fuzzy), file=sys.stderr)
            if header_fuzzy:
                failed = True
                print(f"not ok: the header of {language}.po is marked fuzzy", file=sys.stderr)
            if not untranslated and not fuzzy and not header_fuzzy:
                print(f"ok: {language}.po translates all {total} messages")
    return 1 if failed else 0


def check_potfiles(args):
    root = pathlib.Path(args.source_root)
    listed = set(read_potfiles(args.potfiles))
    unlisted = []
    for folder in args.folder:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            if path.suffix in (".c", ".h"):
                marker = C_MARKER
            elif path.suffix == ".ui":
                marker = UI_MARKER
            else:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                print(f"not ok: cannot read {relative}: {error}", file=sys.stderr)
                return 1
            if marker.search(text) and relative not in listed:
                unlisted.append(relative)
    if unlisted:
        print("not ok: these files have translatable strings but po/POTFILES.in does not list them:\n"
              + "\n".join(f"    {entry}" for entry in unlisted), file=sys.stderr)
        return 1
    print(f"ok: POTFILES.in lists every file with translatable strings under {', '.join(args.folder)}")
    return 0


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)

    complete = commands.add_parser("complete", help="fail on untranslated or fuzzy messages")
    complete.add_argument("--source-root", required=True)
    complete.add_argument("--po-dir", required=True)
    complete.add_argument("--package", required=True)
    complete.set_defaults(run=check_complete)

    potfiles = commands.add_parser("potfiles", help="fail on sources missing from POTFILES.in")
    potfiles.add_argument("--source-root", required=True)
    potfiles.add_argument("--potfiles", required=True)
    potfiles.add_argument("--folder", action="append", required=True)
    potfiles.set_defaults(run=check_potfiles)

    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
