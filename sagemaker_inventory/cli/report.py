"""The `smi report` command: options, input and output format around the pure report code.

Records are streamed from a file or stdin into one view's answer (`report.answer`: --by,
--failures, --running or --checks), then rendered as rich tables or dumped as JSON. Bad input
never produces a traceback or partial stdout: it ends with one stderr line naming the file and
line, and exit status 2.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

import click

from sagemaker_inventory.cli.choices import by_dimensions, completer
from sagemaker_inventory.cli.color import color_option
from sagemaker_inventory.cli.common import (
    checked_output,
    format_option,
    output_option,
    output_stream,
    quiet_option,
)
from sagemaker_inventory.cli.cost_options import (
    PriceSource,
    PricingPlan,
    demo_pricing,
    plan_pricing,
    price_source_options,
    price_summary,
)
from sagemaker_inventory.cli.report_inputs import S3Inventories, read_answer
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.output.console import OutputConsole
from sagemaker_inventory.output.s3_url import is_s3_url
from sagemaker_inventory.records.timestamps import parse_timestamp_or_none
from sagemaker_inventory.report.aggregate import parse_dimension
from sagemaker_inventory.report.answer import Answer
from sagemaker_inventory.report.demo_prices import DemoWatch
from sagemaker_inventory.report.jobs import NEAR_LIMIT_FRACTION

BY_METAVAR = "status|instance_type|account_id|region|tag:KEY|month"
REPORT_FORMATS = ("table", "json", "jsonl")
DEMO_PRICES_NOTE = (
    "smi: demo inventory: priced with the demo's shipped prices (approximate list prices;"
    " --prices demo), not the Price List API"
)


def check_dimensions(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    """Validate each `--by` value (a fixed name or the open-ended `tag:KEY`)."""
    try:
        return tuple(parse_dimension(value) for value in values)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


def check_moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Parse `--now` as ISO-8601 (`Z` or an offset; naive means UTC)."""
    if value is None:
        return None
    moment = parse_timestamp_or_none(value)
    if moment is None:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 timestamp", ctx, param)
    return moment


def check_cost_options(
    view: str, cost: bool, prices: PriceSource, sort: str | None, s3_inputs: bool = False
) -> PricingPlan | None:
    """The pricing plan of --cost (None without it); its options without it are usage errors
    (but --profile, which also chooses the credentials of s3:// inputs)."""
    if not cost:
        given = [
            name
            for name, value in (
                ("--prices", prices.prices_file),
                ("--refresh-prices", prices.refresh),
                ("--sort cost", sort == "cost"),
                ("--profile", prices.profile and not s3_inputs),
            )
            if value
        ]
        if given:
            more = " or an s3:// input" if given[0] == "--profile" else ""
            raise click.UsageError(f"{given[0]} needs --cost{more}")
        return None
    if view != "by":
        raise click.UsageError(
            "--cost goes with --by (or no view), not --failures/--running/--checks"
        )
    return plan_pricing(prices.prices_file, prices.refresh, prices.endpoint_url, prices.profile)


def choose_view(by: tuple[str, ...], failures: bool, running: bool, checks: bool = False) -> str:
    """Which view the options ask for; --by (status) when none is given. --checks takes --by."""
    if checks and (failures or running):
        raise click.UsageError("--checks cannot be combined with --failures or --running")
    chosen = [
        name
        for name, wanted in (("by", by), ("failures", failures), ("running", running))
        if wanted
    ]
    if len(chosen) > 1:
        raise click.UsageError("--by, --failures and --running are alternatives; give one")
    if len(set(by)) != len(by):
        raise click.UsageError("each --by dimension may be given only once")
    if checks:
        return "checks"
    return chosen[0] if chosen else "by"


