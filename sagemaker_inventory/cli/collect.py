"""`smi collect`: its options, turned into one checked `CollectPlan`, run by `collect.command`.

The options come in bundles (`collect_options`, `account_options`); `plan_collect` checks how they
fit together, before any AWS call, so that a bad value is a usage error (exit 2) naming it. The run
itself, and everything heavy it imports (botocore, boto3), loads only when the command runs, so
`smi collect --help` and shell completion stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from sagemaker_inventory.aws.fetch import ListFilters
from sagemaker_inventory.aws.pacing import BadRateError, RateCaps
from sagemaker_inventory.cli.account_options import account_options, resolve_sources
from sagemaker_inventory.cli.collect_options import (
    LocationType,
    OutputRequest,
    PacingRequest,
    RecordRequest,
    RedactionRequest,
    RegionRequest,
    SnapshotRequest,
    filter_options,
    output_options,
    pacing_options,
    record_options,
    redaction_options,
    region_options,
    snapshot_options,
)
from sagemaker_inventory.cli.color import color_option
from sagemaker_inventory.cli.common import (
    FileMode,
    Processes,
    check_environment_endpoint_url,
    make_stderr_console,
    verbosity,
    verbosity_options,
)
from sagemaker_inventory.cli.destination import (
    check_distinct_files,
    checked_destination,
    checked_s3_options,
    checked_snapshot,
    records_wanted,
    redaction_rules,
    scopes_listing,
)
from sagemaker_inventory.cli.region_options import resolve_regions
from sagemaker_inventory.collect.accounts import AccountRequest
from sagemaker_inventory.collect.plan import CollectOptions, CollectPlan, Destination, Location
from sagemaker_inventory.collect.process_count import in_process_aws
from sagemaker_inventory.collect.scopes import Scope, build_scopes
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.snapshot.errors import JournalRefused, SnapshotError

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory

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
  smi collect --all-regions -q --snapshot s3://bkt/smi/inv.jsonl --changes s3://bkt/delta/inv.jsonl

\b
Exit codes:
  0  every account x region was collected (or a --shard held no account)
  1  nothing could be collected (e.g. no credentials)
  2  usage or input error (bad region, date, format, column, output path; an S3
     bucket missing or not writable, found before collecting)
  3  partial: some account x region scopes failed; all records of the others were written
     (with --snapshot: their previous records are kept, reported stale)
  4  another run holds the --snapshot FILE (FILE.lock; in S3, the lock object); nothing
     was done
  5  a file, S3 object or stdout could not be written (full disk, size limit, S3 refused,
     the S3 snapshot's lock was lost): the message names it; -o, --snapshot and the other
     files and objects keep their previous content
  130, 143  stopped by SIGINT / SIGTERM; no file was changed
"""


@click.command(epilog=EPILOG)
@region_options
@filter_options
@output_options
@record_options
@snapshot_options
@click.option(
    "--file-mode",
    type=FileMode(),
    default="0600",
    show_default=True,
    help="Permissions of every file smi writes (output, snapshot, changes).",
)
@redaction_options
@click.option(
    "--demo",
    is_flag=True,
    help="Run against an embedded moto backend with ~50 sample jobs (no AWS account).",
)
@pacing_options
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
    type=LocationType(),
    metavar="FILE",
    help="Write a JSON run report (every account x region: status, jobs, API calls, error)"
    " to FILE or s3://BUCKET/KEY.",
)
@account_options
@verbosity_options
@color_option
def collect(
    regions: RegionRequest,
    filters: ListFilters,
    output: OutputRequest,
    records: RecordRequest,
    snapshot: SnapshotRequest,
    file_mode: int,
    redaction: RedactionRequest,
    demo: bool,
    pacing: PacingRequest,
    list_scopes: bool,
    processes: int | None,
    report: Location | None,
    accounts: AccountRequest,
    quiet: bool,
    verbose: int,
) -> None:
    """Inventory every SageMaker training job of the given regions, one record per job.

    Pages ListTrainingJobs, describes every job, adds its tags and account, and writes each job in
    the documented aws_sagemaker_trainingjob shape (see `smi schema`). Progress and the summary go
    to stderr; stdout carries only records (jsonl/json/csv).
    """
    plan = plan_collect(
        regions=regions,
        filters=filters,
        output=output,
        records=records,
        snapshot=snapshot,
        file_mode=file_mode,
        redaction=redaction,
        demo=demo,
        pacing=pacing,
        list_scopes=list_scopes,
        processes=processes,
        report=report,
        accounts=accounts,
    )
    console = make_stderr_console(verbosity(quiet, verbose))
    # The run's modules (botocore, and rich's live display if shown) load only here.
    from sagemaker_inventory.collect.command import run_collect

    try:
        code = run_collect(plan, console, resolve_scopes)
    except JournalRefused as exc:
        # Not a usage mistake but a file found beside the snapshot: one line naming it.
        click.echo(f"smi: error: {exc}", err=True)
        sys.exit(int(ExitCode.USAGE))
    except SnapshotError as exc:
        raise click.BadParameter(str(exc), param_hint="'--snapshot'") from None
    sys.exit(int(code))


