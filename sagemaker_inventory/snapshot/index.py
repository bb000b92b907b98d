"""`smi collect --snapshot FILE`: FILE is the full JSONL inventory of its scopes, kept up to date.

`open_snapshot` indexes the previous FILE by training_job_arn in one streamed pass, keeping only
what decides "unchanged" (last_modified_time, training_job_status, secondary_status) and each
line's byte offset: a record is re-read with pread when it is reused, so memory stays flat however
large the inventory is. `Snapshot.reuse` is the `CollectOptions.reuse` hook: a listed job whose
LastModifiedTime (as a UTC instant, at the records' millisecond precision) and status match its
snapshot record skips DescribeTrainingJob. A record's scope is its account_id and the region of
its ARN. The sidecar FILE.meta.json records when each scope was last refreshed and the settings
the records were made with (--all-fields, redaction patterns): records are reused only when those
match this run's, since a reused record would otherwise keep the old form. Writing the new FILE
(`SnapshotWriter`, `SnapshotOutcome`, `StaleScope`, `snapshot_session`) is
`sagemaker_inventory.snapshot.writer`'s job.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NamedTuple

from sagemaker_inventory.records.arns import region_of
from sagemaker_inventory.records.record import MutableRecord, Record, record_json
from sagemaker_inventory.records.timestamps import (
    format_timestamp,
    parse_timestamp,
    parse_timestamp_or_none,
)
from sagemaker_inventory.snapshot.errors import SnapshotError

logger = logging.getLogger(__name__)

ScopeKey = tuple[str, str]  # (account_id, region)

META_SUFFIX = ".meta.json"
META_FORMAT = 1


@dataclass(frozen=True)
class SnapshotSettings:
    """What shapes a record besides the job itself; reuse needs the stored and current to agree."""

    all_fields: bool = False
    redaction: tuple[str, ...] | None = ()  # the key patterns in force; None = --no-redact

    def to_json(self) -> dict[str, Any]:
        redaction = None if self.redaction is None else list(self.redaction)
        return {"all_fields": self.all_fields, "redaction": redaction}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SnapshotSettings:
        redaction = data.get("redaction")
        return cls(bool(data.get("all_fields")), None if redaction is None else tuple(redaction))


class _Entry(NamedTuple):
    arn: str
    offset: int
    length: int
    last_modified: str | None  # normalised by format_timestamp
    status: str | None
    secondary: str | None


def meta_path_for(path: str | os.PathLike[str]) -> Path:
    """FILE.meta.json beside FILE."""
    target = Path(path)
    return target.with_name(target.name + META_SUFFIX)


def dumps(record: Record) -> str:
    """One compact JSON line, keys in the record's (documented) order, as the jsonl sink writes."""
    return record_json(record)


