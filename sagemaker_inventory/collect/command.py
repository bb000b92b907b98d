"""One `smi collect` run from its checked plan to its exit code, without click.

`run_collect` is the whole run, in this order: the signal watch and the --snapshot lock
(`run_files.open_run_files`: a locked snapshot is exit 4 before any AWS call), the sessions (on the
embedded moto backend with --demo), the scopes (`ScopeResolver`), then either the --list-scopes
listing or the collection (`processes.run_scopes`, in one process or many) written through the
records sink, the snapshot commit, the run summary on stderr and the --report file. A run stopped by
a signal changes no file and ends with one line and 128 + the signal number.

A write that fails (WriteFailed) or a reader that went away (BrokenPipeError) propagates: the click
group turns either into its exit code. So do the resolver's usage errors and `SnapshotError`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import NO_CREDENTIALS, NO_CREDENTIALS_FIX
from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory
from sagemaker_inventory.collect.list_scopes import print_scopes
from sagemaker_inventory.collect.outcome import CANCELLED, RunSummary
from sagemaker_inventory.collect.plan import CollectPlan, Destination, ScopeResolver
from sagemaker_inventory.collect.processes import run_scopes
from sagemaker_inventory.collect.progress import progress_observer
from sagemaker_inventory.collect.run import OutputError
from sagemaker_inventory.collect.run_files import (
    RunFiles,
    open_records_sink,
    open_run_files,
    report_snapshot,
)
from sagemaker_inventory.collect.run_summary import (
    render_run_summary,
    run_summary_document,
    write_run_summary_file,
)
from sagemaker_inventory.collect.scopes import Scope
from sagemaker_inventory.collect.signals import StopRequest, interruption_line
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.records.record import MutableRecord
from sagemaker_inventory.records.redaction import NO_REDACT_WARNING
from sagemaker_inventory.snapshot.errors import SnapshotCancelled
from sagemaker_inventory.snapshot.lock import SnapshotLocked

if TYPE_CHECKING:
    from rich.console import Console

    from sagemaker_inventory.snapshot.writer import SnapshotOutcome


def run_collect(plan: CollectPlan, console: Console, resolve_scopes: ScopeResolver) -> ExitCode:
    """Run `plan`; progress, warnings and the summary go to `console` (stderr), records only to
    stdout or -o FILE. Returns the exit code (see `ExitCode`)."""
    if plan.destination.redaction is None:
        from rich.text import Text

        console.print(Text(f"smi: warning: {NO_REDACT_WARNING}", style="yellow"))
    try:
        with open_run_files(plan.destination) as files:
            if plan.demo:
                return _collect_demo(plan, console, files, resolve_scopes)
            factory = SessionFactory(
                ClientOptions(
                    endpoint_url=plan.endpoint_url,
                    connect_timeout=plan.connect_timeout,
                    read_timeout=plan.read_timeout,
                    max_pool_connections=max(10, plan.options.max_workers + 4),
                )
            )
            scopes = resolve_scopes(plan, factory, ())
            return _collect_scopes(plan, scopes, factory, console, files, title=None)
    except SnapshotLocked as exc:
        print(f"smi: {exc}", file=sys.stderr)
        return ExitCode.LOCKED


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
            factory = SessionFactory()
            scopes = resolve_scopes(plan, factory, DEMO_REGIONS)
            return _collect_scopes(plan, scopes, factory, console, files, title=DEMO_NOTICE)
    except DemoUnavailableError as exc:
        console.print(f"smi: {exc}", style="red", highlight=False)
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
        return print_scopes(scopes, factory, plan.list_scopes)
    summary, outcome, stopped = _collect_and_write(plan, scopes, factory, console, files, title)
    if stopped:
        # Only now: the live progress display is gone and cannot draw over the line.
        return _report_interruption(files.stop, summary)
    _report_run(summary, outcome, plan.destination, console, factory.settings_report())
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
        open_records_sink(plan.destination, console, title) as sink,
        progress_observer(console, len(scopes)) as observer,
    ):
        emit = files.emitter(sink.write)
        if plan.demo and not plan.options.with_tags:
            emit = _demo_marked(emit)
        try:
            summary = run_scopes(
                scopes, factory, options, emit, observer, files.stop.cancelled, reuse_for=reuse_for
            )
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
) -> None:
    """The run summary and the snapshot's counts on stderr, and the --report file (with the
    clients' retry settings and timeouts)."""
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
        document = run_summary_document(summary, summary.exit_code, snapshot, clients)
        write_run_summary_file(destination.report, document, mode=destination.file_mode)


def _report_interruption(stop: StopRequest, summary: RunSummary) -> ExitCode:
    """One line for a run stopped by a signal, and its exit code (130, 143)."""
    unfinished = [
        f"{s.account_id or '?'}/{s.region}"
        for s in summary.scopes
        if s.error is not None and s.error.code == CANCELLED.code
    ]
    print(interruption_line(stop, unfinished), file=sys.stderr)
    return ExitCode(stop.exit_code or ExitCode.INTERRUPTED)