def plan_collect(
    *,
    regions: RegionRequest,
    filters: ListFilters,
    output: OutputRequest,
    records: RecordRequest,
    snapshot: SnapshotRequest,
    file_mode: int,
    redaction: RedactionRequest,
    demo: bool,
    pacing: PacingRequest,
    list_scopes: bool,
    processes: int | None,
    report: Location | None,
    accounts: AccountRequest,
) -> CollectPlan:
    """The options as one checked plan; a contradiction or a bad value is a usage error (exit 2)
    naming it. The checks run in a fixed order, each before any AWS call."""
    _check_demo(demo, regions, accounts)
    _check_dates(filters)
    if not demo and regions.endpoint_url is None:
        check_environment_endpoint_url()
    if processes is not None and processes > 1 and (demo or in_process_aws()):
        raise click.BadParameter(
            f"{processes}: AWS is simulated inside this process (--demo, moto), where other"
            " processes cannot reach it; use 1",
            param_hint="'--processes'",
        )
    destination, listing = _checked_destination(
        output, records, snapshot, filters, file_mode, redaction, list_scopes, report, accounts
    )
    checked_s3_options(destination, demo)
    options = CollectOptions(
        filters=filters,
        with_tags=records.with_tags,
        all_fields=records.all_fields,
        max_workers=pacing.max_workers,
        max_scopes=pacing.max_scopes,
        processes=processes,
        skip_unenabled_regions=regions.all_regions,
        rate_caps=_rate_caps(pacing.rates),
    )
    return CollectPlan(
        accounts=accounts,
        regions=regions.regions,
        all_regions=regions.all_regions,
        endpoint_url=regions.endpoint_url,
        demo=demo,
        options=options,
        destination=destination,
        list_scopes=listing,
        connect_timeout=pacing.connect_timeout,
        read_timeout=pacing.read_timeout,
    )


def _checked_destination(
    output: OutputRequest,
    records: RecordRequest,
    snapshot: SnapshotRequest,
    filters: ListFilters,
    file_mode: int,
    redaction: RedactionRequest,
    list_scopes: bool,
    report: Location | None,
    accounts: AccountRequest,
) -> tuple[Destination, str | None]:
    """Where the run writes, checked (paths writable, format and columns known, no two files
    one), and the format of --list-scopes (None without it)."""
    fmt, path, columns = output.fmt, output.path, output.columns
    destination = replace(
        checked_destination(fmt, path, columns, records.all_fields, report),
        snapshot=checked_snapshot(snapshot.path, snapshot.changes, path, filters),
        records_out=records_wanted(snapshot.path, path, fmt, columns),
    )
    listing = scopes_listing(
        list_scopes,
        fmt,
        (path, "-o"),
        (snapshot.path, "--snapshot"),
        (report, "--report"),
        (columns, "--columns"),
    )
    destination = replace(
        destination,
        changes=snapshot.changes,
        file_mode=file_mode,
        redaction=redaction_rules(redaction.patterns, redaction.no_redact),
        shard=accounts.shard,
        csv_raw=output.csv_raw,
        sse_kms_key_id=snapshot.sse_kms_key_id,
    )
    check_distinct_files(destination)
    return destination, listing


def resolve_scopes(
    plan: CollectPlan, factory: SessionFactory, default_regions: Sequence[str]
) -> list[Scope]:
    """The run's scopes (see `collect.plan.ScopeResolver`): an unknown region or profile is exit
    2, an organization that cannot be listed exit 1."""
    region_list = resolve_regions(
        factory, plan.accounts.base_profile, plan.regions or default_regions, plan.all_regions
    )
    return build_scopes(resolve_sources(plan.accounts, factory, region_list), region_list)


def _check_demo(demo: bool, regions: RegionRequest, accounts: AccountRequest) -> None:
    if not demo:
        return
    if accounts.profiles or accounts.assumes_roles or accounts.shard or regions.endpoint_url:
        raise click.UsageError(
            "--demo runs on its own embedded backend: drop --profile/--endpoint-url"
            " and the account options"
        )
    if regions.all_regions:
        from sagemaker_inventory.demo.backend import DEMO_REGIONS  # only now: it loads botocore

        raise click.UsageError(
            f"--demo has jobs only in {' and '.join(DEMO_REGIONS)} and collects both by"
            " default: drop --all-regions (or pick one with -r)"
        )


def _check_dates(filters: ListFilters) -> None:
    after, before = filters.created_after, filters.created_before
    if after is not None and before is not None and after >= before:
        from sagemaker_inventory.records.timestamps import format_utc_seconds

        raise click.UsageError(
            f"--created-after ({format_utc_seconds(after)}) is not earlier than --created-before"
            f" ({format_utc_seconds(before)}): no job can match both (an age counts back from now:"
            " --created-after 7d --created-before 1d is between 7 days and 1 day ago)"
        )


def _rate_caps(rates: Sequence[str]) -> RateCaps:
    try:
        return RateCaps.parse(rates)
    except BadRateError as exc:
        raise click.BadParameter(str(exc), param_hint="'--rate'") from None
