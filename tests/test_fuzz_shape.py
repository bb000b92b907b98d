"""Property tests: to_record on DescribeTrainingJob responses drawn from botocore's service model.

Two generators: `response_for_shape` (realistic values, as the shape tests use) driven by drawn
seeds and presence, and hypothesis strategies built from the model itself (any text, any map key,
integers at the model's bounds, timestamps in any offset, empty lists and maps). Either way the
conversion must not crash, must give a record that validates against `smi schema` (the documented
schema, or the open one with all_fields), must survive a JSON round trip, and its redacted form
must validate too.
"""

from __future__ import annotations

import functools
import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from model_responses import response_for_shape

from sagemaker_inventory.records.redaction import RedactionRules, redact
from sagemaker_inventory.records.schema import record_schema
from sagemaker_inventory.records.shape import describe_output_shape, record_fields, to_record

ACCOUNT = "123456789012"
OFFSETS = st.sampled_from(
    [None, timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-7))]
)
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def validator(all_fields: bool) -> Draft202012Validator:
    schema = record_schema(all_fields=all_fields)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def check(response: dict[str, Any], tags: list[str], all_fields: bool) -> None:
    record = to_record(response, account_id=ACCOUNT, tags=tags, all_fields=all_fields)
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator(all_fields).iter_errors(record)
    ]
    assert errors == []
    assert json.loads(json.dumps(record)) == record
    assert record["tags"] == sorted(tags)
    order = [f.name for f in record_fields(all_fields=all_fields)]
    assert list(record) == [name for name in order if name in record]  # documented order
    for f in record_fields(all_fields=all_fields):
        if f.provider_name is not None:  # present in the record exactly when in the response
            assert (f.name in record) == (response.get(f.provider_name) is not None), f.name
    assert validator(all_fields).is_valid(redact(record, RedactionRules()))


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    presence=st.floats(0.0, 1.0),
    all_fields=st.booleans(),
    tags=st.lists(st.text(max_size=12), max_size=3),
)
def test_model_generated_responses_convert_to_valid_records(
    seed: int, presence: float, all_fields: bool, tags: list[str]
) -> None:
    response = response_for_shape(describe_output_shape(), random.Random(seed), presence=presence)
    check(response, tags, all_fields)


def strategy_for(shape: Shape) -> st.SearchStrategy[Any]:
    """Any value botocore could hand back for `shape` (required members always, others maybe)."""
    if isinstance(shape, StructureShape):
        required = set(shape.required_members)
        members = {name: strategy_for(member) for name, member in shape.members.items()}
        return st.fixed_dictionaries(
            {k: v for k, v in members.items() if k in required},
            optional={k: v for k, v in members.items() if k not in required},
        )
    if isinstance(shape, ListShape):
        return st.lists(strategy_for(shape.member), max_size=2)
    if isinstance(shape, MapShape):
        return st.dictionaries(st.text(max_size=10), strategy_for(shape.value), max_size=2)
    return scalar_strategy(shape)


def scalar_strategy(shape: Shape) -> st.SearchStrategy[Any]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if shape.type_name in ("integer", "long"):
        bits = 31 if shape.type_name == "integer" else 63
        return st.integers(low if low is not None else -(2**bits), high or 2**bits - 1)
    if shape.type_name in ("float", "double"):
        return st.floats(allow_nan=False, allow_infinity=False)
    if shape.type_name == "boolean":
        return st.booleans()
    if shape.type_name == "timestamp":
        return st.datetimes(datetime(1970, 1, 2), datetime(2100, 1, 1), timezones=OFFSETS)
    enum = shape.metadata.get("enum")
    return st.sampled_from(enum) if enum else st.text(max_size=16)


@functools.cache
def response_strategy() -> st.SearchStrategy[Any]:
    return strategy_for(describe_output_shape())


@FUZZ
@given(data=st.data(), all_fields=st.booleans())
def test_hypothesis_drawn_responses_convert_to_valid_records(
    data: st.DataObject, all_fields: bool
) -> None:
    response = data.draw(response_strategy())
    check(response, ["team:ml"], all_fields)
