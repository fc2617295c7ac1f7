"""Print each built function's size as Lambda receives it: zipped, and unzipped.

Usage: python3 tools/function-sizes.py [--json] [DIR]

DIR is `sam build`'s output (.aws-sam/build, the default: one folder per function,
named `...Function`) or cargo-lambda's (`--lambda-dir`: one folder per binary, each
holding a `bootstrap`). With --json, one object by function name, sizes in bytes.
"""

import io
import json
import os
import sys
import zipfile


def sizes(directory):
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, _, files in os.walk(directory):
            for name in sorted(files):
                path = os.path.join(root, name)
                unzipped += os.path.getsize(path)
                archive.write(path, os.path.relpath(path, directory))
    return len(buffer.getvalue()), unzipped


def functions(build_dir):
    for entry in sorted(os.listdir(build_dir)):
        path = os.path.join(build_dir, entry)
        if os.path.isdir(path) and (
            entry.endswith("Function") or os.path.isfile(os.path.join(path, "bootstrap"))
        ):
            yield entry, path


def main(args):
    as_json = "--json" in args
    rest = [a for a in args if a != "--json"]
    build_dir = rest[0] if rest else ".aws-sam/build"
    found = {name: sizes(path) for name, path in functions(build_dir)}
    if not found:
        print(f"no function folders in {build_dir}", file=sys.stderr)
        sys.exit(1)
    if as_json:
        print(json.dumps({n: {"zipped": z, "unzipped": u} for n, (z, u) in found.items()}))
        return
    for name, (zipped, unzipped) in found.items():
        print(f"  {name:<28} {zipped / 1e6:6.2f} MB zipped   {unzipped / 1e6:6.2f} MB unzipped")


if __name__ == "__main__":
    main(sys.argv[1:])
