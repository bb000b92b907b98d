"""`smi collect --snapshot FILE`: FILE is the full JSONL inventory of its scopes, kept up to date.

`open_snapshot` indexes the previous FILE by training_job_arn in one streamed pass, keeping only
what decides "unchanged" (last_modified_time, training_job_status, secondary_status) and each
line's byte offset: a record is re-read with pread when it is reused, so memory stays flat however
large the inventory is. `Snapshot.reuse` is the `CollectOptions.reuse` hook: a listed job whose
LastModifiedTime (as a UTC instant, at the records' millisecond precision) and status match its
snapshot record skips DescribeTrainingJob. `SnapshotWriter` spools this run's records to a
temporary file and `commit` writes the new FILE atomically, scope by scope in (account, region)
order: a scope collected this run is replaced by this run's records in list order (jobs no longer
listed are removed); every other scope (failed, skipped, cancelled or not requested) is carried
over unchanged, so one unreachable account never wipes its inventory. A record's scope is its
account_id and the region of its ARN. The sidecar FILE.meta.json records when each scope was last
refreshed (the start of the run that collected it; a failed scope's records are "stale since"
then) and the settings the records were made with (--all-fields, redaction patterns): records are
reused only when those match this run's, since a reused record would otherwise keep the old form.
`--changes` gets one {"op": "added"|"changed"|"removed", "record": ...} line per difference.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, NamedTuple

from sagemaker_inventory.files import atomic_writer
from sagemaker_inventory.inventory import OK, Summary
from sagemaker_inventory.lockfile import snapshot_lock
from sagemaker_inventory.measures import region_of
from sagemaker_inventory.shape import format_timestamp

logger = logging.getLogger(__name__)

Record = dict[str, Any]
ScopeKey = tuple[str, str]  # (account_id, region)

META_SUFFIX = ".meta.json"
META_FORMAT = 1


class SnapshotError(ValueError):
    """The snapshot (or its sidecar) cannot be read as one: message names FILE:LINE."""


class SnapshotCancelled(Exception):
    """The run was stopped before the new snapshot was moved into place: nothing was changed."""


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


@dataclass(frozen=True)
class StaleScope:
    """A scope not collected this run whose records were carried over from the previous snapshot."""

    account_id: str
    region: str
    records: int
    since: datetime | None  # None: the sidecar does not say (missing, or written by hand)


@dataclass
class SnapshotOutcome:
    """What commit wrote: counts for the run report and the stale scopes."""

    records: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    reused: int = 0
    stale: list[StaleScope] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """For the run report: the counts, and each stale scope with its "since" (or null)."""
        data = asdict(self)
        for scope in data["stale"]:
            scope["since"] = scope["since"] and format_timestamp(scope["since"])
        return data


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


def dumps(record: Mapping[str, Any]) -> str:
    """One compact JSON line, keys in the record's (documented) order, as the jsonl sink writes."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


class Snapshot:
    """The previous snapshot, indexed; open it with `open_snapshot` (it keeps the file open)."""

    def __init__(self, path: Path, settings: SnapshotSettings) -> None:
        self.path = path
        self.settings = settings
        self._file: IO[bytes] | None = None
        self._index: dict[str, _Entry] = {}
        self._scopes: dict[ScopeKey, list[_Entry]] = {}
        self._reused = 0
        self._lock = threading.Lock()
        meta = _read_meta(meta_path_for(path))
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
            logger.info("%s: made with other settings; describing every job again", path)

    def _load(self, stream: IO[bytes]) -> None:
        offset = 0
        for number, raw in enumerate(stream, start=1):
            line = raw.rstrip(b"\r\n")
            if line.strip():
                record = _parse_line(line, f"{self.path}:{number}")
                entry = _entry_of(record, offset, len(line), f"{self.path}:{number}")
                if entry.arn not in self._index:
                    self._index[entry.arn] = entry
                    self._scopes.setdefault(_scope_of(record), []).append(entry)
            offset += len(raw)

    @property
    def reused(self) -> int:
        """How many records `reuse` handed back this run (DescribeTrainingJob calls saved)."""
        return self._reused

    def reuse(self, summary: Mapping[str, Any]) -> Record | None:
        """The snapshot record of this TrainingJobSummary if the job is unchanged, else None."""
        entry = self._index.get(str(summary.get("TrainingJobArn")))
        if entry is None or not self.reusable or not _unchanged(entry, summary):
            return None
        record: Record = json.loads(self.line_of(entry))
        with self._lock:
            self._reused += 1
        return record

    def entry(self, arn: str) -> _Entry | None:
        return self._index.get(arn)

    def scopes(self) -> dict[ScopeKey, list[_Entry]]:
        return self._scopes

    def line_of(self, entry: _Entry) -> bytes:
        if self._file is None:
            raise SnapshotError(f"{self.path}: closed")
        # pread: describe workers reuse records concurrently, and a shared seek would race.
        return os.pread(self._file.fileno(), entry.length, entry.offset)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@contextlib.contextmanager
