"""Derived figures of one record (instance count, instance-seconds, region) for tables and reports.

The table footer and `smi report` share these definitions, which follow the spec page: billable
compute = BillableTimeInSeconds x InstanceCount, and a heterogeneous cluster
(resource_config.instance_groups) counts the sum of its groups' instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Record = Mapping[str, Any]


def instance_count(record: Record) -> int | None:
    """Instances the job ran on: resource_config.instance_count, or the sum over instance groups."""
    config = record.get("resource_config")
    if not isinstance(config, Mapping):
        return None
    groups = config.get("instance_groups")
    if groups:
        counts = [g.get("instance_count") for g in groups if isinstance(g, Mapping)]
        return sum(c for c in counts if isinstance(c, int))
    count = config.get("instance_count")
    return count if isinstance(count, int) else None


def instance_seconds(record: Record, seconds_field: str) -> int | None:
    """`seconds_field` (training_time_in_seconds or billable_time_in_seconds) x instance count."""
    seconds = record.get(seconds_field)
    count = instance_count(record)
    if not isinstance(seconds, int) or count is None:
        return None
    return seconds * count


def region_of(record: Record) -> str | None:
    """The region part of the job ARN (arn:partition:sagemaker:REGION:ACCOUNT:training-job/NAME)."""
    arn = record.get("training_job_arn")
    if not isinstance(arn, str):
        return None
    parts = arn.split(":", 5)
    return parts[3] if len(parts) == 6 and parts[3] else None
