"""`smi collect`: validate options, pick the sink, run the inventory, map the outcome to exit codes.

Everything heavy (boto3, moto) is imported inside the command, so `smi collect --help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from sagemaker_inventory.cli.account_options import account_options
from sagemaker_inventory.cli.choices import (
    CommaChoice,
    column_names,
    completer,
    flatten,
    region_names,
)
from sagemaker_inventory.cli.color import color_option
from sagemaker_inventory.cli.common import (
    ENDPOINT_URL,
    ISO_OR_AGE,
    FileMode,
    Processes,
    check_environment_endpoint_url,
    make_stderr_console,
    verbosity,
    verbosity_options,
)
from sagemaker_inventory.cli.destination import (
    Destination,
    check_distinct_files,
    checked_destination,
    checked_snapshot,
    records_wanted,
    redaction_rules,
    scopes_listing,
)
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.output.sinks import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from sagemaker_inventory.aws.pacing import RateCaps
    from sagemaker_inventory.cli.output import RunFiles
    from sagemaker_inventory.collect.accounts import AccountRequest
    from sagemaker_inventory.collect.outcome import RunSummary
    from sagemaker_inventory.collect.run import CollectOptions

# TrainingJobStatus in botocore's model (a test keeps this list equal to the model's enum).
TRAINING_JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")

EPILOG = """\b
Examples:
  smi collect --demo                                  # no AWS account needed
  smi collect -r us-east-1 | jq -r 'select(.training_job_status=="Failed") | .training_job_name'
  smi collect -r us-east-1,eu-west-1 --created-after 7d --format table
  smi collect --all-regions --profile prod -o inventory.jsonl
  smi collect -r us-east-1 --format csv --columns training_job_name,resource_config.instance_type
  smi collect --org -r us-east-1,eu-west-1 --exclude-account 111122223333 --report run.json
  smi collect --accounts-file accounts.txt --role-name InventoryReader -r us-east-1
  smi collect --org --all-regions --shard 0/4 -o shard-0.jsonl   # 1 of 4 machines
  smi collect --all-regions -q --snapshot inventory.jsonl --changes delta.jsonl   # nightly cron

\b
Exit codes:
  0  every account x region was collected (or a --shard held no account)
  1  nothing could be collected (e.g. no credentials)
  2  usage or input error (bad region, date, format, column, output path)
  3  partial: some account x region scopes failed; all records of the others were written
     (with --snapshot: their previous records are kept, reported stale)
  4  another run holds the --snapshot FILE (FILE.lock); nothing was done
  5  a file or stdout could not be written (full disk, size limit): the message names
     it; -o, --snapshot and the other files keep their previous content
  130, 143  stopped by SIGINT / SIGTERM; no file was changed
