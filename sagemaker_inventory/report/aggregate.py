"""Streamed aggregation behind `smi report --by`: fold an inventory's records into group sums.

Records (read by `inputs`) are added one at a time to one accumulator per group, so memory
grows with the number of groups, never with the number of jobs. Sums are kept exact (integer
seconds) and rounded only when turned into JSON-ready dicts. The failures and running views live
in `jobs`, rendering in `view`, option parsing in `cli.report`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sagemaker_inventory.records.arns import account_id_of, region_of
from sagemaker_inventory.records.instances import instance_seconds
from sagemaker_inventory.records.record import Record
from sagemaker_inventory.records.timestamps import parse_timestamp_or_none
from sagemaker_inventory.report.cost import (
    UNKNOWN_TYPE,
    USD_DIGITS,
    CostTally,
    Priced,
    PriceTable,
    instance_parts,
)

FIXED_DIMENSIONS = ("status", "instance_type", "account_id", "region", "month")
TAG_PREFIX = "tag:"
HOURS_DIGITS = 4
PERCENT_DIGITS = 2

GroupKey = tuple[str | None, ...]
_MONTH = re.compile(r"\d{4}-\d{2}-\d{2}T")


def parse_dimension(text: str) -> str:
    """Validate one `--by` value: a fixed dimension or `tag:KEY` with a non-empty KEY."""
    if text in FIXED_DIMENSIONS:
        return text
    if text.startswith(TAG_PREFIX) and len(text) > len(TAG_PREFIX):
        return text
    choices = ", ".join((*FIXED_DIMENSIONS, "tag:KEY"))
    raise ValueError(f"{text!r} is not one of {choices}")


def _tag_value(record: Record, key: str) -> str | None:
    # Tags are "key:value" strings and keys may contain colons, so match on the whole "KEY:" prefix.
    prefix = key + ":"
    tags = record.get("tags")
    if not isinstance(tags, list):
        return None
    for tag in tags:
        if isinstance(tag, str) and tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


def instance_shares(record: Record) -> list[tuple[str, int | None]]:
    """The job's instance types (UNKNOWN_TYPE where not recorded), each with how many instances
    of it the job ran on; a share of None means the whole job (one type, or none known)."""
    parts = instance_parts(record)
    if len(parts) <= 1:
        return [(parts[0][0] if parts else UNKNOWN_TYPE, None)]
    return [(kind, instances) for kind, instances in parts]


def _has_instance_groups(record: Record) -> bool:
    config = record.get("resource_config")
    return isinstance(config, Mapping) and bool(config.get("instance_groups"))


def _instance_type(record: Record) -> str | None:
    # The one type of the job; None for a cluster of several types (see instance_shares).
    if not _has_instance_groups(record):  # the common case, read directly
        config = record.get("resource_config")
        value = config.get("instance_type") if isinstance(config, Mapping) else None
        return value if isinstance(value, str) else None
    shares = instance_shares(record)
    return (shares[0][0] or None) if len(shares) == 1 else None


def _month(record: Record) -> str | None:
    value = record.get("creation_time")
    # Fast path for the record convention (UTC, "Z"): the month is the first seven characters.
    if isinstance(value, str) and value.endswith("Z") and _MONTH.match(value):
        return value[:7]
    created = parse_timestamp_or_none(value)
    return created.strftime("%Y-%m") if created else None


def string_field(record: Record, name: str) -> str | None:
    """The field's value if it is a string, else None."""
    value = record.get(name)
    return value if isinstance(value, str) else None


def group_value(record: Record, dimension: str) -> str | None:
    """The record's value for one `--by` dimension; None when the record has none."""
    if dimension.startswith(TAG_PREFIX):
        return _tag_value(record, dimension[len(TAG_PREFIX) :])
    if dimension == "status":
        return string_field(record, "training_job_status")
    if dimension == "instance_type":
        return _instance_type(record)
    if dimension == "account_id":
        return account_id_of(record)
    if dimension == "region":
        return region_of(record)
    if dimension == "month":
        return _month(record)
    raise ValueError(f"unknown dimension {dimension!r}")


def _hours(seconds: int) -> float:
    return round(seconds / 3600, HOURS_DIGITS)


# One record's contribution: instance-seconds, billable instance-seconds, spot training seconds,
# spot billable seconds, failed (0/1). A plain tuple, as it is built once per record.
Figures = tuple[int, int, int, int, int]


def figures_of(record: Record) -> Figures:
    """What one record adds to its group; missing or malformed fields contribute nothing."""
    training = record.get("training_time_in_seconds")
    billable = record.get("billable_time_in_seconds")
    spot_training = spot_billable = 0
    if (
        record.get("enable_managed_spot_training") is True
        and isinstance(training, int)
        and isinstance(billable, int)
    ):
        spot_training, spot_billable = training, billable
    return (
        instance_seconds(record, "training_time_in_seconds") or 0,
        instance_seconds(record, "billable_time_in_seconds") or 0,
        spot_training,
        spot_billable,
        1 if record.get("training_job_status") == "Failed" else 0,
    )


