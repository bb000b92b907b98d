"""One `smi collect` run from its checked plan to its exit code, without click.

`run_collect` is the whole run, in this order: the signal watch and the --snapshot lock
(`run_files.open_run_files`: a locked snapshot is exit 4 before any AWS call), the sessions (on
the embedded moto backend with --demo), the scopes (`ScopeResolver`), the S3 objects
(`RunFiles.open_s3`: an S3 snapshot's lock and previous set, the uploads of -o and --report;
exit 4 or 2 before any collection, see docs/s3.md), then either the --list-scopes listing or the
collection (`processes.run_scopes`, in one process or many) written through the records sink,
the snapshot commit, the run summary on stderr and the --report file. A run stopped by a signal
changes no file and ends with one line and 128 + the signal number.

A write that fails (WriteFailed) or a reader that went away (BrokenPipeError) propagates: the click
group turns either into its exit code. So do the resolver's usage errors and `SnapshotError`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import NO_CREDENTIALS, NO_CREDENTIALS_FIX
from sagemaker_inventory.aws.retry_waits import RunStop, Stopped
from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory
from sagemaker_inventory.collect.collections_pace import fewer_collections
from sagemaker_inventory.collect.list_scopes import print_scopes
from sagemaker_inventory.collect.outcome import CANCELLED, RunSummary, ScopeResult
from sagemaker_inventory.collect.plan import CollectPlan, Destination, ScopeResolver
from sagemaker_inventory.collect.processes import kill_workers, run_scopes
from sagemaker_inventory.collect.progress import progress_observer
from sagemaker_inventory.collect.run import Observer, OutputError
from sagemaker_inventory.collect.run_files import (
    RunFiles,
    RunRefused,
    open_records_sink,
    open_run_files,
    report_snapshot,
)
from sagemaker_inventory.collect.run_summary import (
    render_run_summary,
    run_summary_document,
    run_summary_text,
    write_run_summary_file,
)
from sagemaker_inventory.collect.scopes import Scope
from sagemaker_inventory.collect.signals import (
    RunAbandoned,
    StopRequest,
    interruption_line,
    run_stoppable,
)
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.records.record import MutableRecord
from sagemaker_inventory.records.redaction import NO_REDACT_WARNING
from sagemaker_inventory.snapshot.errors import SnapshotCancelled
from sagemaker_inventory.snapshot.lock import SnapshotLocked

if TYPE_CHECKING:
    from rich.console import Console

    from sagemaker_inventory.aws.s3_upload import S3Upload
    from sagemaker_inventory.collect.s3_run import S3Clients
    from sagemaker_inventory.snapshot.writer import SnapshotOutcome


def run_collect(plan: CollectPlan, console: Console, resolve_scopes: ScopeResolver) -> ExitCode:
    """Run `plan`; progress, warnings and the summary go to `console` (stderr), records only to
    stdout or -o FILE. Returns the exit code (see `ExitCode`)."""
    if plan.destination.redaction is None:
        from rich.text import Text

        console.print(Text(f"smi: warning: {NO_REDACT_WARNING}", style="yellow"))
    stop: StopRequest | None = None
    try:
        with open_run_files(plan.destination) as files, fewer_collections():
            stop = files.stop
            if plan.demo:
                return _collect_demo(plan, console, files, resolve_scopes)
            factory = SessionFactory(_client_options(plan), stop=RunStop(files.stop.cancelled))
            scopes = run_stoppable(files.stop, lambda: resolve_scopes(plan, factory, ()))
            if plan.destination.s3_locations and plan.list_scopes is None:
                # Before any collection: the S3 lock, the previous set, the uploads started.
                clients = _s3_clients(plan, factory)
                run_stoppable(files.stop, lambda: files.open_s3(clients, plan.destination))
            return _collect_scopes(plan, scopes, factory, console, files, title=None)
    except SnapshotLocked as exc:
        print(f"smi: {exc}", file=sys.stderr)
        return ExitCode.LOCKED
    except RunRefused as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except (RunAbandoned, Stopped) as exc:
        # Every file was abandoned on the way here, and the progress display is gone.
        if stop is None or not stop.stopped:
            raise
        return _report_interruption(stop, getattr(exc, "unfinished", []))


def _client_options(plan: CollectPlan) -> ClientOptions:
    return ClientOptions(
        endpoint_url=plan.endpoint_url,
        connect_timeout=plan.connect_timeout,
        read_timeout=plan.read_timeout,
        max_pool_connections=max(10, plan.options.max_workers + 4),
    )


def _s3_clients(plan: CollectPlan, factory: SessionFactory) -> S3Clients:
    """S3 clients of the base profile (the first --profile, else the default chain): the bucket
    belongs to whoever runs smi, never to a member account's role. The lock's comes from a
    factory of the same options without the run's stop (see `aws.s3_lock`)."""
    from sagemaker_inventory.aws.s3_objects import s3_client
    from sagemaker_inventory.collect.s3_run import S3Clients

    profile = plan.accounts.base_profile
    lock_factory = SessionFactory(factory.options)
    return S3Clients(s3_client(factory, profile), s3_client(lock_factory, profile), factory.stop)


