#!/usr/bin/env python3
"""Checks that every source file includes only the folders its folder may use.

The allowed graph is written once, in docs/architecture.md, as the fenced
block tagged `layering`: one line per folder, "folder: what it may use"
(a folder may always use itself). A folder is a top-level source folder, or
a sub-folder that is a library of its own (dns/wire). This script reads the
graph from there, so the document and the check cannot disagree.

  scripts/check_layering.py [--root DIR] [--plant FILE:INCLUDE]

--plant pretends FILE also includes INCLUDE (for the test that shows the
check fails on an upward include). Exit 0 when every include is allowed,
1 with one line per violation, 2 when the graph cannot be read.
"""

import argparse
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
SOURCE_SUFFIXES = {".hpp", ".cpp", ".h", ".cc"}


def read_graph(architecture: pathlib.Path):
    text = architecture.read_text(encoding="utf-8")
    block = re.search(r"^```layering\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    if not block:
        raise ValueError(f"{architecture}: no ```layering block")
    graph = {}
    for number, line in enumerate(block.group(1).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if ":" not in line:
            raise ValueError(f"{architecture}: layering line {number}: expected 'folder: uses ...', found {line!r}")
        folder, uses = line.split(":", 1)
        folder = folder.strip()
        if folder in graph:
            raise ValueError(f"{architecture}: layering line {number}: {folder} given twice")
        graph[folder] = set(uses.split())
    for folder, uses in graph.items():
        for used in uses:
            if used not in graph:
                raise ValueError(f"{architecture}: {folder} may use {used}, which the graph does not list")
    return graph


def folder_of(path: str, graph) -> str:
    """The most specific folder of the graph that `path` (relative) lies in."""
    parts = path.split("/")
    for length in range(len(parts) - 1, 0, -1):
        candidate = "/".join(parts[:length])
        if candidate in graph:
            return candidate
    return ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent, type=pathlib.Path)
    parser.add_argument("--plant", action="append", default=[], help="FILE:INCLUDE, a pretended include")
    args = parser.parse_args()
    root: pathlib.Path = args.root
    try:
        graph = read_graph(root / "docs" / "architecture.md")
    except (OSError, ValueError) as error:
        print(f"check_layering: {error}", file=sys.stderr)
        return 2
    planted = {}
    for plant in args.plant:
        file, _, include = plant.partition(":")
        planted.setdefault(file, []).append(include)

    violations = []
    checked = 0
    for top in sorted({folder.split("/")[0] for folder in graph}):
        base = root / top
        if not base.is_dir():
            violations.append(f"{top}/: in the layering graph but not in the tree")
            continue
        for file in sorted(base.rglob("*")):
            if file.suffix not in SOURCE_SUFFIXES or "node_modules" in file.parts:
                continue
            relative = file.relative_to(root).as_posix()
            own = folder_of(relative, graph)
            if not own:
                continue
            checked += 1
            includes = INCLUDE.findall(file.read_text(encoding="utf-8", errors="replace"))
            includes += planted.get(relative, [])
            for include in includes:
                target = folder_of(include, graph)
                if not target or target == own or target in graph[own]:
                    continue
                violations.append(f"{relative}: includes {include}, but {own} may not use {target} "
                                  f"(docs/architecture.md: {own}: {' '.join(sorted(graph[own])) or '-'})")
    for violation in violations:
        print(violation)
    if violations:
        print(f"check_layering: {len(violations)} include(s) against the layering graph", file=sys.stderr)
        return 1
    print(f"check_layering: {checked} files follow the layering graph")
    return 0


if __name__ == "__main__":
    sys.exit(main())
