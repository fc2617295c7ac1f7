"""Translate template.yaml through the SAM transform, offline, and print the result.

The cfn-guard rules in policies/ run on what CloudFormation will see, so Globals and
the resources SAM generates (roles, aliases, deployment groups) are checked too.
CodeUri is replaced by a placeholder S3 URI (the transform requires one, as after
`sam package`), and managed policies are left as ARNs (no IAM call is made).
"""

import json
import sys

from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform


class NoIamLookups:
    """A managed-policy loader that asks IAM nothing: policies stay as ARNs."""

    def load(self):
        return {}


def main(path):
    with open(path, encoding="utf-8") as source:
        template = yaml_parse(source.read())
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://placeholder-bucket/code.zip"
    json.dump(transform(template, {}, NoIamLookups()), sys.stdout, indent=1, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "template.yaml")
