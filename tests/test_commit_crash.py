"""Issue 12.5: a crash at any instant of a --snapshot commit leaves either the old snapshot,
sidecar and changes, or the new ones; the next run finishes a commit it finds half done.

Each crash is real: a forked child commits and leaves with os._exit at one step (no cleanup
runs, as under SIGKILL); the parent then opens the snapshot as the next run would."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sagemaker_inventory.collect.outcome import RunSummary, ScopeResult
from sagemaker_inventory.collect.run_files import snapshot_run_of
from sagemaker_inventory.snapshot.index import SnapshotSettings, meta_path_for
from sagemaker_inventory.snapshot.writer import snapshot_session

ACCOUNT, REGION = "123456789012", "us-east-1"
STEPS = [
    "written",
    "journal",
    "renamed inv.jsonl",
    "renamed inv.jsonl.meta.json",
    "renamed changes.jsonl",
    "done",
]


def record(name: str, status: str) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "training_job_arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{name}",
        "training_job_name": name,
        "training_job_status": status,
        "last_modified_time": "2026-01-01T00:00:00Z",
    }


def commit(snap: Path, records: list[dict[str, Any]], crash_at: str | None = None) -> None:
    now = datetime.now(timezone.utc)
    summary = RunSummary(now, now, [ScopeResult(ACCOUNT, REGION)])
    changes = snap.with_name("changes.jsonl")
    with snapshot_session(snap, SnapshotSettings(), changes=changes) as writer:
        for item in records:
            writer.add(item)
        if crash_at is not None:
            writer.step = crash_on(crash_at)
        writer.commit(snapshot_run_of(summary), changes=changes)


def crash_on(crash_at: str) -> Callable[[str], None]:
    """A commit's step hook that leaves the process at `crash_at`, no cleanup run (as SIGKILL)."""

    def crash(step: str) -> None:
        if step == crash_at:
            os._exit(0)

    return crash


def files_of(snap: Path) -> dict[str, bytes]:
    names = (snap, meta_path_for(snap), snap.with_name("changes.jsonl"))
    return {path.name: path.read_bytes() for path in names}


@pytest.mark.skipif(
    not hasattr(os, "fork"), reason="each crash is a forked child leaving with os._exit (POSIX)"
)
@pytest.mark.parametrize("step", STEPS)
def test_a_crash_between_commit_steps_leaves_the_old_or_the_new_set(
    step: str, tmp_path: Path
) -> None:
    """Regression: a crash between the renames left a new snapshot with the old sidecar and
    changes (that run's changes lost for good)."""
    snap = tmp_path / "inv.jsonl"
    commit(snap, [record("a", "Completed")])
    old = files_of(snap)
    new_records = [record("a", "Completed"), record("b", "Failed")]
    # What the new set is, made the normal way in a copy.
    reference = tmp_path / "reference"
    reference.mkdir()
    for name, content in old.items():
        (reference / name).write_bytes(content)
    commit(reference / "inv.jsonl", new_records)
    new = files_of(reference / "inv.jsonl")

    pid = os.fork()
    if pid == 0:  # the run that is killed
        try:
            commit(snap, new_records, crash_at=step)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, "the child did not reach the step"

    # The next run (the same command): recovery happens when it opens the snapshot.
    with snapshot_session(snap, SnapshotSettings(), changes=snap.with_name("changes.jsonl")):
        pass
    after = files_of(snap)
    expected = old if step == "written" else new
    assert _comparable(after) == _comparable(expected)
    assert not (tmp_path / "inv.jsonl.commit.json").exists()
    # The killed run's temporaries are gone once the next run has committed.
    commit(snap, new_records)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def _comparable(files: dict[str, bytes]) -> dict[str, Any]:
    # The sidecar holds when each scope was refreshed: compare it without those instants.
    out: dict[str, Any] = dict(files)
    meta = json.loads(files["inv.jsonl.meta.json"])
    for scope in meta["scopes"]:
        scope.pop("refreshed", None)
    out["inv.jsonl.meta.json"] = meta
    return out
