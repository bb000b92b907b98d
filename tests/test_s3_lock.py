"""The lock of an S3 snapshot (FILE.lock, S3 conditional writes): one run at a time, a dead
holder's lock expires by S3's clock and is taken over by one run only, a live holder keeps it
renewed, and a run that lost it cannot pass `check()`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sagemaker_inventory.aws.s3_lock import (
    LOCK_SUFFIX,
    S3LockHeld,
    s3_snapshot_lock,
)
from sagemaker_inventory.aws.s3_objects import s3_client
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.output.s3_url import S3Url

BUCKET = "smi-state"
SNAPSHOT = S3Url(BUCKET, "nightly/inventory.jsonl")
LOCK_KEY = SNAPSHOT.key + LOCK_SUFFIX


@pytest.fixture
def client(moto_aws: None) -> Any:
    made = s3_client(SessionFactory())
    made.create_bucket(Bucket=BUCKET)
    return made


def lock_body(client: Any) -> dict[str, Any]:
    body = client.get_object(Bucket=BUCKET, Key=LOCK_KEY)["Body"].read()
    document: dict[str, Any] = json.loads(body)
    return document


def lock_exists(client: Any) -> bool:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=LOCK_KEY)
    return bool(listed.get("KeyCount"))


def test_two_runs_in_sequence_each_take_the_lock_and_leave_none(client: Any) -> None:
    for _ in range(2):
        with s3_snapshot_lock(client, SNAPSHOT) as lock:
            assert lock_body(client)["run"] == lock.holder.run
            lock.check()
        assert not lock_exists(client)


def test_a_second_run_is_refused_with_the_holder_named(client: Any) -> None:
    with s3_snapshot_lock(client, SNAPSHOT) as lock:
        with pytest.raises(S3LockHeld) as caught, s3_snapshot_lock(client, SNAPSHOT):
            pytest.fail("a second run proceeded")
        message = str(caught.value)
        assert message.startswith(
            f"s3://{BUCKET}/nightly/inventory.jsonl is in use by another smi run"
        )
        assert f"host {lock.holder.host}, pid {lock.holder.pid}, since " in message
        assert f"lock s3://{BUCKET}/{LOCK_KEY};" in message
        assert "\n" not in message and "S3Lock" not in message
        lock.check()  # the refused run left the holder's lock alone
    assert not lock_exists(client)
