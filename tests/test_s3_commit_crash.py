"""Issue 22.1: a crash at any instant of an S3 --snapshot commit leaves either the old snapshot,
sidecar and changes objects, or the new ones; the next run finishes a commit it finds half done
(its journal) and aborts the uploads killed runs left; a run that fails leaves the old objects.

Each crash is real: a forked child commits against a moto server and leaves with os._exit at
one step (no cleanup runs, as under SIGKILL); the parent then opens the snapshot as the next
run would."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from conftest import running_moto_server
from test_commit_crash import ACCOUNT, REGION, crash_on, record

from sagemaker_inventory.collect.outcome import RunSummary, ScopeResult
from sagemaker_inventory.collect.run_files import snapshot_run_of
from sagemaker_inventory.collect.s3_snapshot import s3_snapshot_session
from sagemaker_inventory.output.files import WriteFailed
from sagemaker_inventory.output.s3_url import S3Url
from sagemaker_inventory.snapshot.errors import JournalRefused
from sagemaker_inventory.snapshot.index import SnapshotSettings

BUCKET = "smi-state"
SNAP = S3Url(BUCKET, "state/inv.jsonl")
CHANGES = S3Url(BUCKET, "state/changes.jsonl")
KEYS = ["state/changes.jsonl", "state/inv.jsonl", "state/inv.jsonl.meta.json"]
STEPS = [
    "written",
    "journal",
    "completed inv.jsonl",
    "completed inv.jsonl.meta.json",
    "completed changes.jsonl",
    "done",
]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with running_moto_server() as url:
        # The server shares this process's moto backends: start from an empty one.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        made = boto3.client("s3", region_name=REGION, endpoint_url=url)
        made.create_bucket(Bucket=BUCKET)
        yield made


def commit(client: Any, records: list[dict[str, Any]], crash_at: str | None = None) -> None:
    now = datetime.now(timezone.utc)
    summary = RunSummary(now, now, [ScopeResult(ACCOUNT, REGION)])
    with s3_snapshot_session(client, SNAP, SnapshotSettings(), changes=CHANGES) as writer:
        for item in records:
            writer.add(item)
        if crash_at is not None:
            writer.step = crash_on(crash_at)
        writer.commit(snapshot_run_of(summary), changes=str(CHANGES))


def objects(client: Any) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listed
        if not item["Key"].endswith(".lock")  # the lock lives beside the set, whoever holds it
    }


def uploads(client: Any) -> list[str]:
    return [u["Key"] for u in client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])]


@pytest.mark.skipif(
    not hasattr(os, "fork"), reason="each crash is a forked child leaving with os._exit (POSIX)"
)
@pytest.mark.parametrize("step", STEPS)
def test_a_crash_between_commit_steps_leaves_the_old_or_the_new_set(step: str, client: Any) -> None:
    commit(client, [record("a", "Completed")])
    old = objects(client)
    assert sorted(old) == KEYS
    new_records = [record("a", "Completed"), record("b", "Failed")]

    pid = os.fork()
    if pid == 0:  # the run that is killed
        try:
            commit(client, new_records, crash_at=step)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, "the child did not reach the step"
    # The killed run never released its lock: here it has expired.
    client.delete_object(Bucket=BUCKET, Key="state/inv.jsonl.lock")

    # The next run: recovery happens when it opens the snapshot, before anything else.
    with s3_snapshot_session(client, SNAP, SnapshotSettings(), changes=CHANGES):
        assert uploads(client) == []  # completed (journal) or aborted (stale)
        after = objects(client)
    assert sorted(after) == KEYS
    if step == "written":
        assert after == old
    else:
        names = [json.loads(line)["training_job_name"] for line in after[KEYS[1]].splitlines()]
        assert names == ["a", "b"]
        changes = [json.loads(line)["op"] for line in after[KEYS[0]].splitlines()]
        assert changes == ["added"]
        assert json.loads(after[KEYS[2]])["records"] == 2


def test_a_failed_commit_leaves_every_object_byte_identical(client: Any) -> None:
    commit(client, [record("a", "Completed")])
    old = objects(client)

    def refuse(**kwargs: Any) -> None:
        raise WriteFailed("s3://x", "refused")

    now = datetime.now(timezone.utc)
    with (
        pytest.raises(WriteFailed),
        s3_snapshot_session(client, SNAP, SnapshotSettings(), changes=CHANGES) as writer,
    ):
        writer.add(record("b", "Failed"))
        writer.step = lambda step: refuse() if step == "written" else None
        writer.commit(snapshot_run_of(RunSummary(now, now, [])), changes=str(CHANGES))
    assert objects(client) == old and uploads(client) == []


def test_a_lost_lock_commits_nothing(client: Any) -> None:
    """A run whose lock was taken over (it expired while the run hung) must not commit."""
    commit(client, [record("a", "Completed")])
    old = objects(client)

    def take_over(step: str) -> None:
        if step == "written":
            client.put_object(Bucket=BUCKET, Key="state/inv.jsonl.lock", Body=b"{}")

    now = datetime.now(timezone.utc)
    with (
        pytest.raises(WriteFailed, match="lost its lock"),
        s3_snapshot_session(client, SNAP, SnapshotSettings(), changes=CHANGES) as writer,
    ):
        writer.add(record("b", "Failed"))
        writer.step = take_over
        writer.commit(snapshot_run_of(RunSummary(now, now, [])), changes=str(CHANGES))
    assert objects(client) == old
    assert uploads(client) == []


@pytest.mark.parametrize(
    "journal",
    [
        b"not json",
        json.dumps({"format": 1, "bucket": "other-bucket", "uploads": []}).encode(),
        json.dumps(
            {
                "format": 1,
                "bucket": BUCKET,
                "uploads": [
                    {
                        "key": "elsewhere/x",
                        "upload_id": "u",
                        "parts": [{"PartNumber": 1, "ETag": "e"}],
                    }
                ],
            }
        ).encode(),
    ],
    ids=["not-json", "other-bucket", "other-key"],
)
def test_a_journal_that_is_not_smis_is_refused_and_nothing_is_touched(
    client: Any, journal: bytes
) -> None:
    commit(client, [record("a", "Completed")])
    client.put_object(Bucket=BUCKET, Key="state/inv.jsonl.commit.json", Body=journal)
    old = objects(client)
    refused = r"s3://smi-state/state/inv\.jsonl\.commit\.json: refused"
    with (
        pytest.raises(JournalRefused, match=refused),
        s3_snapshot_session(client, SNAP, SnapshotSettings(), changes=CHANGES),
    ):
        pass
    after = objects(client)
    assert after == old
