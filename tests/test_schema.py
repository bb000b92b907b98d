"""schema.record_schema: to_record output validates; undocumented keys and wrong types do not."""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator, FormatChecker
from model_responses import full_response

from sagemaker_inventory.cli import cli
from sagemaker_inventory.records.schema import record_schema
from sagemaker_inventory.records.shape import documented_fields, to_record

ACCOUNT = "123456789012"


@functools.cache
def validator(*, all_fields: bool = False) -> Draft202012Validator:
    return Draft202012Validator(
        record_schema(all_fields=all_fields), format_checker=FormatChecker()
    )


def record(seed: int = 0, *, all_fields: bool = False) -> dict[str, Any]:
    return to_record(
        full_response(seed), account_id=ACCOUNT, tags=["team:ml"], all_fields=all_fields
    )


def errors(record_: dict[str, Any], *, all_fields: bool = False) -> list[str]:
    return [e.message for e in validator(all_fields=all_fields).iter_errors(record_)]


@pytest.mark.parametrize("all_fields", [False, True])
def test_schema_is_a_valid_draft_2020_12_schema(all_fields: bool) -> None:
    Draft202012Validator.check_schema(record_schema(all_fields=all_fields))


def test_date_time_format_is_really_checked() -> None:
    # Without rfc3339-validator installed, jsonschema silently skips "date-time".
    assert "date-time" in FormatChecker().checkers


@pytest.mark.parametrize("seed", range(3))
def test_full_records_validate(seed: int) -> None:
    assert errors(record(seed)) == []


def test_a_minimal_running_job_validates() -> None:
    response = {"TrainingJobName": "j", "TrainingJobStatus": "InProgress"}
    assert errors(to_record(response, account_id=ACCOUNT, tags=[])) == []


@pytest.mark.parametrize("seed", range(3))
def test_all_fields_records_validate_against_the_all_fields_schema(seed: int) -> None:
    full = record(seed, all_fields=True)
    assert errors(full, all_fields=True) == []
    full["resource_config"]["a_future_member"] = 1
    assert errors(full, all_fields=True) == []


def test_undocumented_keys_fail_the_documented_schema() -> None:
    full = record(all_fields=True)
    messages = errors(full)
    assert any("billable_token_count" in m for m in messages)
    assert any("instance_placement_config" in m for m in messages)
    nested = record()
    nested["input_data_config"][0]["data_source"]["dataset_source"] = {"dataset_arn": "x"}
    assert any("dataset_source" in m for m in errors(nested))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("billable_time_in_seconds",), "3600"),
        (("billable_time_in_seconds",), True),
        (("billable_time_in_seconds",), 1.5),
        (("enable_managed_spot_training",), "false"),
        (("creation_time",), "yesterday"),
        (("creation_time",), "2026-03-01T14:00:00+02:00"),
        (("creation_time",), "2026-03-01T12:00:00.5Z"),
        (("final_metric_data_list", 0, "value"), "0.5"),
        (("hyper_parameters", "MaxDepth"), 6),
        (("resource_config", "instance_groups"), {"instance_count": 1}),
        (("tags",), "team:ml"),
        (("account_id",), 123456789012),
    ],
)
def test_wrong_types_fail(path: tuple[str | int, ...], value: Any) -> None:
    broken = copy.deepcopy(record())
    target: Any = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert errors(broken) != []


def test_account_id_and_tags_are_required() -> None:
    full = record()
    del full["tags"]
    assert errors(full) == ["'tags' is a required property"]


def test_map_keys_are_free_but_structures_are_closed() -> None:
    full = record()
    full["hyper_parameters"]["any key at all"] = "1"
    assert errors(full) == []
    full["resource_config"]["MaxDepth"] = "1"
    assert errors(full) != []


def test_properties_follow_documentation_order_and_carry_the_page_text() -> None:
    schema = record_schema()
    assert list(schema["properties"]) == [f.name for f in documented_fields()]
    spec = schema["properties"]["algorithm_specification"]
    assert spec["x-provider-name"] == "AlgorithmSpecification"
    assert spec["description"].startswith("Information about the algorithm")
    groups = schema["properties"]["resource_config"]["properties"]["instance_groups"]
    assert groups["items"]["additionalProperties"] is False
    assert "instance_type" in groups["items"]["properties"]
    assert "x-provider-name" not in schema["properties"]["tags"]
    assert "x-documented" not in json.dumps(schema)


def test_all_fields_schema_marks_undocumented_members() -> None:
    schema = record_schema(all_fields=True)
    token_count = schema["properties"]["billable_token_count"]
    assert token_count == {
        "x-provider-name": "BillableTokenCount",
        "x-documented": False,
        "type": "integer",
    }
    assert schema["additionalProperties"] is True


def test_schema_is_deterministic_json() -> None:
    assert json.dumps(record_schema(), indent=2) == json.dumps(record_schema(), indent=2)


ARRAY_FILTER = re.compile(r"smi schema \| jq '([^']+)' > inventory\.schema\.json")


def test_schema_help_validates_a_json_array_with_an_array_schema() -> None:
    # Regression: the help validated `smi collect -f json` (an array) against the record schema.
    help_text = CliRunner().invoke(cli, ["schema", "--help"]).output
    jq_filter = ARRAY_FILTER.search(help_text)
    assert jq_filter is not None, help_text
    assert "check-jsonschema --schemafile inventory.schema.json inventory.json" in help_text
    schema = record_schema()
    # What the filter does, in Python, so that the test runs where jq is not installed ...
    wrapped = {"type": "array", "items": {k: v for k, v in schema.items() if k != "$schema"}}
    if shutil.which("jq"):  # ... and the filter itself where it is.
        ran = subprocess.run(
            ["jq", jq_filter.group(1)],
            input=json.dumps(schema),
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(ran.stdout) == wrapped
    array_validator = Draft202012Validator(wrapped, format_checker=FormatChecker())
    assert list(array_validator.iter_errors([record(0), record(1)])) == []
    assert list(array_validator.iter_errors([record(0), {"training_job_name": 5}])) != []
    assert list(validator().iter_errors([record(0)])) != []  # the old example's mistake
