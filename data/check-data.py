#!/usr/bin/env python3
# Checks for the files in data/ that their own validators do not cover: icon
# structure, schema documentation, AppStream findings below error level, and that
# the desktop file and the metainfo agree with each other and carry translations.
# Each subcommand prints what is wrong and exits 1.

import argparse
import configparser
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def fail(problems):
    for problem in problems:
        print(f"not ok: {problem}", file=sys.stderr)
    return 1 if problems else 0


def parse_xml(path):
    try:
        return ET.parse(path).getroot(), None
    except ET.ParseError as error:
        return None, f"{path} is not well-formed XML: {error}"
    except OSError as error:
        return None, f"cannot read {path}: {error.strerror}"


def paints(element):
    """Colours an SVG element paints with, from attributes and inline style."""
    found = []
    for attribute in ("fill", "stroke", "stop-color"):
        if attribute in element.attrib:
            found.append(element.attrib[attribute])
    for declaration in element.attrib.get("style", "").split(";"):
        name, _, value = declaration.partition(":")
        if name.strip() in ("fill", "stroke", "stop-color"):
            found.append(value.strip())
    return found


def check_icon(args):
    root, error = parse_xml(args.file)
    if error:
        return fail([error])
    problems = []
    if root.tag != SVG_NS + "svg":
        problems.append(f"{args.file}: the root element is {root.tag}, not an SVG <svg>")
    size = str(args.size)
    for attribute in ("width", "height"):
        if root.get(attribute) != size:
            problems.append(f"{args.file}: {attribute} is {root.get(attribute)!r}, expected {size!r}")
    if (root.get("viewBox") or "").split() != ["0", "0", size, size]:
        problems.append(f"{args.file}: viewBox is {root.get('viewBox')!r}, expected '0 0 {size} {size}'")

    # Icons are drawn by librsvg in a sandbox-free, offline context: anything they
    # load from elsewhere would be missing or a privacy leak.
    for element in root.iter():
        tag = element.tag.replace(SVG_NS, "")
        if tag in ("script", "image", "foreignObject"):
            problems.append(f"{args.file}: contains a <{tag}> element")
        href = element.get(XLINK_HREF) or element.get("href") or ""
        if href and not href.startswith("#"):
            problems.append(f"{args.file}: <{tag}> refers to an outside resource {href!r}")

    colours = set()
    for element in root.iter():
        for paint in paints(element):
            if paint not in ("none",) and not paint.startswith("url(#"):
                colours.add(paint.lower())
    if args.symbolic:
        # GTK recolours symbolic icons by replacing one foreground colour; a second
        # colour would stay fixed and clash with the theme.
        if len(colours) != 1:
            problems.append(f"{args.file}: a symbolic icon must use one colour, found {sorted(colours)}")
        if root.find(f".//{SVG_NS}linearGradient") is not None or root.find(f".//{SVG_NS}radialGradient") is not None:
            problems.append(f"{args.file}: a symbolic icon must not use gradients")
    elif len(colours) < 2:
        problems.append(f"{args.file}: a full-colour app icon should use more than one colour")
    return fail(problems)


SECRET_WORDS = re.compile(r"(password|secret|token|api-?key|credential)", re.IGNORECASE)


def check_schema(args):
    root, error = parse_xml(args.file)
    if error:
        return fail([error])
    problems = []
    if root.get("gettext-domain") != args.gettext_domain:
        problems.append(
            f"{args.file}: <schemalist gettext-domain> is {root.get('gettext-domain')!r}, "
            f"expected {args.gettext_domain!r} so summaries are translated at run time"
        )
    schemas = root.findall("schema")
    if not any(schema.get("path") == args.path for schema in schemas):
        problems.append(f"{args.file}: no schema has the path {args.path}")
    keys = 0
    for schema in schemas:
        for key in schema.findall("key"):
            keys += 1
            name = key.get("name")
            for child in ("summary", "description"):
                text = key.findtext(child)
                if text is None or not text.strip():
                    problems.append(f"{args.file}: key {name} has no {child}")
                elif child == "description" and not text.strip().endswith("."):
                    problems.append(f"{args.file}: the description of key {name} is not a full sentence")
            if SECRET_WORDS.search(name):
                problems.append(f"{args.file}: key {name} looks like a secret; secrets belong in the keyring")
    if keys == 0:
        problems.append(f"{args.file}: the schema has no keys")
    return fail(problems)


