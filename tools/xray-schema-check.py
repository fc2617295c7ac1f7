#!/usr/bin/env python3
"""Checks X-Ray segment documents against AWS's segment document schema.

Usage: xray-schema-check.py SCHEMA < DOCUMENTS

DOCUMENTS is a JSON array of segment or subsegment documents, as the daemon receives
them (without the daemon's header line). Every document is held to the schema's
segment rules; one sent on its own as a subsegment (`"type": "subsegment"`) also to
its subsegment definition, which names the fields only a subsegment has
(`namespace`, `precursor_ids`, `sql`…). Prints one line per violation, naming the
document's index and name and the path inside it, and exits 1 if there was any; 0 when
every document is valid; 2 when the input or the schema cannot be read.

The tests run it with the project's virtual environment (.venv), where jsonschema
comes pinned with moto.
"""

import json
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("jsonschema is missing: run `make .venv` (it comes with moto)", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        documents = json.load(sys.stdin)
    except (OSError, ValueError) as error:
        print(f"cannot read the input: {error}", file=sys.stderr)
        return 2
    if not isinstance(documents, list):
        print("the input must be a JSON array of documents", file=sys.stderr)
        return 2
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    segment = validator_class(schema)
    subsegment = validator_class(
        {
            "$schema": schema.get("$schema"),
            "definitions": schema["definitions"],
            "allOf": [{"$ref": "#/definitions/subsegment"}],
        }
    )
    violations = 0
    for index, document in enumerate(documents):
        name = document.get("name") if isinstance(document, dict) else None
        errors = list(segment.iter_errors(document))
        if isinstance(document, dict) and document.get("type") == "subsegment":
            errors += subsegment.iter_errors(document)
        seen = set()
        for error in sorted(errors, key=lambda e: [str(p) for p in e.path]):
            path = "/".join(str(p) for p in error.path) or "(document)"
            if error.validator == "pattern":
                message = f"{error.instance!r} does not match the schema's pattern"
            else:
                message = error.message[:300]
            if (path, message) in seen:
                continue  # both definitions say it
            seen.add((path, message))
            violations += 1
            print(f"document {index} ({name!r}): {path}: {message}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
