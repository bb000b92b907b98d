"""Writing `smi collect --snapshot FILE`: this run's records merged into the previous snapshot.

`SnapshotWriter` spools this run's records to a temporary file and `commit` writes the new FILE
atomically, scope by scope in (account, region) order: a scope collected this run is replaced by
this run's records in list order (jobs no longer listed are removed); every other scope (failed,
skipped, cancelled or not requested) is carried over unchanged, so one unreachable account never
wipes its inventory. `commit` also writes the sidecar FILE.meta.json (when each scope was last
refreshed, and the settings the records were made with) and, for `--changes`, one
{"op": "added"|"changed"|"removed", "record": ...} line per difference; it returns a
`SnapshotOutcome` whose stale scopes are those carried over after failing this run.
FILE, its sidecar and the changes are replaced as one `file_set.FileSet`: a crash at any instant
leaves either the three old files or the three new ones (the next run finishes a commit it finds
half done). `snapshot_session` locks and indexes FILE (see `sagemaker_inventory.snapshot.index`) and
yields the writer for the whole run.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sagemaker_inventory.output.files import writing
from sagemaker_inventory.records.record import MutableRecord, Record
from sagemaker_inventory.records.timestamps import format_timestamp
from sagemaker_inventory.snapshot.errors import SnapshotCancelled
from sagemaker_inventory.snapshot.file_set import FileSet, recover
from sagemaker_inventory.snapshot.index import (
    META_FORMAT,
    ScopeKey,
    Snapshot,
    SnapshotSettings,
    dumps,
    meta_path_for,
    open_snapshot,
    scope_of,
)
from sagemaker_inventory.snapshot.journal import journal_path_for
from sagemaker_inventory.snapshot.lock import snapshot_lock
from sagemaker_inventory.snapshot.run_outcome import RunOutcome
from sagemaker_inventory.snapshot.set_writer import SetWriter, SetWriterFactory, Step


@dataclass(frozen=True)
class StaleScope:
    """A scope not collected this run whose records were carried over from the previous snapshot."""

    account_id: str
    region: str
    records: int
    since: datetime | None  # None: the sidecar does not say (missing, or written by hand)


@dataclass
class SnapshotOutcome:
    """What commit wrote: counts for the run summary (--report) and the stale scopes."""

    records: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    reused: int = 0
    stale: list[StaleScope] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """For the run summary (--report): counts, and each stale scope with its "since" or null."""
        data = asdict(self)
        for scope in data["stale"]:
            scope["since"] = scope["since"] and format_timestamp(scope["since"])
        return data


@contextlib.contextmanager
def snapshot_session(
    path: str | os.PathLike[str],
    settings: SnapshotSettings,
    *,
    mode: int = 0o600,
    carry: Callable[[MutableRecord], MutableRecord] | None = None,
    changes: str | os.PathLike[str] | None = None,
) -> Iterator[SnapshotWriter]:
    """Lock FILE (SnapshotLocked at once if another run has it), index it, and yield the writer
    whose `snapshot.reuse` is the run's reuse hook and whose `commit` ends the run.

    FILE is resolved first (symlinks followed): the lock and the sidecar belong to the file the
    data is in, so two names of one snapshot can never run at once. `changes` is the run's
    --changes: with FILE and its sidecar, the only files a journal left by a killed run may
    rename into (JournalRefused otherwise)."""
    path = os.path.realpath(path)
    with snapshot_lock(path, mode=mode):
        # Before anything reads or writes FILE: finish a commit a killed run left half done.
        targets = [Path(path), meta_path_for(path)]
        if changes is not None:
            targets.append(Path(os.path.realpath(changes)))
        recover(journal_path_for(path), targets)
        with (
            open_snapshot(path, settings) as snapshot,
            SnapshotWriter(snapshot, carry=carry) as writer,
        ):
            yield writer


class SnapshotWriter:
    """This run's records, spooled to an anonymous temporary file until `commit` merges them.

    `carry`, when given, rewrites every record taken from the previous snapshot, carried over or
    written to --changes as removed (collect/run_files passes the run's redaction, so no
    unredacted value written by an earlier --no-redact run survives a redacting run).
    `file_set` makes the SetWriter that commits the new files (default: a `FileSet` beside FILE;
    a snapshot kept in S3 passes its own, its FILE being a local copy of the object).
    """

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        carry: Callable[[MutableRecord], MutableRecord] | None = None,
        file_set: SetWriterFactory | None = None,
    ):
        self._snapshot = snapshot
        self._carry = carry
        self._file_set = file_set
        # Anonymous (gone on close or crash), beside the snapshot: a large inventory may not fit
        # in a small /tmp, and the new snapshot needs that much room there anyway.
        self._spool = tempfile.TemporaryFile(dir=snapshot.path.parent)  # noqa: SIM115
        self._size = 0
        # Per scope: job ARN -> (offset, length) in the spool, in the order the run emitted them.
        self._new: dict[ScopeKey, dict[str, tuple[int, int]]] = {}
        self._lock = threading.Lock()
        self.step: Step | None = None  # tests: a crash between commit steps

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        # The spool is thrown away: a failed flush of its buffer (full disk) was reported already.
        with contextlib.suppress(OSError):
            self._spool.close()

    def add(self, record: Record) -> None:
        """Keep one record of this run (the first one of a job ARN wins)."""
        line = dumps(record).encode("utf-8")
        arn = str(record.get("training_job_arn"))
        with self._lock:
            jobs = self._new.setdefault(scope_of(record), {})
            if arn in jobs:
                return
            with writing(f"the temporary copy of {self._snapshot.name}"):
                self._spool.write(line)
            jobs[arn] = (self._size, len(line))
            self._size += len(line)

    def commit(
        self,
        run: RunOutcome,
        *,
        changes: str | os.PathLike[str] | None = None,
        mode: int = 0o600,
        cancelled: threading.Event | None = None,
        owns: Callable[[str], bool] | None = None,
    ) -> SnapshotOutcome:
        """Write the new snapshot, its sidecar and (optionally) the changes file, atomically.

        `owns` (--shard) says which accounts this snapshot holds: the records of any other
        account are another shard's and are removed (so re-sharding never duplicates a job).
        Raises SnapshotCancelled, leaving every file as it was, when `cancelled` is set by the
        time everything is written and only the renames remain.
        """
        with writing(f"the temporary copy of {self._snapshot.name}"):
            self._spool.flush()
        refreshed = {(s.account_id, s.region) for s in run.scopes if s.collected}
        fresh: set[ScopeKey] = {(a, r) for a, r in refreshed if a is not None}
        old = self._snapshot.scopes()
        every = sorted(set(old) | set(self._snapshot.refreshed) | fresh)
        keys = [k for k in every if k in fresh or owns is None or owns(k[0])]
        # Counted per scope: the records reused in worker processes are not this Snapshot's.
        outcome = SnapshotOutcome(reused=sum(s.reused for s in run.scopes))
        # The three files change together or not at all, a crash included (file_set).
        with self._new_set(mode) as files:
            # FILE was resolved when the run began; a symlink planted since is not followed.
            out = files.open(self._snapshot.path, follow_symlinks=False)
            meta = files.open(meta_path_for(self._snapshot.path), follow_symlinks=False)
            delta = files.open(changes) if changes else None
            for key in keys:
                if key in fresh:
                    self._write_refreshed(key, out, delta, outcome)
                else:
                    self._write_carried(key, out, outcome)
            for key in sorted(set(every) - set(keys)):
                self._write_removed(key, delta, outcome)
            meta.write(self._meta_document(keys, fresh, run.started, outcome))
            if cancelled is not None and cancelled.is_set():
                raise SnapshotCancelled(f"{self._snapshot.name} was left as it was")
            files.commit()
        outcome.stale = self._stale_scopes(run, keys, fresh)
        return outcome

    def _new_set(self, mode: int) -> SetWriter:
        if self._file_set is not None:
            return self._file_set(self.step)
        return FileSet(journal_path_for(self._snapshot.path), mode=mode, step=self.step)

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
        old = self._snapshot.scopes().get(key, [])
        gone = [self._old_line(e).encode("utf-8") for e in old if e.arn not in jobs]
        _write_removed_lines(gone, delta, outcome)

    def _write_removed(
        self, key: ScopeKey, delta: IO[str] | None, outcome: SnapshotOutcome
    ) -> None:
        entries = self._snapshot.scopes().get(key, [])
        _write_removed_lines([self._old_line(e).encode("utf-8") for e in entries], delta, outcome)

    def _write_carried(self, key: ScopeKey, out: IO[str], outcome: SnapshotOutcome) -> None:
        for entry in self._snapshot.scopes().get(key, []):
            out.write(self._old_line(entry) + "\n")
            outcome.records += 1

    def _old_line(self, entry: Any) -> str:
        """A record of the previous snapshot as this run writes it: through `carry` (the run's
        redaction) whatever the sidecar says, since a sidecar can be lost, hand-edited or from a
        run that crashed, and a value an earlier --no-redact run kept must not survive."""
        line = self._snapshot.line_of(entry).decode("utf-8")
        return line if self._carry is None else dumps(self._carry(json.loads(line)))

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
        self, run: RunOutcome, keys: list[ScopeKey], fresh: set[ScopeKey]
    ) -> list[StaleScope]:
        stale: dict[ScopeKey, StaleScope] = {}
        for scope in run.scopes:
            if scope.collected:
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


def _write_removed_lines(
    lines: list[bytes], delta: IO[str] | None, outcome: SnapshotOutcome
) -> None:
    outcome.removed += len(lines)
    if delta is not None:
        for line in lines:
            delta.write(_change_line("removed", line))


def _same(new: bytes, old: bytes) -> bool:
    # Equal bytes is the common case; a snapshot formatted otherwise is compared as data.
    return new == old or bool(json.loads(new) == json.loads(old))


def _change_line(op: str, record_line: bytes) -> str:
    return '{"op":"' + op + '","record":' + record_line.decode("utf-8") + "}\n"
