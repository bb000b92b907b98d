"""`smi report` in daily use: a tag key that differs only in case is pointed out, and the failures
and running views say which account and region each job is in (names are not unique)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result
from report_small import REPORT_SMALL

from sagemaker_inventory.cli import cli

NOW = "2026-03-01T13:00:00Z"


def smi(*args: str, stdin: str | None = None, columns: int = 200) -> Result:
    return CliRunner().invoke(cli, ["report", *args], input=stdin, env={"COLUMNS": str(columns)})


def test_a_tag_key_no_job_has_is_named_with_its_case_variants() -> None:
    # Regression: --by tag:Team (the tag is "team") silently put every job in one null group.
    result = smi(str(REPORT_SMALL), "--by", "tag:Team", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["groups"][0]["key"] == {"tag:Team": None}
    assert result.stderr == (
        "smi: no job has the tag key 'Team'; keys differing only in case: 'team'\n"
    )
    table = smi(str(REPORT_SMALL), "--by", "tag:TEAM", "--by", "tag:owner", "--format", "table")
    assert table.stderr.splitlines() == [
        "smi: no job has the tag key 'TEAM'; keys differing only in case: 'team'",
        "smi: no job has the tag key 'owner'",
    ]


def test_a_tag_key_some_jobs_have_gives_no_warning() -> None:
    result = smi(str(REPORT_SMALL), "--by", "tag:team", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr == ""


def twin_jobs() -> str:
    """Two failed and two running jobs that share their names across accounts and regions."""
    records: list[dict[str, Any]] = []
    for account, region in (("111111111111", "us-east-1"), ("222222222222", "eu-west-1")):
        for name, status in (("nightly-train", "Failed"), ("nightly-eval", "InProgress")):
            records.append(
                {
                    "training_job_name": name,
                    "training_job_arn": f"arn:aws:sagemaker:{region}:{account}:training-job/{name}",
                    "account_id": account,
                    "training_job_status": status,
                    "failure_reason": "ClientError: no data" if status == "Failed" else None,
                    "creation_time": "2026-03-01T12:00:00Z",
                    "training_start_time": "2026-03-01T12:10:00Z",
                    "stopping_condition": {"max_runtime_in_seconds": 7200},
                }
            )
    return "".join(json.dumps(record) + "\n" for record in records)


def test_failures_name_each_jobs_account_and_region() -> None:
    document = json.loads(smi("-", "--failures", "--format", "json", stdin=twin_jobs()).stdout)
    [group] = document["failures"]
    assert group["job_names"] == ["nightly-train", "nightly-train"]
    assert [(d["account_id"], d["region"]) for d in group["job_details"]] == [
        ("111111111111", "us-east-1"),
        ("222222222222", "eu-west-1"),
    ]
    table = smi("-", "--failures", "--format", "table", stdin=twin_jobs()).stdout
    assert "Where" in table
    assert "111111111111 us-east-1 +1" in table


def test_running_jobs_name_their_account_and_region() -> None:
    args = ("-", "--running", "--now", NOW)
    document = json.loads(smi(*args, "--format", "json", stdin=twin_jobs()).stdout)
    assert sorted((job["account_id"], job["region"]) for job in document["running"]) == [
        ("111111111111", "us-east-1"),
        ("222222222222", "eu-west-1"),
    ]
    table = smi(*args, "--format", "table", stdin=twin_jobs()).stdout
    rows = [line for line in table.splitlines() if "nightly-eval" in line]
    assert len(rows) == 2
    assert "111111111111" in rows[0] and "us-east-1" in rows[0]
    assert "222222222222" in rows[1] and "eu-west-1" in rows[1]


def test_now_is_documented_for_old_inventories() -> None:
    # The demo's jobs are dated from the current UTC day: --running needs no --now for them.
    help_text = CliRunner().invoke(cli, ["report", "--help"]).output
    assert "--now ISO-8601" in help_text
    assert "when the inventory was collected" in " ".join(help_text.split())
