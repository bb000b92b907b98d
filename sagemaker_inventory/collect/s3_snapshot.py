"""`--snapshot s3://BUCKET/KEY`: the snapshot's session when its set lives in S3.

Under the S3 lock (`aws.s3_lock`, held and renewed for the whole run), before anything else: the
commit a killed run left is finished (`aws.s3_commit.recover_s3_set`) and the uploads killed runs
left are aborted. The previous FILE and its sidecar are then copied to a private temporary
directory (TMPDIR), where the snapshot's index reads them as it reads a local snapshot, and where
this run's records are spooled; the new set is committed to S3 by an `S3FileSet`, which checks the
lock right before its commit point. The directory is removed when the session ends.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sagemaker_inventory.aws.retry_waits import RunStop
from sagemaker_inventory.aws.s3_commit import S3FileSet, recover_s3_set, remove_stale_uploads
from sagemaker_inventory.aws.s3_files import download_object
from sagemaker_inventory.aws.s3_lock import S3Lock, S3LockLost, s3_snapshot_lock
from sagemaker_inventory.aws.s3_objects import S3Error
from sagemaker_inventory.output.files import WriteFailed
from sagemaker_inventory.output.s3_url import S3Url
from sagemaker_inventory.records.record import MutableRecord
from sagemaker_inventory.snapshot.index import (
    META_SUFFIX,
    SnapshotSettings,
    meta_path_for,
    open_snapshot,
)
from sagemaker_inventory.snapshot.journal import JOURNAL_SUFFIX
from sagemaker_inventory.snapshot.set_writer import SetWriter, Step
from sagemaker_inventory.snapshot.writer import SnapshotWriter

logger = logging.getLogger(__name__)

# The local copy's name: the key's last part could be anything S3 allows ("..", say).
LOCAL_NAME = "snapshot.jsonl"


def s3_set_targets(snapshot: S3Url, changes: S3Url | None) -> list[S3Url]:
    """The objects of the set: FILE, FILE.meta.json and the --changes object."""
    targets = [snapshot, snapshot.with_suffix(META_SUFFIX)]
    return targets + ([changes] if changes is not None else [])


@contextlib.contextmanager
def s3_snapshot_session(
    client: Any,
    snapshot: S3Url,
    settings: SnapshotSettings,
    *,
    changes: S3Url | None = None,
    carry: Callable[[MutableRecord], MutableRecord] | None = None,
    extra_args: Mapping[str, str] | None = None,
    lock_client: Any = None,
    stop: RunStop | None = None,
) -> Iterator[SnapshotWriter]:
    """Lock the S3 snapshot (S3LockHeld at once if another run has it), finish or clean what
    killed runs left, read the previous set, and yield the writer that commits the new one.
    S3Error (a missing bucket, access denied) or JournalRefused before any collection.

    `lock_client` (default: `client`) holds the lock: one the run's stop does not cut short, so
    that a stopped run still deletes its lock; `stop` ends the lock's renewals."""
    extra = dict(extra_args or {})
    with s3_snapshot_lock(lock_client or client, snapshot, extra_args=extra, stop=stop) as lock:
        targets = s3_set_targets(snapshot, changes)
        journal = snapshot.with_suffix(JOURNAL_SUFFIX)
        recover_s3_set(client, journal, targets)
        _remove_stale_uploads(client, targets)
        with tempfile.TemporaryDirectory(prefix="smi-snapshot-") as directory:
            local = Path(directory) / LOCAL_NAME
            download_object(client, snapshot, local)
            download_object(client, targets[1], meta_path_for(local))
            names = {str(local): targets[0], str(meta_path_for(local)): targets[1]}
            if changes is not None:
                names[str(changes)] = changes

            def file_set(step: Step | None) -> SetWriter:
                return S3FileSet(
                    client, journal, names, extra_args=extra, guard=_guard(lock), step=step
                )

            with (
                open_snapshot(local, settings, name=str(snapshot)) as previous,
                SnapshotWriter(previous, carry=carry, file_set=file_set) as writer,
            ):
                yield writer


def _remove_stale_uploads(client: Any, targets: list[S3Url]) -> None:
    """Abort what killed runs left; without s3:ListBucketMultipartUploads, leave it to the
    bucket's lifecycle rule (invisible uploads cost storage, not correctness)."""
    try:
        remove_stale_uploads(client, targets)
    except S3Error as error:
        if error.code not in ("AccessDenied", "403"):
            raise
        logger.warning("%s; uploads of killed runs are left to the lifecycle rule", error)


def _guard(lock: S3Lock) -> Callable[[], None]:
    """The last check before the commit point: a lock lost (expired, taken over) is a write that
    failed (exit 5, every object as it was), never a commit over another run's."""

    def check() -> None:
        try:
            lock.check()
        except S3LockLost as lost:
            reason = str(lost).removeprefix(f"{lock.snapshot}: ")
            raise WriteFailed(str(lock.snapshot), reason) from None

    return check