def share_figures(record: Record, figures: Figures, instances: int) -> Figures:
    """The figures of the part of a job that ran on `instances` instances of one type: its
    instance-seconds are those instances' only; spot and failed are the job's own."""
    training = record.get("training_time_in_seconds")
    billable = record.get("billable_time_in_seconds")
    return (
        training * instances if isinstance(training, int) else 0,
        billable * instances if isinstance(billable, int) else 0,
        *figures[2:],
    )


@dataclass
class Tally:
    """Exact running sums for one group (or the totals)."""

    jobs: int = 0
    instance_seconds: int = 0
    billable_instance_seconds: int = 0
    spot_training_seconds: int = 0
    spot_billable_seconds: int = 0
    failed: int = 0
    # --cost: instance-seconds by (region, instance type) while reading, dollars once priced.
    cost: CostTally | None = None
    priced: Priced | None = None

    def add(self, record: Record) -> None:
        """Count one record."""
        self.add_figures(figures_of(record))

    def add_figures(self, figures: Figures) -> None:
        """Count one record whose figures are already computed."""
        self.jobs += 1
        self.instance_seconds += figures[0]
        self.billable_instance_seconds += figures[1]
        self.spot_training_seconds += figures[2]
        self.spot_billable_seconds += figures[3]
        self.failed += figures[4]

    def spot_savings_percent(self) -> float | None:
        """(1 - sum billable / sum training) x 100 over spot jobs; None without spot time."""
        if self.spot_training_seconds <= 0:
            return None
        ratio = self.spot_billable_seconds / self.spot_training_seconds
        return round((1 - ratio) * 100, PERCENT_DIGITS)

    def as_dict(self) -> dict[str, Any]:
        """The JSON fields of a group or of the totals, hours rounded from the exact sums."""
        return {
            "jobs": self.jobs,
            "instance_hours": _hours(self.instance_seconds),
            "billable_instance_hours": _hours(self.billable_instance_seconds),
            "spot_savings_percent": self.spot_savings_percent(),
            "failed": self.failed,
            **({} if self.priced is None else self.priced.as_dict()),
        }


def _key_order(key: GroupKey) -> tuple[tuple[int, str], ...]:
    # None (no value) sorts after every real value.
    return tuple((1, "") if part is None else (0, part) for part in key)


@dataclass
class GroupedTallies:
    """The `--by` answer: one Tally per group key plus the totals."""

    by: tuple[str, ...]
    groups: dict[GroupKey, Tally] = field(default_factory=dict)
    totals: Tally = field(default_factory=Tally)
    unpriced_pairs: list[tuple[str, str]] = field(default_factory=list)

    # "hours" (billable instance-hours) or "cost" (dollars, once priced).
    sort: str = "hours"
    # Things the reader should know that are not numbers (a tag key no job has), for stderr.
    warnings: list[str] = field(default_factory=list)

    def add(
        self,
        key: GroupKey,
        figures: Figures,
        record: Record,
        parts: list[tuple[str, int]] | None = None,
    ) -> None:
        """Count one record (or the share of it on `parts`, see CostTally.add) in group `key`."""
        tally = self.groups.get(key)
        if tally is None:
            cost = CostTally() if self.totals.cost is not None else None
            tally = self.groups[key] = Tally(cost=cost)
        tally.add_figures(figures)
        if tally.cost is not None:
            tally.cost.add(record, parts)

    def ordered(self) -> list[tuple[GroupKey, Tally]]:
        """Largest billable instance-hours (or cost) first, ties by key; by key when month comes
        first (unless sorting by cost)."""
        items = list(self.groups.items())
        if self.sort == "cost":
            return sorted(items, key=lambda item: (-cost_of(item[1]), _key_order(item[0])))
        if self.by and self.by[0] == "month":
            return sorted(items, key=lambda item: _key_order(item[0]))
        return sorted(
            items,
            key=lambda item: (
                -item[1].billable_instance_seconds,
                -item[1].jobs,
                _key_order(item[0]),
            ),
        )

    def price_pairs(self) -> set[tuple[str, str]]:
        """The (region, instance type) pairs --cost needs a price for."""
        return set() if self.totals.cost is None else self.totals.cost.pairs()

    def price(self, prices: PriceTable) -> None:
        """Turn every group's and the totals' instance-seconds into dollars at `prices`."""
        self.unpriced_pairs = sorted(
            p for p in self.price_pairs() if p[1] not in prices.get(p[0], {})
        )
        for tally in (*self.groups.values(), self.totals):
            if tally.cost is not None:
                tally.priced = tally.cost.priced(prices)
        if self.totals.priced is not None:
            self.totals.priced = _added_up(self.totals.priced, list(self.groups.values()))

    def as_dict(self) -> dict[str, Any]:
        """The documented JSON shape: {"by", "groups": [{"key", ...fields}], "totals"}."""
        groups = [
            {"key": dict(zip(self.by, key, strict=True)), **tally.as_dict()}
            for key, tally in self.ordered()
        ]
        document = {"by": list(self.by), "groups": groups, "totals": self.totals.as_dict()}
        if self.totals.priced is not None:
            document["unpriced"] = [
                {"region": region, "instance_type": kind} for region, kind in self.unpriced_pairs
            ]
        return document


