#!/usr/bin/env python3
# flatpak-builder needs the network, so the manifest cannot be built here; this
# checks what can be checked offline: that it parses, that it names the project's
# app id, command and meson options, and that every download is pinned.

import argparse
import configparser
import json
import pathlib
import re
import sys

# The codecs-extra extension that carries GStreamer's x264enc (the studio's H.264
# encoder) joined the GNOME runtime with GNOME 49 (freedesktop-sdk 25.08); GTK 4.8
# and libadwaita 1.2 arrived with GNOME 43.
MIN_GNOME_RUNTIME = 49

REQUIRED_FINISH_ARGS = [
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
    "--share=network",
    "--talk-name=org.freedesktop.secrets",
]

# Files reach the sandbox through the file chooser portal; broad access would
# defeat it.
FORBIDDEN_FINISH_ARGS = re.compile(r"^--filesystem=(host|home|/)(:.*)?$|^--socket=x11$")

SHA256 = re.compile(r"^[0-9a-f]{64}$")
GIT_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def no_duplicate_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def meson_options(path):
    """Option name -> allowed choices (None for any value) from meson_options.txt."""
    text = pathlib.Path(path).read_text(encoding="utf-8")
    options = {}
    for match in re.finditer(r"option\(\s*'([^']+)'(.*?)\)\s*$", text, re.MULTILINE | re.DOTALL):
        choices = re.search(r"choices\s*:\s*\[([^\]]*)\]", match.group(2))
        kind = re.search(r"type\s*:\s*'([^']+)'", match.group(2))
        if choices:
            options[match.group(1)] = re.findall(r"'([^']*)'", choices.group(1))
        elif kind and kind.group(1) == "boolean":
            options[match.group(1)] = ["true", "false"]
        else:
            options[match.group(1)] = None
    return options


def check_sources(module, problems):
    name = module.get("name", "?")
    for source in module.get("sources", []):
        kind = source.get("type")
        if kind in ("archive", "file"):
            url = source.get("url", "")
            if url and not url.startswith("https://"):
                problems.append(f"module {name}: {url} is not fetched over https")
            if url and not SHA256.match(source.get("sha256", "")):
                problems.append(f"module {name}: {url} has no sha256 checksum")
        elif kind == "git":
            if not GIT_COMMIT.match(source.get("commit", "")):
                problems.append(f"module {name}: the git source {source.get('url')} is not pinned to a commit")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("manifest")
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--source-root", required=True)
    parser.add_argument("--desktop-in", required=True)
    args = parser.parse_args()

    manifest_path = pathlib.Path(args.manifest)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicate_keys)
    except (OSError, ValueError) as error:
        print(f"not ok: {manifest_path} is not valid JSON: {error}", file=sys.stderr)
        return 1

    problems = []
    if manifest_path.name != args.app_id + ".json":
        problems.append(f"the manifest is named {manifest_path.name}, expected {args.app_id}.json")
    app_id = manifest.get("id", manifest.get("app-id"))
    if app_id != args.app_id:
        problems.append(f"the manifest builds {app_id!r}, expected {args.app_id!r}")

    if manifest.get("runtime") != "org.gnome.Platform" or manifest.get("sdk") != "org.gnome.Sdk":
        problems.append("the manifest must build on org.gnome.Platform with org.gnome.Sdk")
    version = str(manifest.get("runtime-version", ""))
    if not version.isdigit() or int(version) < MIN_GNOME_RUNTIME:
        problems.append(f"runtime-version {version!r} is older than GNOME {MIN_GNOME_RUNTIME}")

    desktop = configparser.RawConfigParser(interpolation=None, delimiters=("=",))
    desktop.optionxform = str
    desktop.read(args.desktop_in, encoding="utf-8")
    exec_line = desktop.get("Desktop Entry", "Exec", fallback="").split()
    if not exec_line or manifest.get("command") != exec_line[0]:
        problems.append(
            f"the manifest runs {manifest.get('command')!r} but the desktop entry runs {exec_line[:1]}"
        )

    finish_args = manifest.get("finish-args", [])
    for required in REQUIRED_FINISH_ARGS:
        if required not in finish_args:
            problems.append(f"finish-args lacks {required}")
    for granted in finish_args:
        if FORBIDDEN_FINISH_ARGS.match(granted):
            problems.append(f"finish-args grants {granted}; use the file chooser portal instead")

    modules = manifest.get("modules", [])
    if not modules or not all(isinstance(module, dict) for module in modules):
        problems.append("the modules must be inline objects")
        modules = [module for module in modules if isinstance(module, dict)]
    for module in modules:
        check_sources(module, problems)

    names = [module.get("name") for module in modules]
    if "openblas" not in names[:-1]:
        problems.append("no openblas module before the project: the GNOME SDK does not ship OpenBLAS")

    project = modules[-1] if modules else {}
    if project.get("name") != "takes" or project.get("buildsystem") != "meson":
        problems.append("the last module must build the project with meson and be named takes")
    options = meson_options(pathlib.Path(args.source_root) / "meson_options.txt")
    config_opts = project.get("config-opts", [])
    if "-Dprofile=default" not in config_opts:
        problems.append("the project module must configure -Dprofile=default")
    for option in config_opts:
        match = re.match(r"^-D([^=]+)=(.*)$", option)
        if not match:
            continue
        name, value = match.groups()
        if "." in name or name in ("buildtype", "prefix", "libdir", "b_lto", "b_ndebug", "optimization", "debug"):
            continue
        if name not in options:
            problems.append(f"config-opts sets -D{name}, which meson_options.txt does not define")
        elif options[name] is not None and value not in options[name]:
            problems.append(f"config-opts sets -D{name}={value}; allowed values are {options[name]}")
    project_sources = project.get("sources", [])
    dirs = [source for source in project_sources if source.get("type") == "dir"]
    if dirs:
        root = (manifest_path.parent / dirs[0].get("path", "")).resolve()
        if root != pathlib.Path(args.source_root).resolve():
            problems.append(f"the project source {root} is not the project root {args.source_root}")
    elif not any(source.get("type") == "git" for source in project_sources):
        problems.append("the project module has neither a dir nor a git source")

    for problem in problems:
        print(f"not ok: {problem}", file=sys.stderr)
    if not problems:
        print(f"ok: {manifest_path.name} builds {app_id} on GNOME {version} and runs {manifest.get('command')}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
