"""One run per S3 snapshot: a lock object FILE.lock beside s3://bucket/FILE, taken with S3's
conditional writes.

S3 has no flock, so the lock is an object that only one writer can create (PutObject with
`If-None-Match: *`) and only its current holder can replace or delete (`If-Match` on the ETag
of the holder's own last write). A run that finds it held refuses at once (`S3LockHeld`, which
the CLI turns into exit 4, as for a local snapshot's lock). A holder that dies (SIGKILL, a lost
node) cannot release it, so a lock expires: its holder renews it every third of the expiry on a
daemon thread, and a run that finds a lock not renewed for longer than the expiry -- judged by
S3's clock, see `s3_lock_object` -- takes it over with `If-Match` on the ETag it saw, so that of
two such runs only one wins. Whether a holder still holds its lock is never guessed from its
own clock: `S3Lock.check()`, right before the run's commit point, renews once with `If-Match`,
which succeeds only if no other run has written the lock since this run's last write (every
takeover writes it), and raises `S3LockLost` otherwise. A holder that could not renew for a
while (S3 unreachable, the process paused) therefore keeps its lock if nobody took it meanwhile,
and learns it lost it if somebody did.

Every call goes through the client given (the run's own, from the base profile). Give it one
whose requests a run's stop does not refuse, so that a stopped run still deletes its lock; the
stop itself (`stop=`) ends the renewal thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from sagemaker_inventory.aws.retry_waits import RunStop, Stopped
from sagemaker_inventory.aws.s3_lock_object import (
    MAX_BODY_BYTES,
    LockHolder,
    SeenLock,
    seen_lock,
)
from sagemaker_inventory.aws.s3_objects import S3Error, s3_errors
from sagemaker_inventory.output.s3_url import S3Url

logger = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"

# How long a lock lives without a renewal. Long enough that a live run keeps its lock through
# a throttled or slow S3 (it renews every third of this, so a renewal may fail or crawl through
# botocore's retries twice over before any other run may take the lock), and that a busy
# machine's stalls never come near it; short enough that a nightly run killed outright blocks
# the next scheduled run, or a retry by hand, for minutes rather than hours.
LOCK_EXPIRY_SECONDS = 600.0

# Attempts at acquiring when the lock changes between two calls (released, taken over, a 409
# ConditionalRequestConflict that S3 answers to concurrent conditional writes).
_ACQUIRE_ATTEMPTS = 5

# How often the renewal thread looks at the run's stop while it waits.
_STOP_POLL_SECONDS = 0.25

# How long the release waits for a renewal in flight (and then for the renewal thread to end)
# before leaving the lock to expire.
_RELEASE_WAIT_SECONDS = 10.0

# S3's answers to a conditional write that did not apply.
_NOT_APPLIED = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "404"})

_NO_EXTRA_ARGS: Mapping[str, str] = MappingProxyType({})


class S3LockHeld(RuntimeError):
    """Another live run holds the lock of an S3 snapshot."""

    def __init__(self, snapshot: S3Url, lock: S3Url, holder: str) -> None:
        super().__init__(
            f"{snapshot} is in use by {holder}: refusing to run at the same time "
            f"(lock {lock}; it is released when that run ends, and expires if that run died)"
        )
        self.snapshot, self.lock = snapshot, lock


class S3LockLost(RuntimeError):
    """This run's lock expired or was taken over: the run must not commit."""


