"""The instances a record's job ran on: its cluster's groups, their count, and instance-seconds.

The table footer and `smi report` share these definitions, which follow the spec page: billable
compute = BillableTimeInSeconds x InstanceCount, and a heterogeneous cluster
(resource_config.instance_groups) counts the sum of its groups' instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sagemaker_inventory.records.record import Record


def instance_groups(record: Record) -> list[tuple[Any, Any]] | None:
    """(instance_type, instance_count) per group of the job's cluster: resource_config's own pair,
    or one pair per resource_config.instance_groups entry (a heterogeneous cluster). None when the
    record says nothing about its instances. Values are as recorded (possibly absent)."""
    config = record.get("resource_config")
    if not isinstance(config, Mapping):
        return None
    groups = config.get("instance_groups")
    if groups:
        return [
            (g.get("instance_type"), g.get("instance_count"))
            for g in groups
            if isinstance(g, Mapping)
        ]
    if config.get("instance_type") is None and config.get("instance_count") is None:
        return None
    return [(config.get("instance_type"), config.get("instance_count"))]


def instance_count(record: Record) -> int | None:
    """Instances the job ran on: resource_config.instance_count, or the sum over instance groups."""
    groups = instance_groups(record)
    if groups is None:
        return None
    counts = [count for _, count in groups if isinstance(count, int)]
    if len(groups) == 1 and not counts:
        return None
    return sum(counts)


def instance_seconds(record: Record, seconds_field: str) -> int | None:
    """`seconds_field` (training_time_in_seconds or billable_time_in_seconds) x instance count."""
    seconds = record.get(seconds_field)
    count = instance_count(record)
    if not isinstance(seconds, int) or count is None:
        return None
    return seconds * count