def _collect_demo(
    plan: CollectPlan, console: Console, files: RunFiles, resolve_scopes: ScopeResolver
) -> ExitCode:
    from rich.text import Text

    from sagemaker_inventory.demo.backend import (
        DEMO_NOTICE,
        DEMO_REGIONS,
        DemoUnavailableError,
        demo_backend,
    )

    console.print(Text(f"smi: {DEMO_NOTICE}", style="bold yellow"))
    try:
        with demo_backend():
            # Sessions must be built after moto is active, or their clients would reach real AWS.
            factory = SessionFactory(stop=RunStop(files.stop.cancelled))
            scopes = run_stoppable(files.stop, lambda: resolve_scopes(plan, factory, DEMO_REGIONS))
            return _collect_scopes(plan, scopes, factory, console, files, title=DEMO_NOTICE)
    except DemoUnavailableError as exc:
        console.print(f"smi: {exc}", style="red", highlight=False, markup=False)
        return ExitCode.NOTHING_COLLECTED


def _collect_scopes(
    plan: CollectPlan,
    scopes: Sequence[Scope],
    factory: SessionFactory,
    console: Console,
    files: RunFiles,
    title: str | None,
) -> ExitCode:
    """List the scopes (--list-scopes), or collect them and say how it went."""
    if plan.list_scopes is not None:
        fmt = plan.list_scopes
        return run_stoppable(files.stop, lambda: print_scopes(scopes, factory, fmt))
    summary, outcome, stopped = _collect_and_write(plan, scopes, factory, console, files, title)
    if stopped:
        # Only now: the live progress display is gone and cannot draw over the line.
        return _report_interruption(files.stop, _unfinished_of(summary))
    redactions = files.redactions if files.redaction is not None else None
    report = files.s3.report if files.s3 else None
    _report_run(
        summary, outcome, plan.destination, console, factory.settings_report(), redactions, report
    )
    return summary.exit_code


def _collect_and_write(
    plan: CollectPlan,
    scopes: Sequence[Scope],
    factory: SessionFactory,
    console: Console,
    files: RunFiles,
    title: str | None,
) -> tuple[RunSummary, SnapshotOutcome | None, bool]:
    """Collect every scope into the records sink and the snapshot; commit both unless the run
    was stopped (then neither changes: True is returned) or collected nothing (the previous -o
    FILE stays)."""
    options, reuse_for = plan.options, None
    if files.keeper is not None:
        options = replace(options, reuse=files.keeper.snapshot.reuse)
        reuse_for = files.keeper.snapshot.reuse_for
    with (
        open_records_sink(plan.destination, console, title, _s3_output(files)) as sink,
        progress_observer(console, len(scopes)) as observer,
    ):
        emit = files.emitter(sink.write)
        if plan.demo and not plan.options.with_tags:
            emit = _demo_marked(emit)
        finished = FinishedScopes(observer)
        try:
            summary = run_stoppable(
                files.stop,
                lambda: run_scopes(
                    scopes,
                    factory,
                    options,
                    emit,
                    finished,
                    files.stop.cancelled,
                    reuse_for=reuse_for,
                ),
            )
        except (RunAbandoned, Stopped) as exc:
            # Given up where it stood (a socket read that ignores the stop): no worker process
            # may outlive the run, and the unwinding abandons every file.
            kill_workers()
            raise RunAbandoned(str(exc), finished.unfinished(scopes)) from None
        except OutputError as exc:
            sink.abandon()  # and every other file: keep what was there
            # A reader gone (BrokenPipeError) or a write that failed (WriteFailed): the CLI
            # group turns either into its exit code.
            raise exc.__cause__ or exc from None
        try:
            outcome = files.commit(summary, plan.destination)
        except SnapshotCancelled:
            sink.abandon()  # and every other file: a stopped run changes none
            return summary, None, True
        if summary.exit_code == ExitCode.NOTHING_COLLECTED:
            sink.abandon()  # keep whatever good file was there
    return summary, outcome, False


