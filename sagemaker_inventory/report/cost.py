"""Dollars behind `smi report --cost`: billable instance-seconds per (region, instance type), priced
once the whole inventory has been read.

Prices are needed only for the (region, instance type) pairs the inventory holds, and the records
stream by once, so each group keeps instance-seconds by pair (memory grows with the pairs, not the
jobs) and is priced at the end. Cost = billable instance-seconds / 3600 x the on-demand price of the
type in the region; instance groups are priced group by group. A spot job's billable time is what
AWS charges for; what spot saved is its training time minus its billable time, at the same price.
Each instance type of a job is priced on its own: a job whose region or some of its instance types
have no price counts the types that have one in dollars (in its group and in the totals alike, so
the totals are the sum of what the groups show) and counts once in unpriced_jobs; what has no price
counts in jobs and hours, never in dollars. A group with nothing priced has no cost (None, shown as
null and "—"), never $0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sagemaker_inventory.records.arns import region_of
from sagemaker_inventory.records.instances import instance_groups
from sagemaker_inventory.records.record import Record

USD_DIGITS = 2
UNKNOWN_TYPE = ""  # a cluster part whose instance type is not recorded: never priced

PriceTable = Mapping[str, Mapping[str, float]]
# (region or None, the job's instance types sorted): the jobs with the same pricing fate.
UsageKey = tuple[str | None, tuple[str, ...]]


def instance_parts(record: Record) -> list[tuple[str, int]]:
    """(instance type, instances) per type the job ran on, instance groups of one type summed;
    a part with an unknown count has 0 instances (no hours, so no dollars either)."""
    parts: dict[str, int] = {}
    for kind, count in instance_groups(record) or []:
        key = kind if isinstance(kind, str) else UNKNOWN_TYPE
        parts[key] = parts.get(key, 0) + (count if isinstance(count, int) else 0)
    return list(parts.items())


def _seconds(record: Record, kind: str) -> int | None:
    value = record.get(f"{kind}_time_in_seconds")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(slots=True)
class Usage:
    """Jobs of one UsageKey and their instance-seconds per type: billable, and for spot jobs
    training and billable."""

    jobs: int = 0
    seconds: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Priced:
    """One group's dollars; None when nothing in the group has a price (not the same as $0)."""

    cost_usd: float | None
    spot_saved_usd: float | None
    unpriced_jobs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "cost_usd": _usd(self.cost_usd),
            "spot_saved_usd": _usd(self.spot_saved_usd),
            "unpriced_jobs": self.unpriced_jobs,
        }


def _usd(dollars: float | None) -> float | None:
    return None if dollars is None else round(dollars, USD_DIGITS)


@dataclass
class CostTally:
    """Instance-seconds of one group (or the totals) by pricing key, priced on demand."""

    usage: dict[UsageKey, Usage] = field(default_factory=dict)

    def add(self, record: Record, parts: Sequence[tuple[str, int]] | None = None) -> None:
        """Count one record, or the share of it given by `parts` (default: all its instances)."""
        parts = instance_parts(record) if parts is None else parts
        key = (region_of(record), tuple(sorted(kind for kind, _ in parts)))
        usage = self.usage.get(key)
        if usage is None:
            usage = self.usage[key] = Usage()
        usage.jobs += 1
        billable, training = _seconds(record, "billable"), _seconds(record, "training")
        # As report.figures_of: spot savings only from spot jobs that record both times.
        spot = (
            record.get("enable_managed_spot_training") is True
            and billable is not None
            and training is not None
        )
        for kind, instances in parts:
            sums = usage.seconds.setdefault(kind, [0, 0, 0])
            sums[0] += (billable or 0) * instances
            if spot:
                sums[1] += (training or 0) * instances
                sums[2] += (billable or 0) * instances

    def pairs(self) -> set[tuple[str, str]]:
        """The (region, instance type) pairs a price is needed for."""
        return {
            (region, kind)
            for (region, kinds) in self.usage
            if region is not None
            for kind in kinds
            if kind != UNKNOWN_TYPE
        }

    def priced(self, prices: PriceTable) -> Priced:
        """Dollars at `prices` (region -> type -> USD per hour): every instance type with a price
        counts, also in a job whose other types have none; such a job, or one with no known type,
        counts once in unpriced_jobs. Nothing priced at all is None, not $0."""
        cost = saved = 0.0
        unpriced = 0
        any_priced = False
        for (region, kinds), usage in self.usage.items():
            rates = prices.get(region, {}) if region is not None else {}
            if not kinds or any(kind not in rates for kind in kinds):
                unpriced += usage.jobs
            for kind, (billable, spot_training, spot_billable) in usage.seconds.items():
                if kind not in rates:
                    continue
                any_priced = True
                cost += billable / 3600 * rates[kind]
                saved += (spot_training - spot_billable) / 3600 * rates[kind]
        if not any_priced:
            return Priced(None, None, unpriced)
        return Priced(cost, saved, unpriced)