class S3Lock:
    """This run's hold on the lock of one S3 snapshot (see `s3_snapshot_lock`)."""

    def __init__(
        self,
        client: Any,
        snapshot: S3Url,
        *,
        extra_args: Mapping[str, str] = _NO_EXTRA_ARGS,
        expiry: float = LOCK_EXPIRY_SECONDS,
        stop: RunStop | None = None,
    ) -> None:
        self.client, self.snapshot, self.url = client, snapshot, snapshot.with_suffix(LOCK_SUFFIX)
        self.expiry, self.stop, self.extra_args = expiry, stop, dict(extra_args)
        self.holder = LockHolder(
            host=platform.node() or "unknown host",
            pid=os.getpid(),
            run=secrets.token_hex(16),
            acquired=datetime.now(timezone.utc),
            sequence=0,
            expiry=expiry,
        )
        self._etag: str | None = None  # of our last write that landed
        self._lost: str | None = None  # why the lock is no longer ours
        self._mutex = threading.Lock()  # one write of the lock at a time: renewals, release
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> None:
        """Raise S3LockLost unless this run still holds the lock; renews it once, so that what
        follows (the commit) starts right after a fresh proof of ownership."""
        with self._mutex:
            if self._lost is None:
                try:
                    if self._renew():
                        return
                except S3Error as error:
                    raise S3LockLost(
                        f"{self.snapshot}: this run could not renew its lock {self.url} "
                        f"({error.reason}), so it cannot tell whether it still holds it; "
                        "refusing to write the snapshot"
                    ) from None
            raise S3LockLost(self._lost_message())

    def acquire(self) -> None:
        """Take the lock, or raise S3LockHeld (a live holder) or S3Error (S3 refused the call);
        then keep it renewed until `release`."""
        seen: SeenLock | None = None
        for _ in range(_ACQUIRE_ATTEMPTS):
            if self._write(IfNoneMatch="*"):
                break
            seen = self._read()
            if seen is None:
                continue  # released between our two calls: try again
            if seen.holder is not None and seen.holder.run == self.holder.run:
                self._etag = seen.etag  # our own write, whose answer was lost and then retried
                break
            if not seen.expired(self.expiry):
                raise S3LockHeld(self.snapshot, self.url, seen.describe(self.expiry))
            logger.warning("%s: taking over from %s", self.url, seen.describe(self.expiry))
            if self._write(IfMatch=seen.etag):
                break
        else:
            holder = seen.describe(self.expiry) if seen else "another smi run"
            raise S3LockHeld(self.snapshot, self.url, holder)
        self._start_renewals()

    def release(self) -> None:
        """Stop renewing and delete the lock if it is still ours; any failure leaves it to
        expire (logged), since the run's own outcome is already decided."""
        self._done.set()  # no renewal starts after this one
        if self._mutex.acquire(timeout=_RELEASE_WAIT_SECONDS):
            try:
                self._delete()
            finally:
                self._mutex.release()
        else:
            logger.warning("%s: a renewal is still in flight; the lock is left to expire", self.url)
        if self._thread is not None:
            self._thread.join(_RELEASE_WAIT_SECONDS)

    def _delete(self) -> None:
        if self._etag is None:
            return
        try:
            with s3_errors(self.url):
                self.client.delete_object(
                    Bucket=self.url.bucket, Key=self.url.key, IfMatch=self._etag
                )
        except S3Error as error:
            if error.code not in _NOT_APPLIED:
                logger.warning(
                    "%s: the lock could not be removed (%s); it expires", self.url, error
                )
            # else: someone took it over (or removed it); theirs stays as it is
        except Stopped:
            logger.warning(
                "%s: the run was stopped before its lock was removed; it expires", self.url
            )

    def _write(self, **condition: str) -> bool:
        """PutObject of a new body on `condition`; False when the condition did not hold."""
        holder = self.holder
        self.holder = LockHolder(
            holder.host, holder.pid, holder.run, holder.acquired, holder.sequence + 1, holder.expiry
        )
        try:
            with s3_errors(self.url):
                answer = self.client.put_object(
                    Bucket=self.url.bucket,
                    Key=self.url.key,
                    Body=self.holder.to_body(datetime.now(timezone.utc)),
                    ContentType="application/json",
                    **condition,
                    **self.extra_args,
                )
        except S3Error as error:
            if error.code in _NOT_APPLIED:
                return False
            raise
        self._etag = answer["ETag"]
        return True

    def _read(self) -> SeenLock | None:
        """The lock object as it is now, or None when there is none."""
        try:
            with s3_errors(self.url):
                answer = self.client.get_object(Bucket=self.url.bucket, Key=self.url.key)
                with contextlib.closing(answer["Body"]) as body:
                    content = body.read(MAX_BODY_BYTES)
        except S3Error as error:
            if error.code in ("NoSuchKey", "404"):
                return None
            raise
        return seen_lock(answer, content)

    def _renew(self) -> bool:
        """Rewrite the lock on our ETag (the mutex held); False (and why in `_lost`) when it is
        no longer ours. When the condition fails, the lock is looked at: another's (or none)
        means lost; ours means one of our writes landed although its answer was lost (a
        timeout, then botocore's retry), so renew on that write's ETag."""
        for _ in range(2):
            if self._etag is None or self._write(IfMatch=self._etag):
                return True
            seen = self._read()
            if seen is None:
                self._lost = "it was removed by someone else"
                return False
            if seen.holder is None or seen.holder.run != self.holder.run:
                self._lost = f"it was taken over by {seen.describe(self.expiry)}"
                return False
            self._etag = seen.etag  # one of our writes landed although its answer was lost
            if seen.holder.sequence == self.holder.sequence:
                return True  # this very one
        raise S3Error(self.url, "the lock kept changing while it was renewed", "Conflict")

    def _start_renewals(self) -> None:
        self._thread = threading.Thread(
            target=self._keep_renewed, name=f"smi lock {self.url}", daemon=True
        )
        self._thread.start()

    def _keep_renewed(self) -> None:
        """The renewal thread: every third of the expiry, and sooner after a failure, until the
        release, a stop, or the lock is lost. A failure is not a loss (see the module's
        docstring): it is logged and tried again; `check()` tells."""
        interval = self.expiry / 3
        next_at = time.monotonic() + interval
        while self._sleep_until(next_at):
            with self._mutex:
                if self._done.is_set() or self._lost is not None:
                    return
                try:
                    if not self._renew():
                        logger.error("%s", self._lost_message())
                        return
                    next_at = time.monotonic() + interval
                except Stopped:
                    return
                except Exception as error:
                    logger.warning("%s: renewing the lock failed: %s", self.url, error)
                    next_at = time.monotonic() + interval / 3

    def _sleep_until(self, moment: float) -> bool:
        """Wait until `moment`: False when released or stopped first."""
        while (remaining := moment - time.monotonic()) > 0:
            if self._done.wait(min(remaining, _STOP_POLL_SECONDS)):
                return False
            if self.stop is not None and self.stop.event.is_set():
                return False
        return not self._done.is_set()

    def _lost_message(self) -> str:
        return (
            f"{self.snapshot}: this run lost its lock {self.url}: {self._lost}; "
            "refusing to write the snapshot"
        )


@contextlib.contextmanager
def s3_snapshot_lock(
    client: Any,
    snapshot: S3Url,
    *,
    extra_args: Mapping[str, str] = _NO_EXTRA_ARGS,
    expiry: float = LOCK_EXPIRY_SECONDS,
    stop: RunStop | None = None,
) -> Iterator[S3Lock]:
    """Hold the lock of `snapshot` (FILE.lock) for the block: S3LockHeld at once if another live
    run has it, S3Error naming the lock's URL if S3 refuses. `extra_args` go to every PutObject
    (ServerSideEncryption, SSEKMSKeyId); `expiry` (seconds) is for tests; `stop` ends renewals.
    Call `check()` on the lock right before committing."""
    lock = S3Lock(client, snapshot, extra_args=extra_args, expiry=expiry, stop=stop)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