HELP = f"""Answer common questions from an inventory written by `smi collect`.

Each input is a FILE of JSON lines or a JSON array of records (`-f json`),
streamed either way; '-' (or no input at all) is stdin when it is not a
terminal; a DIR means every *.jsonl and *.json file in it, by name, not in
subdirectories (sidecars *.meta.json, journals *.commit.json and hidden
files excluded). s3://BUCKET/KEY is one object, streamed; s3://BUCKET/PREFIX/
(or s3://BUCKET) is a DIR of objects (credentials: --profile, else the
default chain; --endpoint-url applies). Several inputs, e.g. the outputs of
sharded runs, are reported as one inventory: a job (training_job_arn) found
in more than one input is counted once, as its copy with the latest
last_modified_time (a note on stderr says how many copies were left out).
Blank lines are skipped; a missing input, a directory without inventory
files or a value that is not a JSON object with training_job_name and
training_job_arn stops the report with exit status 2 and 'FILE:LINE:
problem' on stderr.

\b
Views (give one; the default is --by status):
  --by DIM      jobs, instance-hours, billable instance-hours, spot savings %
                and failed jobs per group; repeat for two-level groupings.
                DIM: status, instance_type, account_id, region, tag:KEY
                (null without the tag; KEY may contain colons; a KEY no job
                has is named on stderr, with keys differing only in case),
                month (creation month, UTC, YYYY-MM). A job with instance
                groups counts in each of its instance types, with the hours
                of its instances of that type; totals count it once.
  --failures    Failed and Stopped jobs grouped by failure_reason, similar
                reasons folded (numbers, ids, ARNs, URIs, paths, hex ignored),
                groups with the newest job first.
  --running     InProgress jobs: time since creation, training time so far and
                max_runtime_in_seconds; jobs at {NEAR_LIMIT_FRACTION:.0%} or more of it are
                highlighted (near_limit in JSON).
  --cost        With --by: cost_usd (billable instance-hours x the on-demand
                list price of the type in the region, instance groups priced
                group by group: a job's priced types count even when another
                has no price), spot_saved_usd and unpriced_jobs (jobs with a
                type or region without a price) per group and in the totals.
                Prices: the AWS Price List API (cached a day
                under XDG_CACHE_HOME/smi; --refresh-prices), or --prices FILE
                ({{"REGION": {{"INSTANCE_TYPE": USD_PER_HOUR}}}}). --sort cost
                orders and draws bars by dollars. A failed Price List call is
                exit 1.
  --checks      Posture: every job against network_isolation,
                inter_container_encryption (jobs on more than one instance),
                volume_encryption (not local-NVMe types: g4dn, g5, g6, g6e,
                g7e, p3dn, p4d, p4de, p5*, p6*, trn*, r5d and other "d" families),
                output_encryption, vpc (subnets), secrets_in_environment
                (secret-looking keys in environment or hyper_parameters, by
                the redaction rules, redacted or not). With --by: failures per
                group. --fail-on-findings: exit {ExitCode.FINDINGS.value} when any check fails.

\b
Definitions: instance-hours = sum(training_time_in_seconds x instance count)
/ 3600 (billable: billable_time_in_seconds); instance count = instance_count
or the sum over instance_groups; spot savings % = (1 - sum billable / sum
training) x 100 over jobs with enable_managed_spot_training and both times
(null when none); failed = status Failed. Groups are ordered by billable
instance-hours (largest first, then by key); chronologically when --by month
comes first; the table's bars show billable instance-hours either way. Hours
are rounded to 4 decimals, percentages to 2.

\b
Tables fit the terminal (or COLUMNS), one line per cell; a job name or group
key is never cut. Columns that do not fit are left out, named under the
table, in this order:
  --by        bar, Spot %, Inst-h, Failed, Jobs (Billable-h and USD stay)
  --failures  bar, Other jobs, Where, Newest, Jobs (Reason is cut, kept last)
  --running   Max run, Status, Elapsed, Instances, Account, Region, Training
  --checks    N/A, Passed, Sev, Failed %; per group: Secr back to Isol,
              Jobs, Findings; findings: Account, Region (Detail cut first)

\b
--format json (the default when stdout is not a terminal) prints:
  --by:       {{"by": [DIM, ...], "groups": [{{"key": {{DIM: VALUE|null}},
               "jobs", "instance_hours", "billable_instance_hours",
               "spot_savings_percent", "failed"}}], "totals": {{same fields}}}}
               --cost adds "cost_usd", "spot_saved_usd", "unpriced_jobs" to
               each group and the totals (cost null when nothing in it has a
               price; totals = the sum of the groups), and "unpriced":
               [{{"region", "instance_type"}}] (pairs without a price).
  --failures: {{"failures": [{{"reason" (most recent), "pattern" (folded),
               "jobs", "failed", "stopped", "newest_time",
               "job_names" (newest first), "job_details": [{{
               "training_job_name", "account_id", "region",
               "training_job_status"}}] (the same jobs)}}]}}
  --running:  {{"now", "near_limit_fraction", "running": [{{"training_job_name",
               "account_id", "region", "instance_type", "instance_count", "secondary_status",
               "creation_time", "training_start_time", "elapsed_seconds",
               "training_seconds", "max_runtime_in_seconds",
               "max_wait_time_in_seconds", "fraction_of_limit", "near_limit"}}]}}
               (closest to the limit first).
  --checks:   {{"checks": [{{"id", "title", "severity", "passed", "failed",
               "not_applicable"}}], ["by", "groups": [{{"key", "jobs",
               "jobs_with_findings", "findings", "failed": {{ID: n}}}}],]
               "findings": [{{"check", "training_job_name", "training_job_arn",
               "account_id", "region", "detail"}}]}}; --format jsonl: one
               finding per line.

\b
Examples:
  smi report inventory.jsonl --by instance_type
  smi report shards/ --by account_id --by region --format table
  smi report s3://my-bucket/smi/ --by account_id
  smi report inventory.jsonl --by tag:aws:cloudformation:stack-name
  smi report inventory.jsonl --by month
  smi collect --region us-east-1 | smi report --failures
  smi collect --demo -f json | smi report --by tag:team
  smi report inventory.jsonl --running --format json | jq '.running[] | select(.near_limit)'
  smi report inventory.jsonl --checks --by account_id --format table
  smi report inventory.jsonl --checks --format jsonl --fail-on-findings
"""


