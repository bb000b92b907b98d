"""The option bundles of `smi collect`: each adds a group of options, handed to the command as one.

The values are the options as given (click has converted and range-checked each one); how they fit
together is checked by `cli.collect.plan_collect`, in one place and one order, so that of two bad
options the same one is always named first. The filters need no further check and arrive as the
`ListFilters` a run uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from sagemaker_inventory.aws.fetch import ListFilters
from sagemaker_inventory.aws.timeouts import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from sagemaker_inventory.cli.bundles import option_bundle
from sagemaker_inventory.cli.choices import (
    CommaChoice,
    column_names,
    completer,
    flatten,
    region_names,
)
from sagemaker_inventory.cli.common import (
    ENDPOINT_URL,
    ISO_OR_AGE,
    SECONDS,
    ParamType,
    format_option,
    output_option,
)
from sagemaker_inventory.collect.plan import Location
from sagemaker_inventory.output.s3_url import S3Url, S3UrlError, is_s3_url, parse_s3_object
from sagemaker_inventory.output.sinks import OutputFormat

# TrainingJobStatus in botocore's model (a test keeps this list equal to the model's enum).
TRAINING_JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")


@dataclass(frozen=True)
class RegionRequest:
    """-r (repeatable, comma-separated), --all-regions and --endpoint-url."""

    regions: tuple[str, ...]
    all_regions: bool
    endpoint_url: str | None


@dataclass(frozen=True)
class OutputRequest:
    """-f, -o, --csv-raw and --columns."""

    fmt: str | None
    path: Location | None
    csv_raw: bool
    columns: str | None


@dataclass(frozen=True)
class RecordRequest:
    """--no-tags and --all-fields: what each record holds."""

    with_tags: bool
    all_fields: bool


@dataclass(frozen=True)
class SnapshotRequest:
    """--snapshot and --changes."""

    path: Location | None
    changes: Location | None
    sse_kms_key_id: str | None = None


@dataclass(frozen=True)
class RedactionRequest:
    """--redact-pattern (repeatable) and --no-redact."""

    patterns: tuple[str, ...]
    no_redact: bool


@dataclass(frozen=True)
class PacingRequest:
    """--max-workers, --rate (repeatable, OPERATION=N), --max-scopes, and each request's
    --connect-timeout and --read-timeout."""

    max_workers: int
    rates: tuple[str, ...]
    max_scopes: int
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT


class LocationType(ParamType[Location]):
    """A FILE option that also takes `s3://BUCKET/KEY`: an S3Url (a prefix or a malformed URL is
    a usage error naming it, before any AWS call), else a Path as click.Path makes it."""

    name = "location"

    def __init__(self, allow_dash: bool = False) -> None:
        self._path = click.Path(dir_okay=False, allow_dash=allow_dash, path_type=Path)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Location:
        if isinstance(value, (Path, S3Url)):
            return value
        if is_s3_url(value):
            try:
                return parse_s3_object(str(value))
            except S3UrlError as exc:
                self.fail(str(exc), param, ctx)
        return Path(os.fsdecode(self._path.convert(value, param, ctx)))


region_options = option_bundle(
    (
        click.option(
            "-r",
            "--region",
            "regions",
            multiple=True,
            metavar="REGION",
            shell_complete=completer(region_names),
            help="Region to inventory; repeat or comma-separate. Default: AWS_REGION,"
            " AWS_DEFAULT_REGION or the profile's region.",
        ),
        click.option(
            "--all-regions",
            is_flag=True,
            help="Every region where SageMaker is offered; regions not enabled are skipped.",
        ),
        click.option(
            "--endpoint-url",
            type=ENDPOINT_URL,
            help="Send every AWS call here (moto server, LocalStack). AWS_ENDPOINT_URL works too.",
        ),
    ),
    ("regions", "all_regions", "endpoint_url"),
    "regions",
    RegionRequest,
)


def _filters(
    statuses: tuple[tuple[str, ...], ...],
    name_contains: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    modified_after: datetime | None,
) -> ListFilters:
    return ListFilters(
        flatten(statuses), name_contains, created_after, created_before, modified_after
    )


filter_options = option_bundle(
    (
        click.option(
            "--status",
            "statuses",
            multiple=True,
            type=CommaChoice("STATUS", TRAINING_JOB_STATUSES),
            help="Only jobs with this status; repeat or comma-separate: "
            + ", ".join(TRAINING_JOB_STATUSES)
            + ".",
        ),
        click.option("--name-contains", metavar="TEXT", help="Only jobs whose name contains TEXT."),
        click.option(
            "--created-after", type=ISO_OR_AGE, help="ISO-8601 time or age (7d, 12h, 30m, 2w)."
        ),
        click.option("--created-before", type=ISO_OR_AGE, help="ISO-8601 time or age."),
        click.option("--modified-after", type=ISO_OR_AGE, help="ISO-8601 time or age."),
    ),
    ("statuses", "name_contains", "created_after", "created_before", "modified_after"),
    "filters",
    _filters,
)

output_options = option_bundle(
    (
        format_option(
            [f.value for f in OutputFormat],
            "Output format. Default: table on a terminal, else jsonl (or from -o's suffix).",
        ),
        output_option(
            "Write to FILE (or s3://BUCKET/KEY) atomically instead of stdout (only when"
            " something was collected); '-' is stdout (with --snapshot, records go to stdout"
            " only then).",
            LocationType(allow_dash=True),
        ),
        click.option(
            "--csv-raw",
            is_flag=True,
            help="CSV cells exactly as the data has them. Default: a cell a spreadsheet would run"
            " as a formula (starting with = + - @, tab or CR; plain numbers excepted) gets a"
            " leading '.",
        ),
        click.option(
            "--columns",
            metavar="PATHS",
            shell_complete=completer(column_names),
            help="Comma-separated dotted paths, e.g. resource_config.instance_type: the table and"
            " csv columns; jsonl and json records keep only these paths, nested as they are.",
        ),
    ),
    ("fmt", "output", "csv_raw", "columns"),
    "output",
    OutputRequest,
)


def _records(no_tags: bool, all_fields: bool) -> RecordRequest:
    return RecordRequest(with_tags=not no_tags, all_fields=all_fields)


record_options = option_bundle(
    (
        click.option("--no-tags", is_flag=True, help="Skip the tag calls (records get tags: [])."),
        click.option(
            "--all-fields",
            is_flag=True,
            help="Also keep API members the documented shape leaves out.",
        ),
    ),
    ("no_tags", "all_fields"),
    "records",
    _records,
)

snapshot_options = option_bundle(
    (
        click.option(
            "--snapshot",
            type=LocationType(),
            metavar="FILE",
            help="Keep FILE (or s3://BUCKET/KEY) as the full JSONL inventory of these scopes:"
            " describe only new or changed jobs, drop deleted ones, keep a failed scope's"
            " previous records. One run at a time (FILE.lock); FILE.meta.json says when each"
            " scope was refreshed.",
        ),
        click.option(
            "--changes",
            type=LocationType(),
            metavar="FILE",
            help="With --snapshot: write this run's differences (to FILE, or to an S3 object in"
            " the snapshot's bucket) as JSONL"
            ' {"op": added|changed|removed, "record": ...} (empty when nothing changed).',
        ),
        click.option(
            "--sse-kms-key-id",
            metavar="KEY_ID",
            help="Encrypt every object smi writes to S3 with this KMS key (SSE-KMS). Default:"
            " the bucket's default encryption.",
        ),
    ),
    ("snapshot", "changes", "sse_kms_key_id"),
    "snapshot",
    SnapshotRequest,
)

redaction_options = option_bundle(
    (
        click.option(
            "--redact-pattern",
            "redact_patterns",
            multiple=True,
            metavar="REGEX",
            help="Also redact map values whose key matches REGEX (case-insensitive; repeatable).",
        ),
        click.option(
            "--no-redact",
            is_flag=True,
            help="Keep values of secret-looking keys in environment, hyper_parameters and other"
            " maps.",
        ),
    ),
    ("redact_patterns", "no_redact"),
    "redaction",
    RedactionRequest,
)

pacing_options = option_bundle(
    (
        click.option(
            "--max-workers",
            type=click.IntRange(1, 256),
            default=32,
            show_default=True,
            help="Concurrent DescribeTrainingJob calls per account x region.",
        ),
        click.option(
            "--rate",
            "rates",
            multiple=True,
            metavar="OPERATION=N",
            help="At most N requests/s of an API per account x region, e.g."
            " DescribeTrainingJob=20 (repeatable; for quotas shared with other tools). Every API"
            " also slows down by itself when throttled.",
        ),
        click.option(
            "--max-scopes",
            type=click.IntRange(1, 256),
            default=8,
            show_default=True,
            help="Accounts x regions collected at once.",
        ),
        click.option(
            "--connect-timeout",
            type=SECONDS,
            default=DEFAULT_CONNECT_TIMEOUT,
            show_default=True,
            help="Seconds to wait for a connection to AWS, each attempt (as the AWS CLI's"
            " --cli-connect-timeout).",
        ),
        click.option(
            "--read-timeout",
            type=SECONDS,
            default=DEFAULT_READ_TIMEOUT,
            show_default=True,
            help="Seconds to wait for an answer once connected, each attempt (as the AWS CLI's"
            " --cli-read-timeout).",
        ),
    ),
    ("max_workers", "rates", "max_scopes", "connect_timeout", "read_timeout"),
    "pacing",
    PacingRequest,
)