def _added_up(totals: Priced, groups: Sequence[Tally]) -> Priced:
    """The totals' dollars as the sum of the groups' rounded dollars, so that the figures shown
    add up to the cent (the groups split every priced instance-second between them: a job on
    several types counts each type's part in that type's group). unpriced_jobs stays the totals'
    own count: a job counts once there, whatever groups it is in."""
    shown = [tally.priced.as_dict() for tally in groups if tally.priced is not None]
    costs = [fields["cost_usd"] for fields in shown if fields["cost_usd"] is not None]
    saved = [fields["spot_saved_usd"] for fields in shown if fields["spot_saved_usd"] is not None]
    return Priced(
        round(sum(costs), USD_DIGITS) if costs else None,
        round(sum(saved), USD_DIGITS) if saved else None,
        totals.unpriced_jobs,
    )


def cost_of(tally: Tally) -> float:
    """A group's dollars for ordering and bars (0 before pricing, or with nothing priced)."""
    return 0.0 if tally.priced is None else tally.priced.cost_usd or 0.0


def summarise(
    records: Iterable[Record], by: Sequence[str], *, cost: bool = False
) -> GroupedTallies:
    """Fold records into one Tally per group of the dimensions `by` (see parse_dimension); with
    `cost`, also their instance-seconds by region and instance type, for GroupedTallies.price.

    A job that ran on several instance types (instance groups) counts in each of them, with the
    instance-hours of its instances of that type; the totals count it once.
    """
    dimensions = tuple(parse_dimension(d) for d in by)
    if len(set(dimensions)) != len(dimensions):
        raise ValueError("each --by dimension may be given only once")
    summary = GroupedTallies(by=dimensions)
    if cost:
        summary.totals.cost = CostTally()
    tags = TagCheck([d[len(TAG_PREFIX) :] for d in dimensions if d.startswith(TAG_PREFIX)])
    split = dimensions.index("instance_type") if "instance_type" in dimensions else None
    for record in records:
        figures = figures_of(record)
        summary.totals.add_figures(figures)
        if summary.totals.cost is not None:
            summary.totals.cost.add(record)
        key = tuple(group_value(record, d) for d in dimensions)
        tags.note(record, dimensions, key)
        if split is None or not _has_instance_groups(record):
            summary.add(key, figures, record)
            continue
        for kind, share in instance_shares(record):
            part = (*key[:split], kind or None, *key[split + 1 :])
            if share is None:
                summary.add(part, figures, record)
            else:
                summary.add(part, share_figures(record, figures, share), record, [(kind, share)])
    summary.warnings = tags.warnings()
    return summary


@dataclass
class TagCheck:
    """Notices a `--by tag:KEY` that no job has, and the keys that differ from it only in case."""

    keys: list[str]
    found: set[str] = field(default_factory=set)
    variants: dict[str, set[str]] = field(default_factory=dict)

    def note(self, record: Record, dimensions: tuple[str, ...], key: GroupKey) -> None:
        """Look at one record's tags for each tag dimension it has no value for."""
        for dimension, value in zip(dimensions, key, strict=True):
            if not dimension.startswith(TAG_PREFIX):
                continue
            wanted = dimension[len(TAG_PREFIX) :]
            if value is not None:
                self.found.add(wanted)
            elif wanted not in self.found:
                self.variants.setdefault(wanted, set()).update(_case_variants(record, wanted))

    def warnings(self) -> list[str]:
        """One sentence per tag key no job has."""
        lines = []
        for wanted in self.keys:
            if wanted in self.found:
                continue
            line = f"no job has the tag key {wanted!r}"
            variants = sorted(self.variants.get(wanted, ()))
            if variants:
                line += "; keys differing only in case: " + ", ".join(map(repr, variants))
            lines.append(line)
        return lines


def _case_variants(record: Record, key: str) -> list[str]:
    tags = record.get("tags")
    if not isinstance(tags, list):
        return []
    size, folded = len(key), key.casefold()
    return [
        tag[:size]
        for tag in tags
        if isinstance(tag, str) and tag[size : size + 1] == ":" and tag[:size].casefold() == folded
    ]
