"""Print each built function's size as Lambda receives it: zipped, and unzipped.

Usage: python3 tools/function-sizes.py .aws-sam/build
"""

import io
import os
import sys
import zipfile


def sizes(directory):
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for root, _, files in os.walk(directory):
            for name in files:
                path = os.path.join(root, name)
                unzipped += os.path.getsize(path)
                archive.write(path, os.path.relpath(path, directory))
    return len(buffer.getvalue()), unzipped


def main(build_dir):
    for entry in sorted(os.listdir(build_dir)):
        path = os.path.join(build_dir, entry)
        if os.path.isdir(path) and entry.endswith("Function"):
            zipped, unzipped = sizes(path)
            print(f"  {entry:<28} {zipped / 1e6:6.2f} MB zipped   {unzipped / 1e6:6.2f} MB unzipped")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")
