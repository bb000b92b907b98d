"""What an S3 lock object says, and whether it has expired, judged by S3's clock alone.

A lock object (FILE.lock beside an S3 snapshot FILE) holds a small JSON document naming its
holder: host, pid, a random run id, when it was acquired, a sequence number that every renewal
raises, and the expiry it promises to renew within. Every write of it is unique (run id and
sequence), so its ETag names one write: a conditional write on an ETag can never match an older
or another run's copy with the same content. Whether it has expired is decided from S3's own
answer -- the object's LastModified plus the expiry, against the Date of that same answer -- so
two machines whose clocks disagree can never both see a live lock as dead. An object that is not
smi's (garbled, written by hand) expires by the same rule, with the reader's own expiry.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from sagemaker_inventory.records.timestamps import format_utc_seconds, parse_timestamp_or_none

# Both LastModified and Date are whole seconds (truncated): a lock is judged expired only once
# S3's clock is past LastModified + expiry by more than that rounding, never a second early.
CLOCK_RESOLUTION = timedelta(seconds=1)

# A lock object larger than this is not smi's: it is not read further (its expiry rule stands).
MAX_BODY_BYTES = 4096

# An expiry a lock object may promise: a garbled or hostile value outside this range is ignored
# (the reader's own expiry applies), so no object can block every run for days.
MAX_EXPIRY_SECONDS = 24 * 3600.0

_FORMAT = "smi-snapshot-lock/1"


@dataclass(frozen=True)
class LockHolder:
    """The run that wrote a lock object, as its body says."""

    host: str
    pid: int
    run: str
    acquired: datetime
    sequence: int
    expiry: float

    def to_body(self, now: datetime) -> bytes:
        """The lock object's JSON body, written at `now` (the writer's clock: for people only)."""
        document = {
            "format": _FORMAT,
            "host": self.host,
            "pid": self.pid,
            "run": self.run,
            "acquired": format_utc_seconds(self.acquired),
            "renewed": format_utc_seconds(now),
            "expires": format_utc_seconds(now + timedelta(seconds=self.expiry)),
            "expiry_seconds": self.expiry,
            "sequence": self.sequence,
        }
        return json.dumps(document, sort_keys=True).encode()


def parse_holder(body: bytes) -> LockHolder | None:
    """The holder a lock object's body names, or None when it is not smi's lock."""
    try:
        document = json.loads(body)
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            return None
        return _holder_from(document)
    except (ValueError, TypeError, KeyError, RecursionError):  # deep nesting: a few KiB suffice
        return None


def _holder_from(document: dict[str, Any]) -> LockHolder | None:
    host, pid, run = document["host"], document["pid"], document["run"]
    sequence, expiry = document["sequence"], document["expiry_seconds"]
    if not (isinstance(host, str) and isinstance(run, str) and run):
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (pid, sequence)):
        return None
    if not isinstance(expiry, (int, float)) or not math.isfinite(expiry):
        return None
    if not 0 < expiry <= MAX_EXPIRY_SECONDS:
        return None
    acquired = parse_timestamp_or_none(document["acquired"])
    if acquired is None:
        return None
    return LockHolder(host, pid, run, acquired, sequence, float(expiry))


@dataclass(frozen=True)
class SeenLock:
    """A lock object as one GetObject answer showed it."""

    etag: str
    last_modified: datetime
    s3_now: datetime  # the answer's Date: S3's clock
    holder: LockHolder | None  # None: not smi's lock

    def until(self, default_expiry: float) -> datetime:
        """When it expires unless renewed (S3's clock): holder's expiry, else `default_expiry`."""
        expiry = self.holder.expiry if self.holder else default_expiry
        return self.last_modified + timedelta(seconds=expiry)

    def expired(self, default_expiry: float) -> bool:
        return self.s3_now > self.until(default_expiry) + CLOCK_RESOLUTION

    def describe(self, default_expiry: float) -> str:
        """Who holds it, for a message: 'another smi run (host h, pid 7, since ..., until ...)'."""
        until = format_utc_seconds(self.until(default_expiry))
        if self.holder is None:
            return f"another writer (the lock object is not smi's; until {until})"
        holder = self.holder
        since = format_utc_seconds(holder.acquired)
        return (
            f"another smi run (host {holder.host}, pid {holder.pid}, since {since}, until {until})"
        )


def seen_lock(answer: dict[str, Any], body: bytes) -> SeenLock:
    """The lock object of a GetObject `answer` whose body (its first bytes) is `body`."""
    last_modified = answer["LastModified"].astimezone(timezone.utc)
    return SeenLock(answer["ETag"], last_modified, s3_clock(answer), parse_holder(body))


def s3_clock(answer: dict[str, Any]) -> datetime:
    """S3's clock at `answer`: its Date header. S3 always sends one; an S3-compatible store that
    does not leaves the local clock as the only one there is."""
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    try:
        return parsedate_to_datetime(headers["date"]).astimezone(timezone.utc)
    except (KeyError, TypeError, ValueError):
        return datetime.now(timezone.utc)
