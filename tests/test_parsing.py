"""The compiled JSON parser gives exactly botocore's parse, for every response shape smi reads."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import botocore.session
import pytest
from botocore.parsers import JSONParser
from model_responses import response_for_shape, wire

from sagemaker_inventory.aws.fetch import DESCRIBE_OUTPUT_SHAPE
from sagemaker_inventory.aws.parsing import (
    CompiledJSONParser,
    CompiledParserFactory,
    _shape_map_of,
    reads_as_sent,
)
from sagemaker_inventory.aws.sessions import SessionFactory, parse_utc_timestamp
from sagemaker_inventory.collect.scopes import AccountSource
from sagemaker_inventory.records.shape import to_record

OPERATIONS = [
    ("sagemaker", "DescribeTrainingJob"),
    ("sagemaker", "ListTrainingJobs"),
    ("sagemaker", "ListTags"),
    ("resourcegroupstaggingapi", "GetResources"),
    ("organizations", "ListAccounts"),
]


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
    assert isinstance(session.get_component("response_parser_factory"), CompiledParserFactory)
    parser = session.get_component("response_parser_factory").create_parser("json")
    assert isinstance(parser, CompiledJSONParser)


def test_clients_of_every_session_share_one_compiled_converter_per_output_shape() -> None:
    """Regression: each client recompiled DescribeTrainingJob's parser (new shape objects per
    client), a tenth of an organization run's CPU per account x region."""
    factory = SessionFactory()
    role = AccountSource(role_arn="arn:aws:iam::111111111111:role/R", account_id="1" * 12)
    clients = [
        factory.client(factory.session(None), "sagemaker", "us-east-1"),
        factory.client(factory.session_for(role), "sagemaker", "eu-west-1"),
    ]
    shapes = [
        c.meta.service_model.operation_model("ListTrainingJobs").output_shape for c in clients
    ]
    assert shapes[0] is not shapes[1]
    parsers = {id(factory_of(c)) for c in clients}
    assert len(parsers) == 1
    for client, shape in zip(clients, shapes, strict=True):
        body = response_for_shape(shape, random.Random(7), presence=1.0)
        theirs = JSONParser(timestamp_parser=parse_utc_timestamp).parse(http_response(body), shape)
        parser = factory_of(client).create_parser("json")
        assert parser.parse(http_response(body), shape) == theirs

    def must_not_compile(shape: Any) -> Any:
        raise AssertionError(f"{shape.name} compiled again")

    compiled = factory_of(clients[0])._compiled
    first = compiled.get(shapes[0], must_not_compile)
    assert first is not None and compiled.get(shapes[1], must_not_compile) is first


def test_member_shapes_with_traits_of_their_own_are_not_kept_by_name() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    output = model.operation_model("DescribeTrainingJob").output_shape
    assert _shape_map_of(output) is not None
    member = output.members["ResourceConfig"]
    assert _shape_map_of(member) is None  # its reference carries documentation: a copied entry


def factory_of(client: Any) -> Any:
    return client._endpoint._response_parser_factory


def describe_output() -> Any:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("DescribeTrainingJob").output_shape


@pytest.mark.parametrize("all_fields", [False, True])
@pytest.mark.parametrize("presence", [1.0, 0.5, 0.1])
def test_describe_responses_as_sent_make_the_records_botocores_parse_makes(
    presence: float, all_fields: bool
) -> None:
    output = describe_output()
    assert output.name == DESCRIBE_OUTPUT_SHAPE
    theirs = JSONParser(timestamp_parser=parse_utc_timestamp)
    ours = SessionFactory().session(None).get_component("response_parser_factory")
    for seed in range(4):
        body = response_for_shape(output, random.Random(seed), presence=presence)
        as_sent = ours.create_parser("json").parse(http_response(body), output)
        parsed = theirs.parse(http_response(body), output)
        assert as_sent == {**json.loads(json.dumps(body, default=wire)), **as_sent}
        if "CreationTime" in body:
            assert isinstance(as_sent["CreationTime"], float)
        keys: dict[str, Any] = {"account_id": "111111111111", "tags": ["b:2", "a:1"]}
        assert to_record(as_sent, **keys, all_fields=all_fields) == to_record(
            parsed, **keys, all_fields=all_fields
        )


def test_only_shapes_botocore_would_change_no_more_than_timestamps_of_are_read_as_sent() -> None:
    assert reads_as_sent(describe_output())
    model = botocore.session.get_session()
    blobs = model.get_service_model("kms").operation_model("Encrypt").output_shape
    assert not reads_as_sent(blobs)  # CiphertextBlob is base64 on the wire
    renamed = model.get_service_model("dynamodb").operation_model("GetItem").output_shape
    assert not reads_as_sent(renamed)  # AttributeValue is a tagged union
    parser = CompiledJSONParser(
        timestamp_parser=parse_utc_timestamp, as_sent=frozenset({blobs.name})
    )
    body = {"CiphertextBlob": base64.b64encode(b"secret").decode(), "KeyId": "k"}
    assert parser.parse(http_response(body), blobs)["CiphertextBlob"] == b"secret"
