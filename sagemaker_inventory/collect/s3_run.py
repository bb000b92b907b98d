"""The S3 objects one `smi collect` run writes, opened before any collection.

`open_s3_destinations` runs once the run's sessions exist and its scopes are known, before the
first ListTrainingJobs: with `--snapshot s3://` it takes the S3 lock and reads the previous set
(`collect.s3_snapshot`); for an `-o` or `--report` object it starts the multipart upload the run
streams into (`aws.s3_upload`). So a missing bucket, a denied write, an unusable KMS key or a
locked snapshot stops the run before it collects anything, naming the URL (`S3DestinationError`,
exit 2; `S3LockHeld`, exit 4). Every upload is registered with the run's ExitStack, which aborts
those not completed when the run ends: a failed or stopped run leaves every object as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sagemaker_inventory.aws.retry_waits import RunStop
from sagemaker_inventory.aws.s3_objects import S3Error
from sagemaker_inventory.aws.s3_upload import S3Upload, sse_arguments
from sagemaker_inventory.collect.plan import Destination, Location
from sagemaker_inventory.output.s3_url import S3Url
from sagemaker_inventory.records.record import MutableRecord
from sagemaker_inventory.snapshot.index import SnapshotSettings
from sagemaker_inventory.snapshot.writer import SnapshotWriter


class S3DestinationError(Exception):
    """An S3 object of the run cannot be written or read at the start (no such bucket, access
    denied, a KMS key refused): the run stops before collecting (exit 2); `str()` names the URL."""


@dataclass
class S3Destinations:
    """What the run holds in S3: the snapshot's writer, and the uploads of -o and --report."""

    keeper: SnapshotWriter | None = None
    output: S3Upload | None = None
    report: S3Upload | None = None


@dataclass(frozen=True)
class S3Clients:
    """The run's S3 client (the run's stop cuts its requests short) and the lock's (it does
    not, so that a stopped run still deletes its lock), both of the base profile."""

    run: Any
    lock: Any
    stop: RunStop


def open_s3_destinations(
    stack: contextlib.ExitStack,
    clients: S3Clients,
    destination: Destination,
    settings: SnapshotSettings,
    carry: Callable[[MutableRecord], MutableRecord] | None,
) -> S3Destinations:
    """Open every S3 object of `destination`, each closed (aborted unless completed) by `stack`.
    Raises S3DestinationError, S3LockHeld or JournalRefused."""
    client = clients.run
    extra = sse_arguments(destination.sse_kms_key_id)
    opened = S3Destinations()
    try:
        if isinstance(destination.snapshot, S3Url):
            from sagemaker_inventory.collect.s3_snapshot import s3_snapshot_session

            changes = destination.changes if isinstance(destination.changes, S3Url) else None
            opened.keeper = stack.enter_context(
                s3_snapshot_session(
                    client,
                    destination.snapshot,
                    settings,
                    changes=changes,
                    carry=carry,
                    extra_args=extra,
                    lock_client=clients.lock,
                    stop=clients.stop,
                )
            )
        opened.output = _started_upload(stack, client, destination.path, extra)
        opened.report = _started_upload(stack, client, destination.report, extra)
    except S3Error as error:
        raise S3DestinationError(f"{error}: nothing was collected") from None
    except OSError as error:  # the temporary directory the snapshot is read into (TMPDIR)
        raise S3DestinationError(
            f"{destination.snapshot}: no writable temporary directory to read it into"
            f" ({error.strerror or error}; set TMPDIR): nothing was collected"
        ) from None
    return opened


def _started_upload(
    stack: contextlib.ExitStack, client: Any, location: Location | None, extra: dict[str, str]
) -> S3Upload | None:
    if not isinstance(location, S3Url):
        return None
    upload = S3Upload(client, location, extra)
    stack.callback(upload.abort)
    return upload
