"""The job-level views of `smi report`: failed/stopped jobs grouped by reason, and running jobs.

Both views keep only the jobs they list (Failed/Stopped for `--failures`, InProgress for
`--running`), never the whole inventory. Similar failure reasons are folded by replacing their
variable parts (numbers, ids, ARNs, URIs, paths, hex) so that one bug shows as one line with a
count. Running jobs are measured against "now", which callers pass in so that tests can fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sagemaker_inventory.records.instances import instance_count
from sagemaker_inventory.records.record import Record
from sagemaker_inventory.records.timestamps import format_timestamp, parse_timestamp_or_none
from sagemaker_inventory.report.aggregate import group_value, string_field

# A running job is "near its limit" from this fraction of max_runtime_in_seconds on.
NEAR_LIMIT_FRACTION = 0.8

# Variable parts of failure reasons, replaced in this order: ARNs and URIs before their digits.
_REASON_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\barn:[\w-]+:[^\s'\",;()\[\]]*"), "<arn>"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\",;()\[\]]+", re.IGNORECASE), "<uri>"),
    (re.compile(r"'[^'\s]*[/\\][^'\s]*'"), "'<path>'"),
    (re.compile(r'"[^"\s]*[/\\][^"\s]*"'), '"<path>"'),
    (re.compile(r"(?<![\w/.])/[\w.@+-]+(?:/[\w.@+-]*)+"), "<path>"),
    (re.compile(r"\b[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}\b", re.IGNORECASE), "<id>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.IGNORECASE), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def fold_reason(reason: str) -> str:
    """A failure reason with its variable parts (numbers, ids, ARNs, URIs, paths, hex) replaced."""
    for pattern, replacement in _REASON_PATTERNS:
        reason = pattern.sub(replacement, reason)
    return reason.strip()


def _newest_first(moment: datetime | None) -> tuple[int, float]:
    return (1, 0.0) if moment is None else (0, -moment.timestamp())


@dataclass(slots=True)
class StoppedJob:
    """A failed or stopped job as the failures view lists it."""

    name: str
    status: str
    when: datetime | None
    reason: str | None
    account_id: str | None = None
    region: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Which job: jobs in different accounts or regions may share a name."""
        return {
            "training_job_name": self.name,
            "account_id": self.account_id,
            "region": self.region,
            "training_job_status": self.status,
        }


@dataclass
class FailureGroup:
    """Failed/stopped jobs whose reasons fold to the same pattern (None: no failure_reason)."""

    pattern: str | None
    jobs: list[StoppedJob] = field(default_factory=list)

    def ordered_jobs(self) -> list[StoppedJob]:
        """Newest first, ties by name."""
        return sorted(
            self.jobs,
            key=lambda job: (
                _newest_first(job.when),
                job.name,
                job.account_id or "",
                job.region or "",
            ),
        )

    def newest(self) -> StoppedJob:
        """The group's most recent job, whose reason represents the group."""
        return self.ordered_jobs()[0]

    def as_dict(self) -> dict[str, Any]:
        """JSON form: representative reason, folded pattern, counts and job names newest first."""
        jobs = self.ordered_jobs()
        return {
            "reason": jobs[0].reason,
            "pattern": self.pattern,
            "jobs": len(jobs),
            "failed": sum(job.status == "Failed" for job in jobs),
            "stopped": sum(job.status == "Stopped" for job in jobs),
            "newest_time": format_timestamp(jobs[0].when),
            "job_names": [job.name for job in jobs],
            "job_details": [job.as_dict() for job in jobs],
        }


def _ended_at(record: Record) -> datetime | None:
    for name in ("training_end_time", "last_modified_time", "creation_time"):
        moment = parse_timestamp_or_none(record.get(name))
        if moment is not None:
            return moment
    return None


