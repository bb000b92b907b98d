"""Shards that meet again (moto): `smi collect --shard K/N` runs whose outputs, or snapshots with
their sidecars, land under one S3 prefix report as the unsharded run does, through
`smi report s3://BUCKET/PREFIX/`; when N changes, the shards of the old count left in the prefix
duplicate jobs (counted once), which is why each count gets its own prefix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from accounts_helpers import ACCOUNTS, REGIONS, role, seed_accounts
from report_small import REPORT_SMALL
from test_cli_shard import smi_collect
from test_report_input import smi_report

from sagemaker_inventory.collect.sharding import shard_index

BUCKET = "smi-inventory"
VIEWS = [("--by", "account_id", "--by", "region"), ("--failures",), ("--checks",)]


@pytest.fixture
def common(moto_aws: None, tmp_path: Path) -> list[str]:
    seed_accounts(ACCOUNTS, REGIONS)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    accounts = tmp_path / "accounts.txt"
    accounts.write_text("".join(f"{role(a)}\n" for a in ACCOUNTS))
    regions = [arg for region in REGIONS for arg in ("-r", region)]
    return ["--accounts-file", str(accounts), *regions, "-q"]


def reports(*inputs: str) -> tuple[list[Any], str]:
    """The JSON answer of every view over `inputs`, and the stderr of the last one."""
    answers, stderr = [], ""
    for view in VIEWS:
        result = smi_report(*inputs, *view, "-f", "json")
        assert result.exit_code == 0, result.stderr
        answers.append(json.loads(result.stdout))
        stderr = result.stderr
    # Findings come in reading order, which differs between one file and its shards.
    answers[-1]["findings"].sort(key=lambda f: (f["training_job_arn"], f["check"]))
    return answers, stderr


def collect_shards(common: list[str], prefix: str, count: int, *, snapshot: bool) -> None:
    """Run `--shard auto` as an Indexed Job's pods would, each writing s3://BUCKET/PREFIXshard-K.jsonl
    (its output, or its snapshot with the snapshot's sidecar)."""
    for k in range(count):
        target = ["--snapshot" if snapshot else "-o", f"s3://{BUCKET}/{prefix}shard-{k}.jsonl"]
        env = {"JOB_COMPLETION_INDEX": str(k), "SMI_SHARDS": str(count)}
        result = smi_collect(*common, "--shard", "auto", *target, env=env)
        assert (result.exit_code, result.stderr) == (0, ""), result.stderr


def test_shard_outputs_under_one_prefix_report_as_the_unsharded_run(
    common: list[str], tmp_path: Path
) -> None:
    assert len({shard_index(a, 3) for a in ACCOUNTS}) > 1  # the shards split the accounts
    whole = tmp_path / "whole.jsonl"
    assert smi_collect(*common, "-o", str(whole)).exit_code == 0
    collect_shards(common, "nightly/", 3, snapshot=False)
    answers, stderr = reports(f"s3://{BUCKET}/nightly/")
    assert answers == reports(str(whole))[0] and stderr == ""
    assert answers[0]["totals"]["jobs"] == 2 * len(ACCOUNTS) * len(REGIONS)


def test_shard_snapshots_report_as_one_and_each_shard_count_gets_its_own_prefix(
    common: list[str], tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    whole = tmp_path / "whole.jsonl"
    assert smi_collect(*common, "-o", str(whole)).exit_code == 0
    expected = reports(str(whole))[0]
    # Night 1, three shards: each snapshot with its sidecar, under smi/n3/.
    collect_shards(common, "smi/n3/", 3, snapshot=True)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="smi/n3/")["Contents"]}
    assert keys >= {"smi/n3/shard-0.jsonl", "smi/n3/shard-0.jsonl.meta.json"}
    assert reports(f"s3://{BUCKET}/smi/n3/") == (expected, "")
    # Night 2, two shards over the same prefix: shard-2's snapshot is no shard's any more.
    collect_shards(common, "smi/n3/", 2, snapshot=True)
    left, stderr = reports(f"s3://{BUCKET}/smi/n3/")
    held = sum(shard_index(a, 3) == 2 for a in ACCOUNTS) * len(REGIONS) * 2
    assert held and left == expected and f"{held} extra copies of jobs" in stderr
    # The documented rule: a prefix per shard count (or the old count's shards removed).
    collect_shards(common, "smi/n2/", 2, snapshot=True)
    assert reports(f"s3://{BUCKET}/smi/n2/") == (expected, "")


def test_a_left_over_shard_wins_a_tie_when_it_is_read_first(moto_aws: None) -> None:
    # Why the old count's shards must go: a job whose last_modified_time did not move (a tag
    # changed) is met in both, and the first copy read counts; shard-10 is read before shard-2.
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    record = json.loads(REPORT_SMALL.read_text().splitlines()[0])
    moved = "2026-01-15T11:10:00Z"
    for key, team in (("shard-10.jsonl", "old"), ("shard-2.jsonl", "new")):
        copy = dict(record, last_modified_time=moved, tags=[f"team:{team}"])
        s3.put_object(Bucket=BUCKET, Key=f"p/{key}", Body=json.dumps(copy).encode())
    result = smi_report(f"s3://{BUCKET}/p/", "--by", "tag:team", "-f", "json")
    assert [g["key"]["tag:team"] for g in json.loads(result.stdout)["groups"]] == ["old"]