def open_snapshot(path: str | os.PathLike[str], settings: SnapshotSettings) -> Iterator[Snapshot]:
    """The snapshot at `path` (empty when it does not exist yet); SnapshotError if unreadable."""
    snapshot = Snapshot(Path(path), settings)
    try:
        yield snapshot
    finally:
        snapshot.close()


@contextlib.contextmanager
def snapshot_session(
    path: str | os.PathLike[str],
    settings: SnapshotSettings,
    *,
    mode: int = 0o600,
    carry: Callable[[Record], Record] | None = None,
) -> Iterator[SnapshotWriter]:
    """Lock FILE (SnapshotLocked at once if another run has it), index it, and yield the writer
    whose `snapshot.reuse` is the run's reuse hook and whose `commit` ends the run."""
    with (
        snapshot_lock(path, mode=mode),
        open_snapshot(path, settings) as snapshot,
        SnapshotWriter(snapshot, carry=carry) as writer,
    ):
        yield writer


def _parse_line(line: bytes, where: str) -> Mapping[str, Any]:
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"{where}: not a JSON record ({exc})") from None
    if not isinstance(record, dict):
        raise SnapshotError(f"{where}: not a JSON object")
    return record


def _entry_of(record: Mapping[str, Any], offset: int, length: int, where: str) -> _Entry:
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