def collect_failures(records: Iterable[Record]) -> list[FailureGroup]:
    """Failed and Stopped jobs grouped by folded reason; groups with the newest job first."""
    groups: dict[str | None, FailureGroup] = {}
    for record in records:
        status = record.get("training_job_status")
        if status not in ("Failed", "Stopped"):
            continue
        reason = string_field(record, "failure_reason") or None
        pattern = fold_reason(reason) if reason else None
        job = StoppedJob(
            str(record["training_job_name"]),
            str(status),
            _ended_at(record),
            reason,
            group_value(record, "account_id"),
            group_value(record, "region"),
        )
        groups.setdefault(pattern, FailureGroup(pattern)).jobs.append(job)
    return sorted(
        groups.values(),
        key=lambda g: (_newest_first(g.newest().when), -len(g.jobs), g.pattern or ""),
    )


@dataclass(slots=True)
class RunningJob:
    """An InProgress job measured against its stopping condition at a given moment."""

    name: str
    account_id: str | None
    region: str | None
    instance_type: str | None
    instance_count: int | None
    secondary_status: str | None
    created: datetime | None
    started: datetime | None
    elapsed_seconds: int | None
    training_seconds: int | None
    max_runtime_in_seconds: int | None
    max_wait_time_in_seconds: int | None

    def fraction_of_limit(self) -> float | None:
        """Training time so far / max_runtime_in_seconds (the limit SageMaker stops the job at)."""
        if self.training_seconds is None or not self.max_runtime_in_seconds:
            return None
        return self.training_seconds / self.max_runtime_in_seconds

    def near_limit(self, threshold: float = NEAR_LIMIT_FRACTION) -> bool:
        """True when the job has used at least `threshold` of its max runtime."""
        fraction = self.fraction_of_limit()
        return fraction is not None and fraction >= threshold

    def as_dict(self, threshold: float = NEAR_LIMIT_FRACTION) -> dict[str, Any]:
        """JSON form of one running job."""
        fraction = self.fraction_of_limit()
        return {
            "training_job_name": self.name,
            "account_id": self.account_id,
            "region": self.region,
            "instance_type": self.instance_type,
            "instance_count": self.instance_count,
            "secondary_status": self.secondary_status,
            "creation_time": format_timestamp(self.created),
            "training_start_time": format_timestamp(self.started),
            "elapsed_seconds": self.elapsed_seconds,
            "training_seconds": self.training_seconds,
            "max_runtime_in_seconds": self.max_runtime_in_seconds,
            "max_wait_time_in_seconds": self.max_wait_time_in_seconds,
            "fraction_of_limit": None if fraction is None else round(fraction, 4),
            "near_limit": self.near_limit(threshold),
        }


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    # A clock a little behind the inventory's must not show negative durations.
    return None if moment is None else max(0, int((now - moment).total_seconds()))


def _limit(record: Record, name: str) -> int | None:
    condition = record.get("stopping_condition")
    value = condition.get(name) if isinstance(condition, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def to_running_job(record: Record, now: datetime) -> RunningJob:
    """Measure one InProgress record at `now` (an aware datetime)."""
    created = parse_timestamp_or_none(record.get("creation_time"))
    started = parse_timestamp_or_none(record.get("training_start_time"))
    return RunningJob(
        name=str(record["training_job_name"]),
        account_id=group_value(record, "account_id"),
        region=group_value(record, "region"),
        instance_type=group_value(record, "instance_type"),
        instance_count=instance_count(record),
        secondary_status=string_field(record, "secondary_status"),
        created=created,
        started=started,
        elapsed_seconds=_seconds_since(created, now),
        training_seconds=_seconds_since(started, now),
        max_runtime_in_seconds=_limit(record, "max_runtime_in_seconds"),
        max_wait_time_in_seconds=_limit(record, "max_wait_time_in_seconds"),
    )


def collect_running(records: Iterable[Record], now: datetime) -> list[RunningJob]:
    """InProgress jobs, closest to their limit first; those without a limit last, oldest first."""
    running = [
        to_running_job(record, now)
        for record in records
        if record.get("training_job_status") == "InProgress"
    ]

    def order(job: RunningJob) -> tuple[float, int, str, str, str]:
        fraction = job.fraction_of_limit()
        return (
            -(fraction if fraction is not None else -1.0),
            -(job.elapsed_seconds or 0),
            job.name,
            job.account_id or "",
            job.region or "",
        )

    return sorted(running, key=order)
