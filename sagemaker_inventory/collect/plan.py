"""What one `smi collect` run is asked to do, every value already checked: the `CollectPlan` the
click layer builds from the options and hands to `command.run_collect`.

`CollectOptions` says what to collect and how hard to push (each scope's runner and every worker
process get it); `Destination` says where records and files go; `CollectPlan` adds which accounts
and regions. Regions and accounts are checked against botocore's data and AWS only once the run's
sessions exist, by the click layer's `ScopeResolver`, so that an unknown region or profile stays its
usage error (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sagemaker_inventory.aws.fetch import ListFilters
from sagemaker_inventory.aws.pacing import RateCaps
from sagemaker_inventory.aws.timeouts import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from sagemaker_inventory.output.s3_url import S3Url
from sagemaker_inventory.records.record import MutableRecord

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory
    from sagemaker_inventory.collect.accounts import AccountRequest
    from sagemaker_inventory.collect.scopes import Scope
    from sagemaker_inventory.collect.sharding import Shard
    from sagemaker_inventory.output.sinks import OutputFormat
    from sagemaker_inventory.records.redaction import RedactionRules

# Where a file of `smi collect` goes: a local path, or an S3 object (docs/s3.md).
Location = Path | S3Url

# Given a TrainingJobSummary, the record still current for it (a snapshot's), or None: describe.
Reuse = Callable[[dict[str, Any]], MutableRecord | None]


@dataclass(frozen=True)
class CollectOptions:
    """What to collect and how hard to push."""

    filters: ListFilters = field(default_factory=ListFilters)
    with_tags: bool = True
    all_fields: bool = False
    # More describes in flight help while round trips are slow; beyond this, CPU, not threads,
    # bounds a run (scripts/bench.py shows it; the figures are in docs/benchmarks.md).
    max_workers: int = 32
    max_scopes: int = 8
    # Processes collecting scopes (None: chosen from the number of scopes; see process_count.py).
    # run_inventory itself always runs in this process.
    processes: int | None = None
    # With --all-regions, a region the account has not enabled is skipped rather than failed.
    skip_unenabled_regions: bool = False
    # Given a TrainingJobSummary, a record still current for it (a snapshot's), or None to describe.
    # Its tags are refreshed all the same.
    reuse: Reuse | None = None
    # --rate OPERATION=N caps; every operation also adapts to the throttling it meets.
    rate_caps: RateCaps = field(default_factory=RateCaps)


@dataclass(frozen=True)
class Destination:
    """Where records go and in which format, and the other files the run writes."""

    fmt: OutputFormat
    path: Location | None
    columns: list[str] | None
    all_fields: bool = False
    report: Location | None = None
    file_mode: int = 0o600
    snapshot: Location | None = None
    changes: Location | None = None
    redaction: RedactionRules | None = None  # None: --no-redact
    shard: Shard | None = None  # --shard: the snapshot holds only this shard's accounts
    # False with --snapshot and no -o: the snapshot is the output, stdout stays silent (cron).
    records_out: bool = True
    csv_raw: bool = False  # --csv-raw: CSV cells not neutralised against formulas
    sse_kms_key_id: str | None = None  # --sse-kms-key-id: SSE-KMS on every object written to S3

    @property
    def s3_locations(self) -> list[S3Url]:
        """The S3 objects the run writes (its -o, --report, --snapshot, --changes)."""
        given = (self.path, self.report, self.snapshot, self.changes)
        return [location for location in given if isinstance(location, S3Url)]


@dataclass(frozen=True)
class CollectPlan:
    """One `smi collect` run: which accounts and regions, what to collect, where it goes."""

    accounts: AccountRequest
    regions: tuple[str, ...]  # as given with -r; () is the profile's region (the demo's both)
    all_regions: bool
    endpoint_url: str | None
    demo: bool  # on the embedded moto backend
    options: CollectOptions
    destination: Destination
    # --list-scopes: print the scopes in this format (text, jsonl, json, csv), collect nothing.
    list_scopes: str | None = None
    # --connect-timeout and --read-timeout: seconds, each attempt of each AWS request.
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT


class ScopeResolver(Protocol):
    """The scopes of `plan`, found with the run's sessions: its regions checked (or, when none
    were named, `default_regions`, else the profile's region) and its accounts resolved (--org,
    accounts files, STS). A region or profile that does not exist is the resolver's usage error."""

    def __call__(
        self, plan: CollectPlan, factory: SessionFactory, default_regions: Sequence[str]
    ) -> list[Scope]: ...
