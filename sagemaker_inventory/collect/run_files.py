"""The files one `smi collect` run writes, and what decides whether any is replaced.

`open_run_files` watches SIGINT/SIGTERM for the whole run and, with a local --snapshot, locks and
indexes the snapshot (`RunFiles`: its `emitter` redacts each record and keeps it for the snapshot,
`commit` writes the snapshot and --changes unless a signal stopped the run); `RunFiles.open_s3`
opens the run's S3 objects once its sessions exist (`collect.s3_run`). `open_records_sink` writes
the records to stdout, to an atomically replaced -o FILE or to an -o S3 object's upload, which a
failed run abandons, leaving the previous file or object. The run summary on stderr and the
--report file are `collect.run_summary`'s.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sagemaker_inventory.aws.service_models import sagemaker_model
from sagemaker_inventory.collect.outcome import OK
from sagemaker_inventory.collect.signals import StopRequest, stop_signals
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.output.files import atomic_writer, named_stream
from sagemaker_inventory.output.sinks import Sink, make_sink
from sagemaker_inventory.records.record import MutableRecord, Record
from sagemaker_inventory.records.redaction import RedactionRules, redact
from sagemaker_inventory.records.shape import describe_output_shape
from sagemaker_inventory.records.timestamps import format_utc_seconds
from sagemaker_inventory.snapshot.errors import SnapshotCancelled

if TYPE_CHECKING:
    from botocore.model import StructureShape
    from rich.console import Console

    from sagemaker_inventory.aws.s3_upload import S3Upload
    from sagemaker_inventory.collect.outcome import RunSummary
    from sagemaker_inventory.collect.plan import Destination, Location
    from sagemaker_inventory.collect.s3_run import S3Clients, S3Destinations
    from sagemaker_inventory.snapshot.index import SnapshotSettings
    from sagemaker_inventory.snapshot.run_outcome import RunOutcome
    from sagemaker_inventory.snapshot.writer import SnapshotOutcome, SnapshotWriter


class RunRefused(Exception):
    """The run cannot start (its S3 snapshot is locked, an S3 object unusable): `str()` is the
    message, `code` the exit code (4 or 2); nothing was collected or written."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


class _Abandoned(Exception):
    """Raised inside the atomic writer so that the target file is left as it was."""


