"""Issue 22: `smi collect` writes -o, --snapshot, --changes and --report to S3 (moto in-process)
with the promises of a local disk: objects appear only when the run commits, the snapshot's set
together; a failed run leaves every object as it was; S3 problems are named before collecting."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result
from jobs import create_jobs, delete_job, set_job

from sagemaker_inventory.cli import cli

pytestmark = pytest.mark.usefixtures("moto_aws")

BUCKET = "smi-state"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def read(key: str) -> bytes:
    body: bytes = s3().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def lines(key: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read(key).decode().splitlines()]


def keys() -> list[str]:
    return [o["Key"] for o in s3().list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def uploads() -> list[str]:
    return [u["Key"] for u in s3().list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]


@pytest.fixture
def east(moto_aws: None) -> None:
    create_jobs("us-east-1", ["a", "b", "c"], tags={"team": "ml"})
    s3().create_bucket(Bucket=BUCKET)


SNAP = f"s3://{BUCKET}/state/inv.jsonl"
DELTA = f"s3://{BUCKET}/state/delta.jsonl"


@pytest.mark.usefixtures("east")
def test_a_snapshot_in_s3_is_refreshed_incrementally_with_its_changes() -> None:
    first = run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--changes", DELTA)
    assert first.exit_code == 0, first.stderr
    assert "3 added, 0 changed, 0 removed; 0 reused" in first.stderr
    assert [c["op"] for c in lines("state/delta.jsonl")] == ["added"] * 3
    assert sorted(keys()) == ["state/delta.jsonl", "state/inv.jsonl", "state/inv.jsonl.meta.json"]
    assert uploads() == []
    before = read("state/inv.jsonl")
    set_job("us-east-1", "b", status="Failed")
    delete_job("us-east-1", "c")
    second = run("collect", "-r", "us-east-1", "--snapshot", SNAP, "--changes", DELTA)
    assert second.exit_code == 0, second.stderr
    assert "0 added, 1 changed, 1 removed; 1 reused" in second.stderr
    assert [(c["op"], c["record"]["training_job_name"]) for c in lines("state/delta.jsonl")] == [
        ("changed", "b"),
        ("removed", "c"),
    ]
    assert read("state/inv.jsonl") != before
    assert len(lines("state/inv.jsonl")) == 2


@pytest.mark.usefixtures("east")
def test_output_and_report_objects() -> None:
    result = run(
        "collect", "-r", "us-east-1", "-o", f"s3://{BUCKET}/out/inv.csv",
        "--report", f"s3://{BUCKET}/out/run.json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert read("out/inv.csv").decode().startswith("training_job_name") or b"," in read(
        "out/inv.csv"
    )
    report = json.loads(read("out/run.json"))
    assert report["exit_code"] == 0 and report["totals"]["jobs"] == 3
    assert uploads() == []
