"""Snapshot runs against moto via run_inventory: reuse without Describe, changes, removals,
failed and unrequested scopes carried over, settings. `run`, `Run`, `lines` and `SHARED` are
also used by test_snapshot_commit.py."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from jobs import ACCOUNT, backend_job, create_jobs, delete_job, set_job
from test_inventory import HookedFactory, client_error

from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.outcome import RunSummary
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import run_inventory
from sagemaker_inventory.collect.run_files import snapshot_run_of
from sagemaker_inventory.collect.scopes import AccountSource, build_scopes
from sagemaker_inventory.records.redaction import REDACTED, RedactionRules, redact
from sagemaker_inventory.snapshot.index import SnapshotSettings, meta_path_for, open_snapshot
from sagemaker_inventory.snapshot.writer import SnapshotOutcome, SnapshotWriter

EAST, WEST = "us-east-1", "eu-west-1"
DENY_LIST = client_error("AccessDeniedException", "not authorized: sagemaker:ListTrainingJobs")


@dataclass
class Run:
    records: list[dict[str, Any]]
    summary: RunSummary
    outcome: SnapshotOutcome

    def calls(self, region: str, operation: str) -> int:
        scope = next(s for s in self.summary.scopes if s.region == region)
        return scope.api_calls.get(operation, 0)


def run(
    path: Path,
    regions: list[str],
    *,
    factory: SessionFactory | None = None,
    settings: SnapshotSettings | None = None,
    changes: Path | None = None,
    rules: RedactionRules | None = None,
) -> Run:
    """One `smi collect --snapshot` run, wired the way the CLI wires it."""
    records: list[dict[str, Any]] = []
    settings = settings or SnapshotSettings(redaction=None if rules is None else rules.patterns)
    carry = None if rules is None else functools.partial(redact, rules=rules)
    with (
        open_snapshot(path, settings) as snapshot,
        SnapshotWriter(snapshot, carry=carry) as writer,
    ):

        def emit(record: dict[str, Any]) -> None:
            if rules is not None:
                record = redact(record, rules)
            records.append(record)
            writer.add(record)

        summary = run_inventory(
            build_scopes([AccountSource()], regions),
            factory or SHARED.factory,
            CollectOptions(reuse=snapshot.reuse),
            emit,
        )
        outcome = writer.commit(snapshot_run_of(summary), changes=changes)
    return Run(records, summary, outcome)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def names(path: Path) -> list[str]:
    return [r["training_job_name"] for r in lines(path)]


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return tmp_path / "inventory.jsonl"


class _Shared:
    # One factory for the snapshot tests: each new one loads botocore's SageMaker model again.
    factory = SessionFactory()


SHARED = _Shared()


@pytest.fixture(autouse=True)
def _moto(moto_aws: None) -> Iterator[None]:
    yield


def test_first_run_fills_the_snapshot_and_reports_everything_added(snap: Path) -> None:
    create_jobs(EAST, ["a", "b"], tags={"team": "ml"})
    changes = snap.with_name("changes.jsonl")
    first = run(snap, [EAST], changes=changes)
    assert lines(snap) == first.records
    assert (first.outcome.records, first.outcome.added, first.outcome.reused) == (2, 2, 0)
    assert [c["op"] for c in lines(changes)] == ["added", "added"]
    assert [c["record"] for c in lines(changes)] == first.records
    assert snap.stat().st_mode & 0o777 == 0o600
    meta = json.loads(meta_path_for(snap).read_text())
    assert meta["scopes"] == [
        {
            "account_id": ACCOUNT,
            "region": EAST,
            "refreshed": _z(first.summary.started),
            "records": 2,
        }
    ]


def test_second_run_over_an_unchanged_inventory_describes_nothing(snap: Path) -> None:
    create_jobs(EAST, [f"job-{i:03d}" for i in range(120)], tags={"team": "ml"})
    changes = snap.with_name("changes.jsonl")
    first = run(snap, [EAST])
    before = snap.read_bytes()
    second = run(snap, [EAST], changes=changes)
    assert first.calls(EAST, "DescribeTrainingJob") == 120
    assert second.calls(EAST, "DescribeTrainingJob") == 0
    assert second.calls(EAST, "ListTrainingJobs") == 2  # pages of 100
    assert second.records == first.records
    assert snap.read_bytes() == before
    assert changes.read_bytes() == b""  # exists, and empty: nothing changed
    outcome = second.outcome
    assert (outcome.reused, outcome.unchanged, outcome.added, outcome.changed) == (120, 120, 0, 0)


def test_a_changed_status_is_described_again_and_reported(snap: Path) -> None:
    create_jobs(EAST, ["a", "b", "c"])
    run(snap, [EAST])
    set_job(EAST, "b", status="Failed")
    changes = snap.with_name("changes.jsonl")
    second = run(snap, [EAST], changes=changes)
    assert second.calls(EAST, "DescribeTrainingJob") == 1
    assert [r["training_job_status"] for r in lines(snap)] == ["Completed", "Failed", "Completed"]
    (change,) = lines(changes)
    assert change["op"] == "changed"
    assert change["record"]["training_job_name"] == "b"
    assert change["record"]["training_job_status"] == "Failed"


def test_a_changed_last_modified_time_is_described_again(snap: Path) -> None:
    create_jobs(EAST, ["a", "b"])
    run(snap, [EAST])
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    backend_job(EAST, "a").last_modified_time = later
    second = run(snap, [EAST])
    assert second.calls(EAST, "DescribeTrainingJob") == 1
    assert second.outcome.changed == 1
    assert lines(snap)[0]["last_modified_time"] == _z(later)


def test_a_deleted_job_is_removed_from_the_snapshot(snap: Path) -> None:
    create_jobs(EAST, ["a", "gone", "c"])
    first = run(snap, [EAST])
    delete_job(EAST, "gone")
    changes = snap.with_name("changes.jsonl")
    second = run(snap, [EAST], changes=changes)
    assert names(snap) == ["a", "c"]
    (change,) = lines(changes)
    assert change["op"] == "removed"
    assert change["record"] == first.records[1]
    assert change["record"]["account_id"] == ACCOUNT
    assert (second.outcome.removed, second.outcome.records) == (1, 2)


def test_a_new_job_is_added_and_only_it_is_described(snap: Path) -> None:
    create_jobs(EAST, ["a"])
    run(snap, [EAST])
    create_jobs(EAST, ["new"])
    changes = snap.with_name("changes.jsonl")
    second = run(snap, [EAST], changes=changes)
    assert second.calls(EAST, "DescribeTrainingJob") == 1
    assert [(c["op"], c["record"]["training_job_name"]) for c in lines(changes)] == [
        ("added", "new")
    ]
    assert names(snap) == ["a", "new"]


def test_tags_are_refreshed_on_reused_records(snap: Path) -> None:
    (arn,) = create_jobs(EAST, ["a"], tags={"team": "ml"})
    run(snap, [EAST])
    boto3.client("sagemaker", region_name=EAST).add_tags(
        ResourceArn=arn, Tags=[{"Key": "owner", "Value": "ana"}]
    )
    changes = snap.with_name("changes.jsonl")
    second = run(snap, [EAST], changes=changes)
    assert second.calls(EAST, "DescribeTrainingJob") == 0
    assert lines(snap)[0]["tags"] == ["owner:ana", "team:ml"]
    assert [c["op"] for c in lines(changes)] == ["changed"]


def test_a_failing_scope_keeps_its_records_and_is_reported_stale(snap: Path) -> None:
    create_jobs(EAST, ["e1", "e2"])
    create_jobs(WEST, ["w1", "w2"])
    first = run(snap, [EAST, WEST])
    west_lines = [line for line in snap.read_text().splitlines() if f":{WEST}:" in line]
    create_jobs(EAST, ["e3"])
    delete_job(WEST, "w2")  # not seen: the region cannot be listed this time
    failing = HookedFactory({(WEST, "before-call.sagemaker.ListTrainingJobs"): DENY_LIST})
    changes = snap.with_name("changes.jsonl")
    second = run(snap, [EAST, WEST], factory=failing, changes=changes)
    assert second.summary.exit_code == 3
    assert [line for line in snap.read_text().splitlines() if f":{WEST}:" in line] == west_lines
    assert sorted(names(snap)) == ["e1", "e2", "e3", "w1", "w2"]
    (stale,) = second.outcome.stale
    assert (stale.account_id, stale.region, stale.records) == (ACCOUNT, WEST, 2)
    assert stale.since is not None and _z(stale.since) == _z(first.summary.started)
    assert [(c["op"], c["record"]["training_job_name"]) for c in lines(changes)] == [
        ("added", "e3")
    ]
    meta = {
        s["region"]: s["refreshed"] for s in json.loads(meta_path_for(snap).read_text())["scopes"]
    }
    assert meta == {WEST: _z(first.summary.started), EAST: _z(second.summary.started)}


def test_an_account_that_cannot_be_identified_keeps_its_records(snap: Path) -> None:
    create_jobs(EAST, ["e1"])
    run(snap, [EAST])
    before = snap.read_bytes()
    expired = client_error("ExpiredToken", "expired")
    every_region = (EAST, WEST)
    no_sts = HookedFactory(
        {(r, "before-call.sts.GetCallerIdentity"): expired for r in every_region}
        | {(EAST, "before-call.sagemaker.ListTrainingJobs"): expired}
    )
    second = run(snap, [EAST], factory=no_sts)
    assert second.summary.exit_code == 1
    assert snap.read_bytes() == before
    assert [(s.account_id, s.region, s.records) for s in second.outcome.stale] == [
        (ACCOUNT, EAST, 1)
    ]


def test_scopes_not_requested_are_kept_and_order_is_account_then_region(snap: Path) -> None:
    create_jobs(EAST, ["e1", "e2"])
    create_jobs(WEST, ["w1"])
    run(snap, [EAST, WEST])
    assert names(snap) == ["w1", "e1", "e2"]  # eu-west-1 sorts before us-east-1
    delete_job(WEST, "w1")
    delete_job(EAST, "e1")
    east_only = run(snap, [EAST])
    assert names(snap) == ["w1", "e2"]
    assert east_only.outcome.stale == []  # not requested is not stale


def test_other_settings_disable_reuse_and_carried_records_are_rewritten(snap: Path) -> None:
    create_jobs(EAST, ["e1"])
    create_jobs(WEST, ["w1"])
    _set_hyperparameter(EAST, "e1", "api_key", "s3cr3t")
    _set_hyperparameter(WEST, "w1", "api_key", "s3cr3t")
    run(snap, [EAST, WEST])  # --no-redact
    assert {r["hyper_parameters"]["api_key"] for r in lines(snap)} == {"s3cr3t"}
    rules = RedactionRules()
    failing = HookedFactory({(WEST, "before-call.sagemaker.ListTrainingJobs"): DENY_LIST})
    second = run(snap, [EAST, WEST], factory=failing, rules=rules)
    assert second.calls(EAST, "DescribeTrainingJob") == 1  # no reuse across settings
    assert {r["hyper_parameters"]["api_key"] for r in lines(snap)} == {REDACTED}
    third = run(snap, [EAST], rules=rules)
    assert third.calls(EAST, "DescribeTrainingJob") == 0  # the sidecar now says "on"


def test_a_missing_sidecar_means_describe_everything_once(snap: Path) -> None:
    create_jobs(EAST, ["a"])
    run(snap, [EAST])
    meta_path_for(snap).unlink()
    assert run(snap, [EAST]).calls(EAST, "DescribeTrainingJob") == 1
    assert run(snap, [EAST]).calls(EAST, "DescribeTrainingJob") == 0


def _z(moment: datetime) -> str:
    from sagemaker_inventory.records.timestamps import format_timestamp

    return format_timestamp(moment)


def _set_hyperparameter(region: str, name: str, key: str, value: str) -> None:
    backend_job(region, name).hyper_parameters[key] = value
