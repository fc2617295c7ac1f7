"""boto3 against the local stack's Lambda API: the calls a deployer's scripts make.

Usage: lambda_api_boto3.py STACK_URL FUNCTION_NAME. Exits non-zero on the first
answer that is not what AWS would give; leaves `live` on version 1 with half of
the invocations on version 2.
"""

import json
import sys
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

url, name = sys.argv[1], sys.argv[2]
lambda_ = boto3.client(
    "lambda",
    endpoint_url=url,
    region_name="eu-west-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]
    raise AssertionError(f"{call.__name__} succeeded")


names = [f["FunctionName"] for f in lambda_.list_functions()["Functions"]]
assert name in names, names

alias = lambda_.get_alias(FunctionName=name, Name="live")
assert alias["FunctionVersion"] == "1", alias

config = lambda_.get_function_configuration(FunctionName=name)
variables = dict(config["Environment"]["Variables"], RELEASE_MARK="boto3")
lambda_.update_function_configuration(
    FunctionName=name, Environment={"Variables": variables}
)
published = lambda_.publish_version(FunctionName=name, Description="from boto3")
assert published["Version"] == "2", published
assert published["Description"] == "from boto3", published

versions = lambda_.list_versions_by_function(FunctionName=name)["Versions"]
assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"], versions

updated = lambda_.update_alias(
    FunctionName=name,
    Name="live",
    RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
)
assert updated["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.5}, updated

event = (Path(__file__).resolve().parents[3] / "events/status/get-status.json").read_bytes()
answer = lambda_.invoke(FunctionName=name, Qualifier="2", Payload=event)
assert answer["ExecutedVersion"] == "2", answer
assert "FunctionError" not in answer, answer
assert json.loads(answer["Payload"].read())["statusCode"] == 200

assert error_code(lambda_.delete_function, FunctionName=name, Qualifier="1") == (
    "ResourceConflictException"
)
assert error_code(lambda_.get_alias, FunctionName=name, Name="nope") == (
    "ResourceNotFoundException"
)
tags = lambda_.list_tags(Resource=config["FunctionArn"])["Tags"]
assert tags["aws:cloudformation:logical-id"] == "StatusFunction", tags
print("boto3: every call answered as AWS answers it")
