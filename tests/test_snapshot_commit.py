"""Commit's files and outcome against moto: a cancelled commit changes nothing, --file-mode
applies to every file, a session holds the lock for the whole run, and the report form of the
outcome."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from jobs import ACCOUNT, create_jobs
from test_snapshot import EAST, SHARED, WEST, run

from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import run_inventory
from sagemaker_inventory.collect.run_files import snapshot_run_of
from sagemaker_inventory.collect.scopes import AccountSource, build_scopes
from sagemaker_inventory.snapshot.errors import SnapshotCancelled
from sagemaker_inventory.snapshot.index import SnapshotSettings, meta_path_for, open_snapshot
from sagemaker_inventory.snapshot.lock import SnapshotLocked
from sagemaker_inventory.snapshot.writer import (
    SnapshotOutcome,
    SnapshotWriter,
    StaleScope,
    snapshot_session,
)

pytestmark = pytest.mark.usefixtures("moto_aws")


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return tmp_path / "inventory.jsonl"


def test_a_cancelled_commit_leaves_every_file_as_it_was(snap: Path) -> None:
    create_jobs(EAST, ["a"])
    changes = snap.with_name("changes.jsonl")
    run(snap, [EAST], changes=changes)
    before = {p.name: p.read_bytes() for p in snap.parent.iterdir()}
    create_jobs(EAST, ["b"])
    cancelled = threading.Event()
    with open_snapshot(snap, SnapshotSettings()) as snapshot, SnapshotWriter(snapshot) as writer:
        summary = run_inventory(
            build_scopes([AccountSource()], [EAST]),
            SHARED.factory,
            CollectOptions(reuse=snapshot.reuse),
            writer.add,
        )
        cancelled.set()
        with pytest.raises(SnapshotCancelled):
            writer.commit(snapshot_run_of(summary), changes=changes, cancelled=cancelled)
    assert {p.name: p.read_bytes() for p in snap.parent.iterdir()} == before  # no temp files


def test_file_mode_applies_to_every_file(snap: Path) -> None:
    create_jobs(EAST, ["a"])
    snap.write_text("")
    snap.chmod(0o644)
    changes = snap.with_name("changes.jsonl")
    with open_snapshot(snap, SnapshotSettings()) as snapshot, SnapshotWriter(snapshot) as writer:
        summary = run_inventory(
            build_scopes([AccountSource()], [EAST]), SHARED.factory, CollectOptions(), writer.add
        )
        writer.commit(snapshot_run_of(summary), changes=changes, mode=0o640)
    for path in (snap, changes, meta_path_for(snap)):
        assert path.stat().st_mode & 0o777 == 0o640, path


def test_a_session_holds_the_lock_for_the_whole_run(snap: Path) -> None:
    create_jobs(EAST, ["a"])
    with snapshot_session(snap, SnapshotSettings()) as writer:
        with pytest.raises(SnapshotLocked), snapshot_session(snap, SnapshotSettings()):
            pytest.fail("a second session got the lock")
        summary = run_inventory(
            build_scopes([AccountSource()], [EAST]),
            SHARED.factory,
            CollectOptions(reuse=writer.snapshot.reuse),
            writer.add,
        )
        outcome = writer.commit(snapshot_run_of(summary))
    with snapshot_session(snap, SnapshotSettings()):  # released
        pass
    assert outcome.to_json() == {
        "records": 1,
        "added": 1,
        "changed": 0,
        "removed": 0,
        "unchanged": 0,
        "reused": 0,
        "stale": [],
    }


def test_stale_scopes_in_the_report_carry_their_since_as_text() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 500_000, tzinfo=timezone.utc)
    outcome = SnapshotOutcome(
        stale=[StaleScope(ACCOUNT, WEST, 3, moment), StaleScope(ACCOUNT, EAST, 0, None)]
    )
    assert outcome.to_json()["stale"] == [
        {"account_id": ACCOUNT, "region": WEST, "records": 3, "since": "2026-03-01T12:00:00.500Z"},
        {"account_id": ACCOUNT, "region": EAST, "records": 0, "since": None},
    ]