def _demo_marked(emit: Callable[[MutableRecord], None]) -> Callable[[MutableRecord], None]:
    """--demo --no-tags: records get no tags but the demo's mark, so that they still say they
    are demo data."""
    from sagemaker_inventory.demo.jobs import mark_demo_record

    def marked(record: MutableRecord) -> None:
        emit(mark_demo_record(record))

    return marked


def _report_run(
    summary: RunSummary,
    outcome: SnapshotOutcome | None,
    destination: Destination,
    console: Console,
    clients: dict[str, Any],
    redactions: Mapping[str, int] | None = None,
    report_upload: S3Upload | None = None,
) -> None:
    """The run summary and the snapshot's counts on stderr, and the --report file or object
    (`report_upload`, started with the run) with the clients' retry settings and timeouts, and
    the number of values redaction changed per field path, unless --no-redact."""
    uncredentialed = [s for s in summary.scopes if s.error and s.error.code == NO_CREDENTIALS]
    if not uncredentialed or len(uncredentialed) < len(summary.scopes):
        render_run_summary(summary, console)
    if uncredentialed:
        # What is wrong and the fix, once however many scopes failed for it (alone when every
        # scope did), and under -q too: print, not the console.
        print(f"smi: error: {NO_CREDENTIALS_FIX}", file=sys.stderr)
    if outcome is not None:
        report_snapshot(outcome, destination.snapshot, console)
    if destination.report is not None:
        snapshot = outcome.to_json() if outcome is not None else None
        document = run_summary_document(summary, summary.exit_code, snapshot, clients, redactions)
        if report_upload is not None:
            report_upload.stream().write(run_summary_text(document))
            report_upload.complete()
        elif isinstance(destination.report, Path):
            write_run_summary_file(destination.report, document, mode=destination.file_mode)


def _s3_output(files: RunFiles) -> S3Upload | None:
    return files.s3.output if files.s3 else None


def _report_interruption(stop: StopRequest, unfinished: list[str]) -> ExitCode:
    """One line for a run stopped by a signal, and its exit code (130, 143)."""
    print(interruption_line(stop, unfinished), file=sys.stderr)
    return ExitCode(stop.exit_code or ExitCode.INTERRUPTED)


def _unfinished_of(summary: RunSummary) -> list[str]:
    """The scopes a stop left unfinished, as `account/region`."""
    return [
        f"{s.account_id or '?'}/{s.region}"
        for s in summary.scopes
        if s.error is not None and s.error.code == CANCELLED.code
    ]


class FinishedScopes:
    """An observer passing every event on, that remembers which scopes finished: what a run
    given up after a stop had not finished."""

    def __init__(self, observer: Observer) -> None:
        self._observer = observer
        self._finished: set[Scope] = set()

    def scope_started(self, scope: Scope) -> None:
        self._observer.scope_started(scope)

    def job_done(self, scope: Scope) -> None:
        self._observer.job_done(scope)

    def scope_finished(self, scope: Scope, result: ScopeResult) -> None:
        if result.error is None or result.error.code != CANCELLED.code:
            self._finished.add(scope)
        self._observer.scope_finished(scope, result)

    def unfinished(self, scopes: Sequence[Scope]) -> list[str]:
        return [
            f"{s.source.account_id or '?'}/{s.region}" for s in scopes if s not in self._finished
        ]
