"""Issue 21, item 2: `--columns` is never ignored. With jsonl and json it projects each record to
the named paths, nested objects kept nested; a column that exists only with --all-fields says so."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner, Result
from jobs import create_jobs

from sagemaker_inventory.cli import cli
from sagemaker_inventory.output.columns import project

pytestmark = pytest.mark.usefixtures("moto_aws")

PATHS = "training_job_name,resource_config.instance_type"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["collect", "-r", "us-east-1", "-q", *args])


@pytest.fixture
def jobs(moto_aws: None) -> None:
    create_jobs("us-east-1", ["job-a", "job-b"])


@pytest.mark.usefixtures("jobs")
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_columns_project_json_records_to_nested_paths(fmt: str) -> None:
    result = run("-f", fmt, "--columns", PATHS)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    records: list[Any] = (
        json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    )
    assert sorted(records, key=lambda r: r["training_job_name"]) == [
        {"training_job_name": "job-a", "resource_config": {"instance_type": "ml.m5.large"}},
        {"training_job_name": "job-b", "resource_config": {"instance_type": "ml.m5.large"}},
    ]


@pytest.mark.usefixtures("jobs")
def test_derived_columns_are_top_level_keys() -> None:
    result = run("--columns", "training_job_name,region,instance_count")
    first = json.loads(result.stdout.splitlines()[0])
    assert set(first) == {"training_job_name", "region", "instance_count"}
    assert first["region"] == "us-east-1" and first["instance_count"] == 1


@pytest.mark.usefixtures("jobs")
def test_a_column_of_all_fields_only_says_so() -> None:
    result = run("--columns", "training_job_name,billable_token_count")
    assert result.exit_code == 2
    assert "exists only with --all-fields" in result.stderr
    allowed = run("--all-fields", "--columns", "training_job_name,billable_token_count")
    assert allowed.exit_code == 0, allowed.stderr
    assert set(json.loads(allowed.stdout.splitlines()[0])) == {
        "training_job_name",
        "billable_token_count",
    }


def test_projection_keeps_a_structure_named_whole_and_nulls_what_is_absent() -> None:
    record = {"training_job_name": "a", "resource_config": {"instance_type": "t", "count": 2}}
    assert project(record, ["resource_config.instance_type", "resource_config"]) == {
        "resource_config": {"instance_type": "t", "count": 2}
    }
    assert project(record, ["vpc_config.subnets", "training_job_name"]) == {
        "vpc_config": {"subnets": None},
        "training_job_name": "a",
    }