"""


@click.command(epilog=EPILOG)
@click.option(
    "-r",
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    shell_complete=completer(region_names),
    help="Region to inventory; repeat or comma-separate. Default: AWS_REGION,"
    " AWS_DEFAULT_REGION or the profile's region.",
)
@click.option(
    "--all-regions",
    is_flag=True,
    help="Every region where SageMaker is offered; regions not enabled are skipped.",
)
@click.option(
    "--endpoint-url",
    type=ENDPOINT_URL,
    help="Send every AWS call here (moto server, LocalStack). AWS_ENDPOINT_URL works too.",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=CommaChoice("STATUS", TRAINING_JOB_STATUSES),
    help="Only jobs with this status; repeat or comma-separate: "
    + ", ".join(TRAINING_JOB_STATUSES)
    + ".",
)
@click.option("--name-contains", metavar="TEXT", help="Only jobs whose name contains TEXT.")
@click.option("--created-after", type=ISO_OR_AGE, help="ISO-8601 time or age (7d, 12h, 30m, 2w).")
@click.option("--created-before", type=ISO_OR_AGE, help="ISO-8601 time or age.")
@click.option("--modified-after", type=ISO_OR_AGE, help="ISO-8601 time or age.")
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice([f.value for f in OutputFormat]),
    help="Output format. Default: table on a terminal, else jsonl (or from -o's suffix).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write to FILE atomically instead of stdout (only when something was collected);"
    " '-' is stdout (with --snapshot, records go to stdout only then).",
)
@click.option(
    "--csv-raw",
    is_flag=True,
    help="CSV cells exactly as the data has them. Default: a cell a spreadsheet would run as a"
    " formula (starting with = + - @, tab or CR; plain numbers excepted) gets a leading '.",
)
@click.option(
    "--columns",
    metavar="PATHS",
    shell_complete=completer(column_names),
    help="Comma-separated dotted paths for table/csv, e.g. resource_config.instance_type.",
)
@click.option("--no-tags", is_flag=True, help="Skip the tag calls (records get tags: []).")
@click.option(
    "--all-fields", is_flag=True, help="Also keep API members the documented shape leaves out."
)
@click.option(
    "--snapshot",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Keep FILE as the full JSONL inventory of these scopes: describe only new or changed "
    "jobs, drop deleted ones, keep a failed scope's previous records. One run at a time "
    "(FILE.lock); FILE.meta.json says when each scope was refreshed.",
)
@click.option(
    "--changes",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help='With --snapshot: write this run\'s differences as JSONL {"op": added|changed|removed, '
    '"record": ...} (empty when nothing changed).',
)
@click.option(
    "--file-mode",
    type=FileMode(),
    default="0600",
    show_default=True,
    help="Permissions of every file smi writes (output, snapshot, changes).",
)
@click.option(
    "--redact-pattern",
    "redact_patterns",
    multiple=True,
    metavar="REGEX",
    help="Also redact map values whose key matches REGEX (case-insensitive; repeatable).",
)
@click.option(
    "--no-redact",
    is_flag=True,
    help="Keep values of secret-looking keys in environment, hyper_parameters and other maps.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Run against an embedded moto backend with ~50 sample jobs (no AWS account).",
)
@click.option(
    "--max-workers",
    type=click.IntRange(1, 256),
    default=32,
    show_default=True,
    help="Concurrent DescribeTrainingJob calls per account x region.",
)
@click.option(
    "--rate",
    "rates",
    multiple=True,
    metavar="OPERATION=N",
    help="At most N requests/s of an API per account x region, e.g. DescribeTrainingJob=20"
    " (repeatable; for quotas shared with other tools). Every API also slows down by itself"
    " when throttled.",
)
@click.option(
    "--max-scopes",
    type=click.IntRange(1, 256),
    default=8,
    show_default=True,
    help="Accounts x regions collected at once.",
)
@click.option(
    "--list-scopes",
    is_flag=True,
    help="Print the account x region scopes this run would collect (after --org, accounts"
    " files and exclusions) and how each account is reached; collect nothing.",
)
@click.option(
    "--processes",
    type=Processes(),
    default="auto",
    show_default=True,
    help="Processes collecting scopes, to use more than one core: 1 runs everything in this"
    " process; auto uses one for a handful of scopes and up to the usable cores for many.",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON run report (every account x region: status, jobs, API calls, error).",
)
@account_options
@verbosity_options
@color_option
def collect(
    regions: tuple[str, ...],
    all_regions: bool,
    endpoint_url: str | None,
    statuses: tuple[tuple[str, ...], ...],
    name_contains: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    modified_after: datetime | None,
    fmt: str | None,
    output: Path | None,
    csv_raw: bool,
    columns: str | None,
    no_tags: bool,
    all_fields: bool,
    snapshot: Path | None,
    changes: Path | None,
    file_mode: int,
    redact_patterns: tuple[str, ...],
    no_redact: bool,
    demo: bool,
    max_workers: int,
    rates: tuple[str, ...],
    max_scopes: int,
    list_scopes: bool,
    processes: int | None,
    report: Path | None,
    accounts: AccountRequest,
    quiet: bool,
    verbose: int,
) -> None:
    """Inventory every SageMaker training job of the given regions, one record per job.

    Pages ListTrainingJobs, describes every job, adds its tags and account, and writes each job in
    the documented aws_sagemaker_trainingjob shape (see `smi schema`). Progress and the summary go
    to stderr; stdout carries only records (jsonl/json/csv).
    """
    from sagemaker_inventory.aws.fetch import ListFilters
    from sagemaker_inventory.cli.output import open_run_files
    from sagemaker_inventory.collect.process_count import in_process_aws
    from sagemaker_inventory.collect.run import CollectOptions
    from sagemaker_inventory.records.redaction import NO_REDACT_WARNING
    from sagemaker_inventory.snapshot.index import SnapshotError
    from sagemaker_inventory.snapshot.lock import SnapshotLocked

    _check_demo(demo, all_regions, accounts, endpoint_url)
    if not demo and endpoint_url is None:
        check_environment_endpoint_url()
    if processes is not None and processes > 1 and (demo or in_process_aws()):
        raise click.BadParameter(
            f"{processes}: AWS is simulated inside this process (--demo, moto), where other"
            " processes cannot reach it; use 1",
            param_hint="'--processes'",
        )
    filters = ListFilters(
        flatten(statuses), name_contains, created_after, created_before, modified_after
    )
    destination = replace(
        checked_destination(fmt, output, columns, all_fields, report),
        snapshot=checked_snapshot(snapshot, changes, output, filters),
        records_out=records_wanted(snapshot, output, fmt, columns),
        list_scopes=scopes_listing(
            list_scopes,
            fmt,
            (output, "-o"),
            (snapshot, "--snapshot"),
            (report, "--report"),
            (columns, "--columns"),
        ),
        changes=changes,
        file_mode=file_mode,
        redaction=redaction_rules(redact_patterns, no_redact),
        shard=accounts.shard,
        csv_raw=csv_raw,
    )
    check_distinct_files(destination)
    options = CollectOptions(
        filters=filters,
        with_tags=not no_tags,
        all_fields=all_fields,
        max_workers=max_workers,
        max_scopes=max_scopes,
        processes=processes,
        skip_unenabled_regions=all_regions,
        rate_caps=_rate_caps(rates),
    )
    console = make_stderr_console(verbosity(quiet, verbose))
    if destination.redaction is None:
        console.print(Text(f"smi: warning: {NO_REDACT_WARNING}", style="yellow"))
    try:
        with open_run_files(destination) as files:
            if demo:
                code = _run_demo(regions, all_regions, destination, options, console, files)
            else:
                code = _run(
                    regions,
                    all_regions,
                    accounts,
                    endpoint_url,
                    destination,
                    options,
                    console,
                    files,
                )
    except SnapshotLocked as exc:
        click.echo(f"smi: {exc}", err=True)
        code = ExitCode.LOCKED
    except SnapshotError as exc:
        raise click.BadParameter(str(exc), param_hint="'--snapshot'") from None
    sys.exit(int(code))


def _check_demo(
    demo: bool, all_regions: bool, accounts: AccountRequest, endpoint_url: str | None
) -> None:
    if not demo:
        return
    if accounts.profiles or accounts.assumes_roles or accounts.shard or endpoint_url:
        raise click.UsageError(
            "--demo runs on its own embedded backend: drop --profile/--endpoint-url"
            " and the account options"
        )
    if all_regions:
        from sagemaker_inventory.demo.backend import DEMO_REGIONS

        raise click.UsageError(
            f"--demo has jobs only in {' and '.join(DEMO_REGIONS)} and collects both by"
            " default: drop --all-regions (or pick one with -r)"
        )


def _rate_caps(rates: Sequence[str]) -> RateCaps:
    from sagemaker_inventory.aws.pacing import BadRateError, RateCaps

    try:
        return RateCaps.parse(rates)
    except BadRateError as exc:
        raise click.BadParameter(str(exc), param_hint="'--rate'") from None


def _run(
    regions: Sequence[str],
    all_regions: bool,
    accounts: AccountRequest,
    endpoint_url: str | None,
    destination: Destination,
    options: CollectOptions,
    console: Console,
    files: RunFiles,
) -> ExitCode:
    from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory
    from sagemaker_inventory.cli.account_options import resolve_sources
    from sagemaker_inventory.cli.region_options import resolve_regions
    from sagemaker_inventory.collect.scopes import build_scopes

    factory = SessionFactory(
        ClientOptions(
            endpoint_url=endpoint_url, max_pool_connections=max(10, options.max_workers + 4)
        )
    )
    region_list = resolve_regions(factory, accounts.base_profile, regions, all_regions)
    sources = resolve_sources(accounts, factory, region_list)
    scopes = build_scopes(sources, region_list)
    return _collect_and_write(scopes, factory, destination, options, console, files, title=None)


def _run_demo(
    regions: Sequence[str],
    all_regions: bool,
    destination: Destination,
    options: CollectOptions,
    console: Console,
    files: RunFiles,
) -> ExitCode:
    from sagemaker_inventory.aws.sessions import SessionFactory
    from sagemaker_inventory.cli.region_options import resolve_regions
    from sagemaker_inventory.collect.scopes import AccountSource, build_scopes
    from sagemaker_inventory.demo.backend import (
        DEMO_NOTICE,
        DEMO_REGIONS,
        DemoUnavailableError,
        demo_backend,
    )

    console.print(Text(DEMO_NOTICE, style="bold yellow"))
    try:
        with demo_backend():
            # Sessions must be built after moto is active, or their clients would reach real AWS.
            factory = SessionFactory()
            region_list = resolve_regions(factory, None, regions or DEMO_REGIONS, all_regions)
            scopes = build_scopes([AccountSource()], region_list)
            return _collect_and_write(
                scopes, factory, destination, options, console, files, title=DEMO_NOTICE
            )
    except DemoUnavailableError as exc:
        console.print(f"smi: {exc}", style="red", highlight=False)
        return ExitCode.NOTHING_COLLECTED


def _collect_and_write(
    scopes: Sequence[Any],
    factory: Any,
    destination: Destination,
    options: CollectOptions,
    console: Console,
    files: RunFiles,
    title: str | None,
) -> ExitCode:
    from sagemaker_inventory.cli.output import open_records_sink, report_snapshot
    from sagemaker_inventory.cli.progress import progress_observer
    from sagemaker_inventory.collect.processes import run_scopes
    from sagemaker_inventory.collect.run import OutputError
    from sagemaker_inventory.collect.run_summary import (
        render_run_summary,
        run_summary_document,
        write_run_summary_file,
    )
    from sagemaker_inventory.snapshot.index import SnapshotCancelled

    if destination.list_scopes is not None:
        from sagemaker_inventory.cli.list_scopes import print_scopes

        return print_scopes(scopes, factory, destination.list_scopes)

    reuse_for = None
    if files.keeper is not None:
        options = replace(options, reuse=files.keeper.snapshot.reuse)
        reuse_for = files.keeper.snapshot.reuse_for
    summary: RunSummary | None = None
    with (
        open_records_sink(destination, console, title) as sink,
        progress_observer(console, len(scopes)) as observer,
    ):
        emit = files.emitter(sink.write)
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
            outcome = files.commit(summary, destination)
        except SnapshotCancelled:
            sink.abandon()  # and every other file: a stopped run changes none
            stopped = True
        else:
            stopped = False
            if summary.exit_code == ExitCode.NOTHING_COLLECTED:
                sink.abandon()  # keep whatever good file was there
    if stopped:
        # Only now: the live progress display is gone and cannot draw over the line.
        return _report_interruption(files, summary)
    render_run_summary(summary, console)
    if outcome is not None:
        report_snapshot(outcome, destination.snapshot, console)
    if destination.report is not None:
        snapshot = outcome.to_json() if outcome is not None else None
        report = run_summary_document(summary, summary.exit_code, snapshot)
        write_run_summary_file(destination.report, report, mode=destination.file_mode)
    return summary.exit_code


def _report_interruption(files: RunFiles, summary: RunSummary) -> ExitCode:
    """One line for a run stopped by a signal, and its exit code (130, 143)."""
    from sagemaker_inventory.collect.outcome import CANCELLED
    from sagemaker_inventory.collect.signals import interruption_line

    unfinished = [
        f"{s.account_id or '?'}/{s.region}"
        for s in summary.scopes
        if s.error is not None and s.error.code == CANCELLED.code
    ]
    click.echo(interruption_line(files.stop, unfinished), err=True)
    return ExitCode(files.stop.exit_code or ExitCode.INTERRUPTED)