class RecordsOutput:
    """The run's single record writer; `abandon()` keeps an existing output file untouched."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.abandoned = False

    def write(self, record: MutableRecord) -> None:
        self._sink.write(record)

    def abandon(self) -> None:
        self.abandoned = True


@contextlib.contextmanager
def open_records_sink(
    destination: Destination,
    console: Console,
    title: str | None,
    upload: S3Upload | None = None,
) -> Iterator[RecordsOutput]:
    """A RecordsOutput on stdout, on `destination.path` (replaced only if the run succeeds) or on
    `upload` (an -o S3 object's, completed only if the run succeeds), or nowhere when the
    --snapshot file is the only output."""
    if not destination.records_out:
        yield RecordsOutput(_Discard())
        return
    if upload is not None:
        output = RecordsOutput(_sink_on(upload.stream(), destination, title, file_output=True))
        yield output  # an exception leaves the upload to the run's stack, which aborts it
        if output.abandoned:
            upload.abort()
        else:
            output._sink.close()
            upload.complete()
        return
    if destination.path is None:
        # A reader that goes away (BrokenPipeError) is the CLI group's to handle, in one place.
        stdout = named_stream(sys.stdout, "standard output")
        output = RecordsOutput(_sink_on(stdout, destination, title, file_output=False))
        yield output
        if not output.abandoned:
            output._sink.close()
            stdout.flush()
        return
    with (
        contextlib.suppress(_Abandoned),
        atomic_writer(_local(destination.path), mode=destination.file_mode) as stream,
    ):
        output = RecordsOutput(_sink_on(stream, destination, title, file_output=True))
        yield output
        if output.abandoned:
            raise _Abandoned
        output._sink.close()


def _local(location: Location | None) -> Path:
    """A location that must be a local path here (an S3 one has its upload, opened earlier)."""
    if not isinstance(location, Path):
        raise TypeError(f"{location}: not a local path")
    return location


class _Discard:
    """The sink of a --snapshot run without -o: the snapshot keeps the records."""

    def write(self, record: Record) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class RunFiles:
    """What one run holds besides its output: the signal watch, the snapshot being refreshed, and
    how many values redaction changed per field path (the --report file's `redactions`)."""

    stop: StopRequest
    keeper: SnapshotWriter | None
    redaction: RedactionRules | None
    redactions: Counter[str] = field(default_factory=Counter)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    s3: S3Destinations | None = None  # the run's S3 objects, once `open_s3` opened them

    def open_s3(self, clients: S3Clients, destination: Destination) -> None:
        """Open the run's S3 objects (see `collect.s3_run`), before any collection:
        S3DestinationError, S3LockHeld or JournalRefused if they cannot be."""
        from sagemaker_inventory.aws.s3_lock import S3LockHeld
        from sagemaker_inventory.collect.s3_run import S3DestinationError, open_s3_destinations

        settings, carry = _snapshot_settings(destination)
        try:
            self.s3 = open_s3_destinations(self.stack, clients, destination, settings, carry)
        except S3LockHeld as exc:
            raise RunRefused(f"smi: {exc}", ExitCode.LOCKED) from None
        except S3DestinationError as exc:
            raise RunRefused(f"smi: error: {exc}", ExitCode.USAGE) from None
        if self.s3.keeper is not None:
            self.keeper = self.s3.keeper

    def emitter(self, write: Callable[[MutableRecord], None]) -> Callable[[MutableRecord], None]:
        """The run's emit: redact, keep for the snapshot, then write."""

        shapes: list[StructureShape] = []

        def emit(record: MutableRecord) -> None:
            if self.redaction is not None:
                if not shapes:  # the model the records were made with, read once a record comes
                    shapes.append(describe_output_shape(sagemaker_model()))
                record = redact(record, self.redaction, shapes[0], self.redactions)
            if self.keeper is not None:
                self.keeper.add(record)
            write(record)

        return emit

    def commit(self, summary: RunSummary, destination: Destination) -> SnapshotOutcome | None:
        """Write the snapshot (and --changes); SnapshotCancelled if a signal stopped the run."""
        if self.stop.stopped:
            raise SnapshotCancelled("stopped by a signal")
        if self.keeper is None:
            return None
        changes = destination.changes
        return self.keeper.commit(
            snapshot_run_of(summary),
            # An S3 object is named by its URL in the S3 set (collect.s3_snapshot).
            changes=changes if isinstance(changes, Path) or changes is None else str(changes),
            mode=destination.file_mode,
            cancelled=self.stop.cancelled,
            owns=destination.shard.owns if destination.shard else None,
        )


def snapshot_run_of(summary: RunSummary) -> RunOutcome:
    """The run as its snapshot takes it: when it began, and which scopes it collected."""
    from sagemaker_inventory.snapshot.run_outcome import RunOutcome, ScopeOutcome

    return RunOutcome(
        summary.started,
        [ScopeOutcome(s.account_id, s.region, s.status == OK, s.reused) for s in summary.scopes],
    )


@contextlib.contextmanager
def open_run_files(destination: Destination) -> Iterator[RunFiles]:
    """Watch SIGINT/SIGTERM and, with --snapshot, lock and index it for the whole run.

    Raises SnapshotLocked (another run has it) or SnapshotError (not a snapshot) before any AWS
    call is made.
    """
    rules = destination.redaction
    with stop_signals() as stop, contextlib.ExitStack() as stack:
        if not isinstance(destination.snapshot, Path):
            yield RunFiles(stop, None, rules, stack=stack)  # an S3 one is opened by open_s3
            return
        # The snapshot's code loads only for a run that keeps one.
        from sagemaker_inventory.snapshot.writer import snapshot_session

        settings, carry = _snapshot_settings(destination)
        with snapshot_session(
            destination.snapshot,
            settings,
            mode=destination.file_mode,
            carry=carry,
            changes=destination.changes if isinstance(destination.changes, Path) else None,
        ) as keeper:
            yield RunFiles(stop, keeper, rules, stack=stack)


def _snapshot_settings(
    destination: Destination,
) -> tuple[SnapshotSettings, Callable[[MutableRecord], MutableRecord] | None]:
    """What shapes the snapshot's records (their reuse needs it to match), and the run's
    redaction for the records carried over from it."""
    from sagemaker_inventory.snapshot.index import SnapshotSettings

    rules = destination.redaction
    settings = SnapshotSettings(destination.all_fields, rules.patterns if rules else None)
    carry = functools.partial(redact, rules=rules) if rules else None
    return settings, carry


def report_snapshot(outcome: SnapshotOutcome, path: object, console: Console) -> None:
    """One line of counts; one warning per scope whose records were kept from an earlier run
    (shown under -q too: a stale scope is an error to whoever reads the snapshot)."""
    from rich.console import Console
    from rich.text import Text

    console.print(
        Text(
            f"smi: snapshot {path}: {outcome.records} records; {outcome.added} added, "
            f"{outcome.changed} changed, {outcome.removed} removed; {outcome.reused} reused "
            "without DescribeTrainingJob"
        )
    )
    warnings = (
        Console(file=console.file, highlight=False, soft_wrap=console.soft_wrap)
        if console.quiet
        else console
    )
    for stale in outcome.stale:
        since = format_utc_seconds(stale.since) if stale.since else "an unknown time"
        warnings.print(
            Text(
                f"smi: warning: {stale.account_id} {stale.region} was not refreshed: its "
                f"{stale.records} records in the snapshot are stale since {since}",
                style="yellow",
            )
        )


def _sink_on(
    stream: TextIO, destination: Destination, title: str | None, *, file_output: bool
) -> Sink:
    # On a terminal the table follows its width; piped or in a file make_sink renders it plain and
    # at full width, so no cell is cut.
    console = None
    if not file_output and stream.isatty():
        from sagemaker_inventory.output.console import OutputConsole

        console = OutputConsole(file=stream)
    return make_sink(
        destination.fmt,
        stream,
        columns=destination.columns,
        console=console,
        title=title,
        all_fields=destination.all_fields,
        csv_raw=destination.csv_raw,
    )
