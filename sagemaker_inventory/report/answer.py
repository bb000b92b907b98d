"""One `smi report` view's answer: the records aggregated as the view asks (`aggregate.summarise`
for --by, `jobs.collect_failures`, `jobs.collect_running`, `checks.assess`), as a JSON document and
as a rich rendering of the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.console import Console

from sagemaker_inventory.records.record import Record
from sagemaker_inventory.records.timestamps import format_timestamp
from sagemaker_inventory.report.aggregate import GroupedTallies, summarise
from sagemaker_inventory.report.checks import Posture, assess
from sagemaker_inventory.report.checks_view import render_checks
from sagemaker_inventory.report.jobs import NEAR_LIMIT_FRACTION, collect_failures, collect_running
from sagemaker_inventory.report.view import render_failures, render_running, render_summary


@dataclass
class Answer:
    """A view's result, as a JSON document and as a rich rendering of the same numbers."""

    document: dict[str, Any]
    render: Callable[[Console], None]
    posture: Posture | None = None  # --checks: written as it is, findings one by one
    summary: GroupedTallies | None = None  # the --by view's, which --cost prices after reading
    warnings: list[str] = field(default_factory=list)


def answer(
    view: str,
    records: Iterable[Record],
    by: tuple[str, ...],
    now: datetime,
    *,
    cost: bool = False,
    sort: str = "hours",
) -> Answer:
    """Run one view's aggregation over the records (consuming them)."""
    if view == "checks":
        posture = assess(records, by)
        return Answer({}, lambda console: render_checks(posture, console), posture=posture)
    if view == "failures":
        groups = collect_failures(records)
        document: dict[str, Any] = {"failures": [group.as_dict() for group in groups]}
        return Answer(document, lambda console: render_failures(groups, console))
    if view == "running":
        jobs = collect_running(records, now)
        document = {
            "now": format_timestamp(now),
            "near_limit_fraction": NEAR_LIMIT_FRACTION,
            "running": [job.as_dict() for job in jobs],
        }
        return Answer(document, lambda console: render_running(jobs, now, console))
    summary = summarise(records, by or ("status",), cost=cost)
    summary.sort = sort
    return Answer(
        summary.as_dict(),
        lambda console: render_summary(summary, console),
        summary=summary,
        warnings=summary.warnings,
    )
