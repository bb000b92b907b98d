"""Responses are parsed by botocore's own parser, with UTC timestamps, into the records the
as-sent path made before (issue 19 removed smi's own parser and describe path)."""

from __future__ import annotations

import json
import random
from datetime import timezone
from typing import Any

import pytest
from botocore.parsers import ResponseParserFactory
from model_responses import response_for_shape, wire

from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.records.shape import describe_output_shape, to_record

KEYS: dict[str, Any] = {"account_id": "111111111111", "tags": ["b:2", "a:1"]}


def http_response(body: Any) -> dict[str, Any]:
    headers = {"x-amzn-requestid": "req-1", "content-type": "application/x-amz-json-1.1"}
    return {"body": json.dumps(body, default=wire).encode(), "headers": headers, "status_code": 200}


def session_parser() -> Any:
    factory = SessionFactory().session(None).get_component("response_parser_factory")
    assert type(factory) is ResponseParserFactory  # botocore's own, only its defaults set
    return factory.create_parser("json")


def test_timestamps_are_parsed_into_utc_datetimes() -> None:
    output = describe_output_shape()
    body = {"TrainingJobName": "a", "CreationTime": 1700000000.25, "HyperParameters": {"K": "v"}}
    parsed = session_parser().parse(http_response(body), output)
    assert parsed["CreationTime"].tzinfo is timezone.utc
    assert parsed["CreationTime"].timestamp() == 1700000000.25


@pytest.mark.parametrize("all_fields", [False, True])
@pytest.mark.parametrize("presence", [1.0, 0.5, 0.1])
def test_records_from_botocores_parse_are_those_the_document_as_sent_made(
    presence: float, all_fields: bool
) -> None:
    """The describe path before issue 19 converted the JSON document as sent (epoch seconds):
    the same job makes the same record, byte for byte, from botocore's parse."""
    output = describe_output_shape()
    parser = session_parser()
    for seed in range(4):
        body = response_for_shape(output, random.Random(seed), presence=presence)
        as_sent = json.loads(json.dumps(body, default=wire))
        parsed = parser.parse(http_response(body), output)
        before = to_record(as_sent, **KEYS, all_fields=all_fields)
        assert json.dumps(to_record(parsed, **KEYS, all_fields=all_fields)) == json.dumps(before)