class Snapshot:
    """The previous snapshot, indexed; open it with `open_snapshot` (it keeps the file open)."""

    def __init__(self, path: Path, settings: SnapshotSettings, name: str | None = None) -> None:
        self.path = path
        self.name = name or str(path)  # in messages: FILE as the user named it (an S3 URL)
        self.settings = settings
        self._file: IO[bytes] | None = None
        self._index: dict[str, _Entry] = {}
        self._scopes: dict[ScopeKey, list[_Entry]] = {}
        self._reused = 0
        self._lock = threading.Lock()
        meta = _read_meta(meta_path_for(path), self.name + META_SUFFIX)
        self.stored_settings = meta.settings
        self.refreshed: dict[ScopeKey, datetime | None] = meta.refreshed
        self.reusable = meta.settings == settings
        with contextlib.suppress(FileNotFoundError):
            self._file = path.open("rb")
        try:
            if self._file is not None:
                self._load(self._file)
        except BaseException:
            self.close()
            raise
        if self._index and not self.reusable:
            logger.info("%s: made with other settings; describing every job again", self.name)

    def _load(self, stream: IO[bytes]) -> None:
        offset = 0
        for number, raw in enumerate(stream, start=1):
            line = raw.rstrip(b"\r\n")
            if line.strip():
                record = _parse_line(line, f"{self.name}:{number}")
                entry = _entry_of(record, offset, len(line), f"{self.name}:{number}")
                if entry.arn not in self._index:
                    self._index[entry.arn] = entry
                    self._scopes.setdefault(scope_of(record), []).append(entry)
            offset += len(raw)

    @property
    def reused(self) -> int:
        """How many records `reuse` handed back this run (DescribeTrainingJob calls saved)."""
        return self._reused

    def reuse(self, summary: Mapping[str, Any]) -> MutableRecord | None:
        """The snapshot record of this TrainingJobSummary if the job is unchanged, else None."""
        entry = self._index.get(str(summary.get("TrainingJobArn")))
        if entry is None or not self.reusable or not _unchanged(entry, summary):
            return None
        record: MutableRecord = json.loads(self.line_of(entry))
        with self._lock:
            self._reused += 1
        return record

    def reuse_for(self, account_id: str, region: str) -> ScopeReuse | None:
        """`reuse` for one scope, as plain data another process can take: the scope's entries
        and FILE's path (the lock keeps FILE as it is until this run commits)."""
        if not self.reusable:
            return None
        entries = self._scopes.get((account_id, region), [])
        return ScopeReuse(self.path, {e.arn: e for e in entries}) if entries else None

    def entry(self, arn: str) -> _Entry | None:
        return self._index.get(arn)

    def scopes(self) -> dict[ScopeKey, list[_Entry]]:
        return self._scopes

    def line_of(self, entry: _Entry) -> bytes:
        if self._file is None:
            raise SnapshotError(f"{self.name}: closed")
        # pread: describe workers reuse records concurrently, and a shared seek would race.
        return os.pread(self._file.fileno(), entry.length, entry.offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass(frozen=True)
class ScopeReuse:
    """`Snapshot.reuse` restricted to one scope, for a worker process (see `Snapshot.reuse_for`).

    It reads each reused record from FILE at its offset; a line that is not the expected job's
    record (FILE replaced behind smi's back) is not reused, and the job is described instead.
    """

    path: Path
    entries: dict[str, _Entry]

    def __call__(self, summary: Mapping[str, Any]) -> MutableRecord | None:
        arn = str(summary.get("TrainingJobArn"))
        entry = self.entries.get(arn)
        if entry is None or not _unchanged(entry, summary):
            return None
        try:
            with self.path.open("rb") as stream:
                line = os.pread(stream.fileno(), entry.length, entry.offset)
            record = json.loads(line)
        except (OSError, ValueError):
            return None
        return (
            record if isinstance(record, dict) and record.get("training_job_arn") == arn else None
        )


@contextlib.contextmanager
def open_snapshot(
    path: str | os.PathLike[str], settings: SnapshotSettings, name: str | None = None
) -> Iterator[Snapshot]:
    """The snapshot at `path` (empty when it does not exist yet); SnapshotError if unreadable.
    `name`: FILE in messages, when `path` is a local copy of it."""
    snapshot = Snapshot(Path(path), settings, name)
    try:
        yield snapshot
    finally:
        snapshot.close()


def _parse_line(line: bytes, where: str) -> Mapping[str, Any]:
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{where}: not a JSON record ({exc})") from None
    if not isinstance(record, dict):
        raise SnapshotError(f"{where}: not a JSON object")
    return record


def _entry_of(record: Record, offset: int, length: int, where: str) -> _Entry:
    arn, account = record.get("training_job_arn"), record.get("account_id")
    if not isinstance(arn, str) or not isinstance(account, str) or region_of(record) is None:
        raise SnapshotError(f"{where}: not a training job record (no training_job_arn/account_id)")
    return _Entry(
        arn,
        offset,
        length,
        _normalize_instant(record.get("last_modified_time")),
        _text(record.get("training_job_status")),
        _text(record.get("secondary_status")),
    )


def scope_of(record: Record) -> ScopeKey:
    """(account_id, region of the ARN): the unit a run refreshes or carries over."""
    return (str(record.get("account_id")), region_of(record) or "")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _normalize_instant(value: Any) -> str | None:
    """A stored timestamp in format_timestamp's form (any UTC offset accepted), else None."""
    moment = value if isinstance(value, datetime) else parse_timestamp_or_none(value)
    return format_timestamp(moment)


def _unchanged(entry: _Entry, summary: Mapping[str, Any]) -> bool:
    modified = _normalize_instant(summary.get("LastModifiedTime"))
    if modified is None or modified != entry.last_modified:
        return False
    if summary.get("TrainingJobStatus") != entry.status:
        return False
    # SecondaryStatus moves within one status (Downloading -> Training); check it when listed.
    secondary = summary.get("SecondaryStatus")
    return secondary is None or secondary == entry.secondary


class _Meta(NamedTuple):
    settings: SnapshotSettings | None
    refreshed: dict[ScopeKey, datetime | None]


def _read_meta(path: Path, name: str) -> _Meta:
    """The sidecar; a missing or unreadable one only means "settings and refresh times unknown"."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        settings = SnapshotSettings.from_json(data["settings"])
        refreshed = {
            (str(s["account_id"]), str(s["region"])): _parse_moment(s.get("refreshed"))
            for s in data["scopes"]
        }
    except FileNotFoundError:
        return _Meta(None, {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("%s: ignored (%s); describing every job again", name, exc)
        return _Meta(None, {})
    return _Meta(settings, refreshed)


def _parse_moment(value: Any) -> datetime | None:
    text = _normalize_instant(value)
    return None if text is None else parse_timestamp(text)
