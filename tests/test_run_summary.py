"""The run summary: exact --report JSON from a hand-built RunSummary, the atomic file, the stderr
forms."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rich.console import Console

from sagemaker_inventory.aws.errors import FailureReason
from sagemaker_inventory.collect.outcome import AccountCalls, ApiCalls, RunSummary, ScopeResult
from sagemaker_inventory.collect.run_summary import (
    FULL_TABLE_SCOPES,
    render_run_summary,
    run_summary_document,
    write_run_summary_file,
)

A, B = "111111111111", "222222222222"
DENIED = FailureReason("AccessDenied", "not authorized to perform: sts:AssumeRole [bt]")


def summary() -> RunSummary:
    return RunSummary(
        started=datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=timezone.utc),
        finished=datetime(2026, 3, 1, 12, 0, 42, tzinfo=timezone.utc),
        scopes=[
            ScopeResult(
                A,
                "us-east-1",
                jobs=3,
                skipped=1,
                api_calls={"ListTrainingJobs": 1, "DescribeTrainingJob": 5, "GetResources": 1},
                retries=1,
                seconds=1.23456,
                tag_path="bulk",
                skipped_jobs=["gone-job"],
                reused=2,
            ),
            ScopeResult(A, "eu-west-1", jobs=2, api_calls={"DescribeTrainingJob": 2}, seconds=0.5),
            ScopeResult(B, "us-east-1", status="failed", error=DENIED, seconds=0.1),
            ScopeResult(
                A,
                "ap-east-1",
                status="skipped",
                error=FailureReason("UnrecognizedClientException", "region not enabled"),
            ),
        ],
        discovery=ApiCalls({"GetCallerIdentity": 2, "ListAccounts": 1}, retries=1),
        accounts=[
            AccountCalls({"AssumeRole": 1}, 0, account_id=A, source=f"arn:aws:iam::{A}:role/R"),
            AccountCalls({"AssumeRole": 3}, 2, account_id=B, source=f"arn:aws:iam::{B}:role/R"),
        ],
    )


def test_the_report_has_every_scope_and_the_totals() -> None:
    report = run_summary_document(summary(), 3)
    assert report == {
        "started": "2026-03-01T12:00:00Z",
        "finished": "2026-03-01T12:00:42Z",
        "exit_code": 3,
        "scopes": [
            {
                "account_id": A,
                "region": "us-east-1",
                "status": "ok",
                "jobs": 3,
                "skipped": 1,
                "reused": 2,
                "tags": "bulk",
                "api_calls": {"DescribeTrainingJob": 5, "GetResources": 1, "ListTrainingJobs": 1},
                "retries": 1,
                "seconds": 1.235,
                "error": None,
            },
            {
                "account_id": A,
                "region": "eu-west-1",
                "status": "ok",
                "jobs": 2,
                "skipped": 0,
                "reused": 0,
                "tags": None,
                "api_calls": {"DescribeTrainingJob": 2},
                "retries": 0,
                "seconds": 0.5,
                "error": None,
            },
            {
                "account_id": B,
                "region": "us-east-1",
                "status": "failed",
                "jobs": 0,
                "skipped": 0,
                "reused": 0,
                "tags": None,
                "api_calls": {},
                "retries": 0,
                "seconds": 0.1,
                "error": {"code": "AccessDenied", "message": DENIED.message},
            },
            {
                "account_id": A,
                "region": "ap-east-1",
                "status": "skipped",
                "jobs": 0,
                "skipped": 0,
                "reused": 0,
                "tags": None,
                "api_calls": {},
                "retries": 0,
                "seconds": 0.0,
                "error": {"code": "UnrecognizedClientException", "message": "region not enabled"},
            },
        ],
        "discovery": {"api_calls": {"GetCallerIdentity": 2, "ListAccounts": 1}, "retries": 1},
        "accounts": [
            {
                "account_id": A,
                "source": f"arn:aws:iam::{A}:role/R",
                "api_calls": {"AssumeRole": 1},
                "retries": 0,
            },
            {
                "account_id": B,
                "source": f"arn:aws:iam::{B}:role/R",
                "api_calls": {"AssumeRole": 3},
                "retries": 2,
            },
        ],
        "totals": {
            "jobs": 5,
            "skipped": 1,
            "scopes_ok": 2,
            "scopes_failed": 1,
            "scopes_skipped": 1,
            "api_calls": {
                "AssumeRole": 4,
                "DescribeTrainingJob": 7,
                "GetCallerIdentity": 2,
                "GetResources": 1,
                "ListAccounts": 1,
                "ListTrainingJobs": 1,
            },
            "retries": 4,
        },
    }
    json.dumps(report)  # JSON-ready as it is


def test_the_snapshot_outcome_goes_into_the_report() -> None:
    outcome = {
        "records": 5,
        "added": 1,
        "stale": [{"account_id": B, "since": "2026-02-28T02:15:00Z"}],
    }
    report = run_summary_document(summary(), 3, snapshot=outcome)
    assert report["snapshot"] == outcome
    assert "snapshot" not in run_summary_document(summary(), 3)


def test_the_redaction_counts_go_into_the_report_sorted_by_field_path() -> None:
    counts = {"hyper_parameters": 1, "environment": 3}
    report = run_summary_document(summary(), 0, redactions=counts)
    assert list(report["redactions"].items()) == [("environment", 3), ("hyper_parameters", 1)]
    assert "redactions" not in run_summary_document(summary(), 0)  # --no-redact


def test_an_empty_run_reports_zero_totals() -> None:
    moment = datetime(2026, 3, 1, tzinfo=timezone.utc)
    report = run_summary_document(RunSummary(moment, moment, []), 1)
    assert report["scopes"] == [] and report["exit_code"] == 1
    assert report["totals"] == {
        "jobs": 0,
        "skipped": 0,
        "scopes_ok": 0,
        "scopes_failed": 0,
        "scopes_skipped": 0,
        "api_calls": {},
        "retries": 0,
    }


def test_the_report_file_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old report\n")
    report = run_summary_document(summary(), 3)
    write_run_summary_file(path, report)
    assert json.loads(path.read_text()) == report
    assert path.read_text().endswith("}\n")
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary left


def test_a_report_that_cannot_be_serialised_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text("old report\n")
    with pytest.raises(TypeError):
        write_run_summary_file(path, {"bad": object()})
    assert path.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def render(terminal: bool, data: RunSummary | None = None, width: int = 160) -> str:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=terminal, width=width, color_system=None)
    render_run_summary(data or summary(), console)
    return stream.getvalue()


def test_plain_output_is_a_few_greppable_lines() -> None:
    lines = render(terminal=False).splitlines()
    assert lines == [
        f"smi: failed {B} us-east-1: AccessDenied: {DENIED.message}",
        f"smi: skipped {A} ap-east-1: UnrecognizedClientException: region not enabled",
        "smi: skipped gone-job (us-east-1): it vanished between List and Describe",
        "smi: 5 jobs from 2/4 account x region scopes (2 accounts) in 41.8s;"
        " 16 API calls, 4 retries",
    ]


def test_plain_lines_are_never_wrapped() -> None:
    """Regression: an 80-column console folded the failure line in two, breaking grep."""
    lines = render(terminal=False, width=40).splitlines()
    assert lines[0] == f"smi: failed {B} us-east-1: AccessDenied: {DENIED.message}"
    assert len(lines) == 4


def test_a_scope_of_an_unknown_account_says_so() -> None:
    moment = datetime(2026, 3, 1, tzinfo=timezone.utc)
    failed = ScopeResult(
        None, "us-east-1", status="failed", error=FailureReason("NoCredentials", "x")
    )
    lines = render(terminal=False, data=RunSummary(moment, moment, [failed])).splitlines()
    assert lines[0] == "smi: failed (account unknown) us-east-1: NoCredentials: x"


def test_a_terminal_gets_a_table_of_every_scope_with_markup_kept_verbatim() -> None:
    text = render(terminal=True)
    assert "Scopes" in text and "Scopes not collected" not in text
    for region in ("us-east-1", "eu-west-1", "ap-east-1"):
        assert region in text
    assert "sts:AssumeRole [bt]" in text  # rich markup in an AWS message is not swallowed
    assert "5 jobs from 2/4" in text


def test_a_terminal_table_of_many_scopes_shows_only_those_not_collected() -> None:
    base = summary()
    ok = [ScopeResult(A, f"region-{i}", jobs=1) for i in range(FULL_TABLE_SCOPES)]
    text = render(terminal=True, data=RunSummary(base.started, base.finished, base.scopes + ok))
    assert "Scopes not collected" in text
    assert "region-0" not in text and B in text
