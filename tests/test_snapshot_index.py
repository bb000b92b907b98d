"""Reading a snapshot: what is refused (with FILE:LINE) and when `Snapshot.reuse` hands a stored
record back instead of a DescribeTrainingJob. No AWS: the snapshots are written by hand."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from jobs import ACCOUNT

from sagemaker_inventory.snapshot.errors import SnapshotError
from sagemaker_inventory.snapshot.index import SnapshotSettings, open_snapshot

EAST = "us-east-1"


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return tmp_path / "inventory.jsonl"


def test_a_snapshot_that_is_not_jsonl_is_refused_with_its_line(snap: Path) -> None:
    snap.write_text(
        '{"training_job_arn": "arn:aws:sagemaker:us-east-1:1:training-job/a", '
        '"account_id": "1"}\nname,status\n'
    )
    with (
        pytest.raises(SnapshotError, match=r"inventory\.jsonl:2: not a JSON record"),
        open_snapshot(snap, SnapshotSettings()),
    ):
        pass


def test_a_record_without_an_arn_is_refused(snap: Path) -> None:
    snap.write_text('{"training_job_name": "a"}\n')
    with (
        pytest.raises(SnapshotError, match=r":1: not a training job record"),
        open_snapshot(snap, SnapshotSettings()),
    ):
        pass


def test_reuse_compares_instants_not_strings(snap: Path) -> None:
    arn = f"arn:aws:sagemaker:{EAST}:{ACCOUNT}:training-job/a"
    record = {
        "account_id": ACCOUNT,
        "training_job_arn": arn,
        "last_modified_time": "2026-03-01T12:00:00.250Z",
        "training_job_status": "InProgress",
        "secondary_status": "Training",
    }
    snap.write_text(json.dumps(record) + "\n")
    plus_5_30 = timezone(timedelta(hours=5, minutes=30))
    same = datetime(2026, 3, 1, 17, 30, 0, 250_400, tzinfo=plus_5_30)  # sub-ms noise ignored
    summary = {"TrainingJobArn": arn, "LastModifiedTime": same, "TrainingJobStatus": "InProgress"}
    with open_snapshot(snap, SnapshotSettings()) as snapshot:
        snapshot.reusable = True  # no sidecar: pretend it matched
        assert snapshot.reuse(summary) == record
        assert snapshot.reuse({**summary, "SecondaryStatus": "Training"}) == record
        assert snapshot.reuse({**summary, "SecondaryStatus": "Uploading"}) is None
        assert snapshot.reuse({**summary, "TrainingJobStatus": "Completed"}) is None
        later = same + timedelta(milliseconds=1)
        assert snapshot.reuse({**summary, "LastModifiedTime": later}) is None
        assert snapshot.reuse({k: v for k, v in summary.items() if k != "LastModifiedTime"}) is None
        assert snapshot.reuse({**summary, "TrainingJobArn": arn + "x"}) is None
        assert snapshot.reused == 2