@click.command(help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, metavar="[FILE|DIR|S3URL|-]...")
@click.option(
    "--by",
    "by",
    multiple=True,
    callback=check_dimensions,
    metavar=BY_METAVAR,
    shell_complete=completer(by_dimensions),
    help="Group by this (repeatable).",
)
@click.option("--failures", is_flag=True, help="Failed and stopped jobs by (folded) reason.")
@click.option("--running", is_flag=True, help="Jobs in progress against their runtime limit.")
@click.option(
    "--checks", is_flag=True, help="Posture findings: every job against six security checks."
)
@click.option(
    "--fail-on-findings",
    is_flag=True,
    help=f"With --checks: exit {ExitCode.FINDINGS.value} when any check fails (for CI gates).",
)
@click.option(
    "--cost", is_flag=True, help="Add dollars: on-demand list price x billable instance-hours."
)
@click.option(
    "--sort",
    type=click.Choice(["hours", "cost"]),
    default=None,
    help="Order groups and draw bars by billable hours (default) or by cost (needs --cost).",
)
@price_source_options
@format_option(
    REPORT_FORMATS,
    "table (rich), json, or jsonl (--checks: one finding per line); default: table on a "
    "terminal, json otherwise (also for -o FILE, or jsonl for --checks -o FILE.jsonl).",
)
@output_option("Write the report to FILE atomically instead of stdout; '-' is stdout.")
@click.option(
    "--now",
    callback=check_moment,
    default=None,
    metavar="ISO-8601",
    help="Measure --running at this moment instead of the clock's (e.g. when the inventory "
    "was collected).",
)
@quiet_option
@color_option
def report(
    *,
    inputs: tuple[str, ...],
    by: tuple[str, ...],
    failures: bool,
    running: bool,
    checks: bool,
    fail_on_findings: bool,
    cost: bool,
    prices: PriceSource,
    sort: str | None,
    fmt: str | None,
    output: Path | None,
    now: datetime | None,
    quiet: bool,
) -> None:
    """Entry point of `smi report` (help text: HELP)."""
    view = choose_view(by, failures, running, checks)
    s3_inputs = any(is_s3_url(item) for item in inputs)
    pricing = check_cost_options(view, cost, prices, sort, s3_inputs)
    if fail_on_findings and not checks:
        raise click.UsageError("--fail-on-findings needs --checks")
    path = checked_output(output)
    output_format = fmt or default_report_format(path, checks)
    if output_format == "jsonl" and not checks:
        raise click.UsageError("--format jsonl is for --checks (one finding per line)")
    if not inputs and sys.stdin.isatty():
        raise click.UsageError("no FILE given and stdin is a terminal (use '-' to force stdin)")
    moment = now or datetime.now(timezone.utc)
    order = sort or "hours"
    watch = DemoWatch() if pricing is not None else None
    store = S3Inventories(prices.profile, prices.endpoint_url) if s3_inputs else None
    result = read_answer(
        inputs, view, by, moment, cost=cost, sort=order, quiet=quiet, watch=watch, store=store
    )
    if pricing is not None and result.summary is not None:
        if watch is not None and watch.all_demo and pricing.table is None:
            pricing = demo_pricing(pricing, prices)
            if pricing.table is not None and not quiet:
                click.echo(DEMO_PRICES_NOTE, err=True)
        price_summary(result.summary, pricing)
        result.document = result.summary.as_dict()
    # Write errors name the file or stdout (WriteFailed, exit 5); a reader gone is the CLI
    # group's to handle.
    with output_stream(path) as stream:
        write_result(result, output_format, stream)
    if fail_on_findings and result.posture is not None and result.posture.total_findings:
        raise SystemExit(ExitCode.FINDINGS.value)


def default_report_format(path: Path | None, checks: bool) -> str:
    """table on a terminal, else json; a FILE (not a terminal) gets json, or jsonl for --checks
    when its suffix says JSON lines."""
    if path is None:
        return "table" if sys.stdout.isatty() else "json"
    if checks and path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    return "json"


def write_result(result: Answer, output_format: str, stream: TextIO) -> None:
    """The answer on `stream`: JSON (indented), JSON lines (--checks) or rich tables."""
    if result.posture is not None and output_format != "table":
        write = result.posture.write_json if output_format == "json" else result.posture.write_jsonl
        write(stream)
    elif output_format == "json":
        click.echo(json.dumps(result.document, indent=2, ensure_ascii=False), file=stream)
    else:
        result.render(OutputConsole(file=stream))
