"""The compiled JSON parser gives exactly botocore's parse, for every response shape smi reads."""

from __future__ import annotations

import base64
import json
import random
from datetime import datetime
from typing import Any

import botocore.session
import pytest
from botocore.parsers import JSONParser
from model_responses import response_for_shape

from sagemaker_inventory.parsing import CompiledJSONParser, CompiledParserFactory
from sagemaker_inventory.sessions import SessionFactory, parse_utc_timestamp

OPERATIONS = [
    ("sagemaker", "DescribeTrainingJob"),
    ("sagemaker", "ListTrainingJobs"),
    ("sagemaker", "ListTags"),
    ("resourcegroupstaggingapi", "GetResources"),
    ("organizations", "ListAccounts"),
]


def wire(value: Any) -> Any:
    """What the service sends: timestamps as epoch seconds, blobs as base64."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def http_response(body: Any) -> dict[str, Any]:
    headers = {"x-amzn-requestid": "req-1", "content-type": "application/x-amz-json-1.1"}
    return {"body": json.dumps(body, default=wire).encode(), "headers": headers, "status_code": 200}


@pytest.mark.parametrize(("service", "operation"), OPERATIONS)
@pytest.mark.parametrize("presence", [1.0, 0.5, 0.1])
def test_the_compiled_parse_is_botocores(service: str, operation: str, presence: float) -> None:
    shape = botocore.session.get_session().get_service_model(service)
    output = shape.operation_model(operation).output_shape
    theirs = JSONParser(timestamp_parser=parse_utc_timestamp)
    ours = CompiledJSONParser(timestamp_parser=parse_utc_timestamp)
    for seed in range(4):
        body = response_for_shape(output, random.Random(seed), presence=presence)
        response = http_response(body)
        assert ours.parse(response, output) == theirs.parse(response, output)


def test_nulls_are_parsed_as_botocore_parses_them() -> None:
    """Members sent as null are dropped, list elements sent as null are kept."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    output = model.operation_model("DescribeTrainingJob").output_shape
    body = {
        "TrainingJobName": "a",
        "FailureReason": None,
        "SecondaryStatusTransitions": [None, {"Status": "Starting", "StartTime": 1.5}],
        "HyperParameters": {"MaxDepth": "6"},
        "ResourceConfig": None,
    }
    response = http_response(body)
    expected = JSONParser(timestamp_parser=parse_utc_timestamp).parse(response, output)
    assert (
        CompiledJSONParser(timestamp_parser=parse_utc_timestamp).parse(response, output) == expected
    )
    assert expected["SecondaryStatusTransitions"][0] is None and "FailureReason" not in expected


def test_the_clients_smi_builds_parse_with_the_compiled_parser() -> None:
    factory = SessionFactory()
    session = factory.session(None)
    assert isinstance(
        session._session.get_component("response_parser_factory"), CompiledParserFactory
    )
    parser = session._session.get_component("response_parser_factory").create_parser("json")
    assert isinstance(parser, CompiledJSONParser)
