#!/usr/bin/env python3
"""Runs clang-tidy (the checks of .clang-tidy) over every source file of the
product, as the build compiles it (compile_commands.json), and fails on any
finding.

A file that passed is remembered in a cache outside the build tree
(~/.cache/meridian/clang-tidy), keyed by clang-tidy's version, the
.clang-tidy file, the compile command and the path (relative to the
checkout) and content of every project file the object depends on (ninja's
dependency log): a fresh clone of an unchanged tree is checked in seconds,
and only what a change touches is checked again.

  scripts/run_clang_tidy.py BUILD_DIR [--jobs N] [--no-cache] [FILE ...]
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# What the product is made of; tests, benchmarks and fuzzers are not tidied.
FOLDERS = ("base", "net", "dns", "geo", "health", "store", "cluster", "etcd", "config", "gslb", "admin", "tools", "main")


def dependencies(build: pathlib.Path):
    """object path -> the project files it depends on (ninja -t deps)."""
    out = subprocess.run(["ninja", "-C", str(build), "-t", "deps"], capture_output=True, text=True, check=True).stdout
    deps, current = {}, None
    for line in out.splitlines():
        if not line.strip():
            current = None
        elif not line.startswith(" "):
            current = line.split(":", 1)[0].strip()
            deps[current] = []
        elif current is not None:
            path = pathlib.Path(line.strip())
            if not path.is_absolute():
                path = (build / path).resolve()
            if ROOT in path.parents and "build" not in path.relative_to(ROOT).parts[:1]:
                deps[current].append(path)
    return deps


def cache_key(entry, deps, salt, build):
    # Paths relative to the checkout and the build folder, so that another
    # clone of the same tree (a CI run) finds what this one checked.
    digest = hashlib.sha256(salt)
    digest.update(entry["command"].replace(str(build), "@BUILD@").replace(str(ROOT), "@ROOT@").encode())
    for path in sorted(set(deps) | {pathlib.Path(entry["file"])}):
        digest.update(str(path.relative_to(ROOT)).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def tidy(entry, build):
    command = ["clang-tidy", "-p", str(build), "--quiet", entry["file"]]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    findings = [line for line in result.stdout.splitlines() if re.search(r": (warning|error):", line)]
    return result.returncode, result.stdout, findings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("build", type=pathlib.Path)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    build = args.build.resolve()
    try:
        version = subprocess.run(["clang-tidy", "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        print("run_clang_tidy: clang-tidy is not installed (scripts/install-deps.sh)", file=sys.stderr)
        return 1
    entries = json.loads((build / "compile_commands.json").read_text())
    wanted = {str((ROOT / f).resolve()) for f in args.files}
    selected = []
    for entry in entries:
        file = pathlib.Path(entry["file"]).resolve()
        relative = file.relative_to(ROOT).parts if ROOT in file.parents else ()
        if not relative or relative[0] not in FOLDERS or file.suffix != ".cpp":
            continue
        if wanted and str(file) not in wanted:
            continue
        entry["file"] = str(file)
        selected.append(entry)
    deps = dependencies(build)
    salt = (version + (ROOT / ".clang-tidy").read_text()).encode()
    cache = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "meridian" / "clang-tidy"
    cache.mkdir(parents=True, exist_ok=True)

    todo = []
    for entry in selected:
        output = entry.get("output") or shlex.split(entry["command"])[shlex.split(entry["command"]).index("-o") + 1]
        key = cache_key(entry, deps.get(output, []), salt, build)
        if not args.no_cache and (cache / key).exists():
            continue
        todo.append((entry, key))
    print(f"run_clang_tidy: {len(selected)} files, {len(selected) - len(todo)} unchanged since they passed, "
          f"checking {len(todo)} with {args.jobs} job(s)", flush=True)
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(tidy, entry, build): (entry, key) for entry, key in todo}
        for future in concurrent.futures.as_completed(futures):
            entry, key = futures[future]
            code, output, findings = future.result()
            relative = pathlib.Path(entry["file"]).relative_to(ROOT)
            if code == 0 and not findings:
                (cache / key).write_text("ok\n")
                continue
            failed += 1
            print(f"--- {relative}: {len(findings)} finding(s)\n{output}", flush=True)
    if failed:
        print(f"run_clang_tidy: {failed} file(s) with findings", file=sys.stderr)
        return 1
    print("run_clang_tidy: clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
