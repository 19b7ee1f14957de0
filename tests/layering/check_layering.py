#!/usr/bin/env python3
"""Fails when a module includes a module above it (or a peer it may not use).

Modules are the directories under src/ and include/tagsmith/. A module may
include headers of modules in strictly lower layers only, plus the explicit
exceptions below; anything else is a wrong-way arrow. The table mirrors the
link dependencies in src/*/CMakeLists.txt: keep the two in step.

Usage: check_layering.py SOURCE_ROOT      check the tree, exit 1 on a violation
       check_layering.py --self-test     show the check catches what it should
"""
import os
import re
import sys
import tempfile

# Low to high. Within a layer modules are peers and may not include each other.
LAYERS = [
    ["common"],
    ["store", "image"],  # store persists colour records from common, never image
    ["library", "taxonomy"],  # library: the Store plus thumbnails and palette
    ["tagging"],
    ["vision"],
    ["ingest", "review", "training"],
    ["search", "eval"],  # search uses ingest's embedder; eval runs training
    ["app"],
    ["server"],
    ["cli"],
]

# (module, lower module) -> the only headers of the lower module it may use.
# vision provides scores to tagging and needs only that interface, not the
# tag service with everything it includes.
ONLY_THROUGH = {
    ("vision", "tagging"): {"tagging/score_provider.h"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]tagsmith/([A-Za-z0-9_]+)/([^>"]+)[>"]')
# "../other_module/x.h" from src/<module>/ reaches into another module's privates.
RELATIVE = re.compile(r'^\s*#\s*include\s*"\.\./([A-Za-z0-9_]+)/([^"]+)"')
SOURCE_SUFFIXES = (".h", ".hpp", ".cpp", ".cc", ".inl")


def layer_of():
    return {m: i for i, layer in enumerate(LAYERS) for m in layer}


def module_files(root):
    """Yields (module, path) for every source file of every module."""
    for base in ("src", os.path.join("include", "tagsmith")):
        top = os.path.join(root, base)
        if not os.path.isdir(top):
            continue
        for module in sorted(os.listdir(top)):
            mdir = os.path.join(top, module)
            if not os.path.isdir(mdir):
                continue
            for dirpath, _, files in os.walk(mdir):
                for f in sorted(files):
                    if f.endswith(SOURCE_SUFFIXES):
                        yield module, os.path.join(dirpath, f)


def check(root):
    """Returns a list of messages, one per violation."""
    layers = layer_of()
    problems = []
    seen_unknown = set()
    for module, path in module_files(root):
        rel = os.path.relpath(path, root)
        if module not in layers:
            if module not in seen_unknown:
                seen_unknown.add(module)
                problems.append(f"{rel}: module '{module}' is not in the layer table of "
                                f"tests/layering/check_layering.py; add it to LAYERS")
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line) or (RELATIVE.match(line) if rel.startswith("src") else None)
                if not m:
                    continue
                target, header = m.group(1), f"{m.group(1)}/{m.group(2)}"
                if target == module or target not in layers:
                    continue  # own headers; generated or third-party paths
                include = line.strip()
                if layers[target] >= layers[module]:
                    where = "above" if layers[target] > layers[module] else "beside"
                    problems.append(f"{rel}:{number}: {module} may not include {header}, "
                                    f"a module {where} it: {include}")
                elif (module, target) in ONLY_THROUGH and header not in ONLY_THROUGH[(module, target)]:
                    allowed = ", ".join(sorted(ONLY_THROUGH[(module, target)]))
                    problems.append(f"{rel}:{number}: {module} may use {target} only through "
                                    f"{allowed}, not {header}: {include}")
    return problems


def self_test():
    """The check must flag each kind of wrong-way arrow and pass a clean tree."""
    cases = {
        "include/tagsmith/store/records.h": '#include "tagsmith/image/colour.h"\n',
        "src/vision/zero_shot.cpp": '#include "tagsmith/tagging/service.h"\n',
        "src/common/files.cpp": "#include <tagsmith/cli/run.h>\n",
        "src/image/x.cpp": '#include "../store/sqlite_schema.h"\n',
    }
    allowed = {
        "src/vision/ok.cpp": '#include "tagsmith/tagging/score_provider.h"\n'
                             '#include "tagsmith/common/error.h"\n',
        "src/store/ok.cpp": '#include "tagsmith/common/colour_record.h"\n#include "sqlite_roles.h"\n',
        "src/cli/ok.cpp": '#include "tagsmith/server/server.h"\n',
    }
    failures = []
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("// test\n" + text)
        for rel, text in allowed.items():
            write(rel, text)
        if check(root):
            failures.append(f"a clean tree was flagged: {check(root)}")
        for rel, text in cases.items():
            write(rel, text)
            found = [p for p in check(root) if p.startswith(rel + ":2:")]
            if not found:
                failures.append(f"not flagged: {rel}: {text.strip()}")
            os.remove(os.path.join(root, rel))
    for f in failures:
        print("self-test:", f)
    return 1 if failures else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2:
        print(__doc__)
        return 2
    problems = check(argv[1])
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) against the module layering "
              f"(tests/layering/check_layering.py)")
        return 1
    print("module layering: no wrong-way includes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