def _scope_of(record: Mapping[str, Any]) -> ScopeKey:
    return (str(record.get("account_id")), region_of(record) or "")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _normalize_instant(value: Any) -> str | None:
    """A stored timestamp in format_timestamp's form (any UTC offset accepted), else None."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if not isinstance(value, str):
        return None
    try:
        # Python 3.10's fromisoformat does not read "Z".
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return format_timestamp(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc))


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


def _read_meta(path: Path) -> _Meta:
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
        logger.warning("%s: ignored (%s); describing every job again", path, exc)
        return _Meta(None, {})
    return _Meta(settings, refreshed)


def _parse_moment(value: Any) -> datetime | None:
    text = _normalize_instant(value)
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


class SnapshotWriter:
    """This run's records, spooled to an anonymous temporary file until `commit` merges them.

    `carry`, when given, rewrites carried-over records whose settings differ from this run's
    (the CLI passes the run's redaction, so a scope that failed never keeps an unredacted value
    written by an earlier --no-redact run).
    """

    def __init__(self, snapshot: Snapshot, *, carry: Callable[[Record], Record] | None = None):
        self._snapshot = snapshot
        self._carry = carry
        # Anonymous (gone on close or crash), beside the snapshot: a large inventory may not fit
        # in a small /tmp, and the new snapshot needs that much room there anyway.
        self._spool = tempfile.TemporaryFile(dir=snapshot.path.parent)  # noqa: SIM115
        self._size = 0
        # Per scope: job ARN -> (offset, length) in the spool, in the order the run emitted them.
        self._new: dict[ScopeKey, dict[str, tuple[int, int]]] = {}
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._spool.close()

    def add(self, record: Mapping[str, Any]) -> None:
        """Keep one record of this run (the first one of a job ARN wins)."""
        line = dumps(record).encode("utf-8")
        arn = str(record.get("training_job_arn"))
        with self._lock:
            jobs = self._new.setdefault(_scope_of(record), {})
            if arn in jobs:
                return
            self._spool.write(line)
            jobs[arn] = (self._size, len(line))
            self._size += len(line)

    def commit(
        self,
        summary: Summary,
        *,
        changes: str | os.PathLike[str] | None = None,
        mode: int = 0o600,
        cancelled: threading.Event | None = None,
    ) -> SnapshotOutcome:
        """Write the new snapshot, its sidecar and (optionally) the changes file, atomically.

        Raises SnapshotCancelled, leaving every file as it was, when `cancelled` is set by the
        time everything is written and only the renames remain.
        """
        self._spool.flush()
        refreshed = {(s.account_id, s.region) for s in summary.scopes if s.status == OK}
        fresh: set[ScopeKey] = {(a, r) for a, r in refreshed if a is not None}
        old = self._snapshot.scopes()
        keys = sorted(set(old) | set(self._snapshot.refreshed) | fresh)
        outcome = SnapshotOutcome(reused=self._snapshot.reused)
        with contextlib.ExitStack() as stack:
            # Entered in reverse: on the way out the snapshot is renamed first, the changes last.
            delta = stack.enter_context(atomic_writer(changes, mode=mode)) if changes else None
            meta = stack.enter_context(atomic_writer(meta_path_for(self._snapshot.path), mode=mode))
            out = stack.enter_context(atomic_writer(self._snapshot.path, mode=mode))
            for key in keys:
                if key in fresh:
                    self._write_refreshed(key, out, delta, outcome)
                else:
                    self._write_carried(key, out, outcome)
            meta.write(self._meta_document(keys, fresh, summary.started, outcome))
            if cancelled is not None and cancelled.is_set():
                raise SnapshotCancelled(f"{self._snapshot.path} was left as it was")
        outcome.stale = self._stale_scopes(summary, keys, fresh)
        return outcome

    def _write_refreshed(
        self, key: ScopeKey, out: IO[str], delta: IO[str] | None, outcome: SnapshotOutcome
    ) -> None:
        jobs = self._new.get(key, {})
        for arn, (offset, length) in jobs.items():
            line = os.pread(self._spool.fileno(), length, offset)
            entry = self._snapshot.entry(arn)
            op = None
            if entry is None:
                op, outcome.added = "added", outcome.added + 1
            elif _same(line, self._snapshot.line_of(entry)):
                outcome.unchanged += 1
            else:
                op, outcome.changed = "changed", outcome.changed + 1
            out.write(line.decode("utf-8") + "\n")
            outcome.records += 1
            if op and delta is not None:
                delta.write(_change_line(op, line))
        for entry in self._snapshot.scopes().get(key, []):
            if entry.arn not in jobs:
                outcome.removed += 1
                if delta is not None:
                    delta.write(_change_line("removed", self._snapshot.line_of(entry)))

    def _write_carried(self, key: ScopeKey, out: IO[str], outcome: SnapshotOutcome) -> None:
        rewrite = self._carry if not self._snapshot.reusable else None
        for entry in self._snapshot.scopes().get(key, []):
            line = self._snapshot.line_of(entry).decode("utf-8")
            if rewrite is not None:
                line = dumps(rewrite(json.loads(line)))
            out.write(line + "\n")
            outcome.records += 1

    def _meta_document(
        self,
        keys: list[ScopeKey],
        fresh: set[ScopeKey],
        started: datetime,
        outcome: SnapshotOutcome,
    ) -> str:
        scopes = []
        for key in keys:
            new = key in fresh
            moment = started if new else self._snapshot.refreshed.get(key)
            count = len(self._new.get(key, {}) if new else self._snapshot.scopes().get(key, []))
            refreshed = None if moment is None else format_timestamp(moment)
            scopes.append(
                dict(account_id=key[0], region=key[1], refreshed=refreshed, records=count)
            )
        settings = self._snapshot.settings.to_json()
        document = dict(
            format=META_FORMAT, settings=settings, records=outcome.records, scopes=scopes
        )
        return json.dumps(document, indent=1) + "\n"

    def _stale_scopes(
        self, summary: Summary, keys: list[ScopeKey], fresh: set[ScopeKey]
    ) -> list[StaleScope]:
        stale: dict[ScopeKey, StaleScope] = {}
        for scope in summary.scopes:
            if scope.status == OK:
                continue
            # An account that could not even be identified: each of its regions' keys is a suspect.
            for key in keys:
                matches = key == (scope.account_id, scope.region) or (
                    scope.account_id is None and key[1] == scope.region
                )
                if matches and key not in fresh:
                    stale[key] = StaleScope(
                        key[0],
                        key[1],
                        len(self._snapshot.scopes().get(key, [])),
                        self._snapshot.refreshed.get(key),
                    )
        return [stale[key] for key in sorted(stale)]


def _same(new: bytes, old: bytes) -> bool:
    # Equal bytes is the common case; a snapshot formatted otherwise is compared as data.
    return new == old or bool(json.loads(new) == json.loads(old))


def _change_line(op: str, record_line: bytes) -> str:
    return '{"op":"' + op + '","record":' + record_line.decode("utf-8") + "}\n"