FINDING = re.compile(r"^([EWIP]): ([^:]*):(?:(\d+):)? (\S+)(?: (.*))?$")


def appstream_version():
    output = subprocess.run(["appstreamcli", "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)\.(\d+)", output)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def check_metainfo(args):
    run = subprocess.run(
        ["appstreamcli", "validate", "--no-net", "--pedantic", args.file],
        capture_output=True,
        text=True,
    )
    print(run.stdout, end="")
    print(run.stderr, end="", file=sys.stderr)
    # The <developer> element replaced <developer_name> in AppStream 1.0; older
    # validators, such as Debian 12's 0.16, report it as an unknown tag.
    tolerated = {("unknown-tag", "developer")} if appstream_version() < (1, 0) else set()
    problems = []
    for line in run.stdout.splitlines():
        match = FINDING.match(line.strip())
        if not match:
            continue
        severity, _, _, tag, hint = match.groups()
        if severity == "P" or (tag, hint) in tolerated:
            continue
        problems.append(f"appstreamcli reports: {line.strip()}")
    if run.returncode != 0 and not problems:
        problems.append(f"appstreamcli validate failed with exit status {run.returncode}")
    return fail(problems)


def read_desktop(path):
    parser = configparser.RawConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    with open(path, encoding="utf-8") as file:
        parser.read_file(file)
    return parser["Desktop Entry"]


def check_installed_pair(args):
    problems = []
    try:
        entry = read_desktop(args.desktop)
    except (OSError, configparser.Error, KeyError) as error:
        return fail([f"cannot read the desktop entry {args.desktop}: {error}"])
    root, error = parse_xml(args.metainfo)
    if error:
        return fail([error])

    if entry.get("Icon") != args.app_id:
        problems.append(f"the desktop entry's Icon is {entry.get('Icon')!r}, expected {args.app_id!r}")
    command = (entry.get("Exec") or "").split()
    binaries = [binary.text for binary in root.findall("provides/binary")]
    if not command or command[0] not in binaries:
        problems.append(f"the desktop entry runs {command[:1]}, which the metainfo does not provide ({binaries})")
    for binary in args.binary:
        if binary not in binaries:
            problems.append(f"the metainfo does not list the binary {binary}")

    if root.findtext("id") != args.app_id:
        problems.append(f"the metainfo id is {root.findtext('id')!r}, expected {args.app_id!r}")
    launchable = root.find("launchable[@type='desktop-id']")
    if launchable is None or launchable.text != args.app_id + ".desktop":
        problems.append(f"the metainfo does not launch {args.app_id}.desktop")

    for key in ("Name", "GenericName", "Comment", "Keywords"):
        if f"{key}[{args.language}]" not in entry:
            problems.append(f"the desktop entry has no {args.language} translation of {key}")
    keywords = entry.get(f"Keywords[{args.language}]", "")
    if keywords and not keywords.endswith(";"):
        problems.append(f"the {args.language} keywords do not end with a semicolon: {keywords!r}")
    for tag in ("summary", "description/p", "description/ul/li", "releases/release/description/p"):
        elements = root.findall(tag)
        source = sum(1 for element in elements if element.get(XML_LANG) is None)
        translated = sum(1 for element in elements if element.get(XML_LANG) == args.language)
        if translated != source:
            problems.append(f"the metainfo has {translated} {args.language} translations of its {source} <{tag}>")
    return fail(problems)


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)

    icon = commands.add_parser("icon", help="check an SVG icon")
    icon.add_argument("file")
    icon.add_argument("--size", type=int, required=True)
    icon.add_argument("--symbolic", action="store_true")
    icon.set_defaults(run=check_icon)

    schema = commands.add_parser("schema", help="check that every settings key is documented")
    schema.add_argument("file")
    schema.add_argument("--gettext-domain", required=True)
    schema.add_argument("--path", required=True)
    schema.set_defaults(run=check_schema)

    metainfo = commands.add_parser("metainfo", help="run appstreamcli and fail on any finding above pedantic")
    metainfo.add_argument("file")
    metainfo.set_defaults(run=check_metainfo)

    pair = commands.add_parser("desktop-metainfo", help="check the built desktop entry and metainfo together")
    pair.add_argument("--desktop", required=True)
    pair.add_argument("--metainfo", required=True)
    pair.add_argument("--app-id", required=True)
    pair.add_argument("--binary", action="append", default=[])
    pair.add_argument("--language", required=True)
    pair.set_defaults(run=check_installed_pair)

    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
