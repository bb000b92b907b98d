"""Rich rendering of `smi report`: tables with inline bar charts for the summary, failures, running.

Every cell is a `rich.text.Text`, because job names and failure reasons are user data that may
contain `[...]`, which rich would otherwise parse as markup. The caller passes the Console in (the
CLI makes one on stdout, tests one on a StringIO). Numbers come from the aggregates JSON uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sagemaker_inventory.report import (
    GroupKey,
    Summary,
    Tally,
    cost_of,
    format_time,
)
from sagemaker_inventory.report_jobs import NEAR_LIMIT_FRACTION, FailureGroup, RunningJob

BAR_WIDTH = 30
MIN_BAR_WIDTH = 6
KEY_MIN_WIDTH = 16
_EIGHTHS = " ▏▎▍▌▋▊▉"
_NONE = Text("(none)", style="dim")
EXAMPLE_NAMES = 3
NAMES_MAX_WIDTH = 30
REASON_MAX_CHARS = 300
USED_BAR_WIDTH = 5

Row = tuple[GroupKey, Tally]


def bar(value: float, maximum: float, width: int = BAR_WIDTH, style: str = "cyan") -> Text:
    """A horizontal bar of `width` cells for value/maximum, drawn in eighth-block characters."""
    if maximum <= 0 or value <= 0:
        return Text("")
    eighths = round(min(value / maximum, 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    # Keep a sliver for any positive value so that small groups stay visible.
    drawn = "█" * full + (_EIGHTHS[rest] if rest else "") or "▏"
    return Text(drawn, style=style)


def format_hours(hours: float) -> str:
    """Hours with a thousands separator and one decimal (two below ten hours)."""
    return f"{hours:,.2f}" if hours < 10 else f"{hours:,.1f}"


def format_duration(seconds: int | None) -> str:
    """A compact duration: 45s, 12m 05s, 3h 07m, 2d 04h; an em dash when unknown."""
    if seconds is None:
        return "—"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _cell(value: str | None) -> Text:
    return _NONE.copy() if value is None else Text(value)


def _figures(tally: Tally) -> list[Text]:
    fields = tally.as_dict()
    savings = fields["spot_savings_percent"]
    return [
        Text(f"{tally.jobs:,}"),
        Text(format_hours(fields["instance_hours"])),
        Text(format_hours(fields["billable_instance_hours"])),
        Text("—" if savings is None else f"{savings:.1f}%"),
        Text(f"{tally.failed:,}", style="red" if tally.failed else ""),
        *([] if tally.priced is None else [Text(format_usd(tally.priced.cost_usd))]),
    ]


def format_usd(dollars: float) -> str:
    """Dollars with a thousands separator and cents: $12,345.67."""
    return f"${dollars:,.2f}"


def _summary_table(summary: Summary, rows: Sequence[Row], chart: Chart | None) -> Table:
    table = Table(title=Text(f"Training jobs by {', '.join(summary.by)}"), show_footer=True)
    for index, dimension in enumerate(summary.by):
        longest = max((len(key[index] or "(none)") for key, _ in rows), default=0)
        # Keys fold rather than crop on a narrow console; short ones are never broken.
        table.add_column(
            Text(dimension),
            footer=Text("Total" if index == 0 else ""),
            overflow="fold",
            min_width=min(longest, KEY_MIN_WIDTH),
        )
    headers: tuple[str, ...] = ("Jobs", "Inst-h", "Billable-h", "Spot %", "Failed")
    if summary.totals.priced is not None:
        headers = (*headers, "USD")
    for header, footer in zip(headers, _figures(summary.totals), strict=True):
        table.add_column(Text(header), footer=footer, justify="right", no_wrap=True)
    if chart is not None:
        table.add_column(Text(chart.title), no_wrap=True)
    for key, tally in rows:
        cells = [_cell(part) for part in key]
        bars = [] if chart is None else [bar(chart.measure(tally), chart.largest, chart.width)]
        table.add_row(*cells, *_figures(tally), *bars)
    return table


@dataclass
class Chart:
    """The bar column of the summary: what it measures and how wide it may be."""

    jobs: bool
    largest: float
    width: int
    cost: bool = False  # --sort cost: the bars are dollars, as the order is

    @property
    def title(self) -> str:
        """Column header naming the charted figure."""
        return "USD" if self.cost else "Jobs" if self.jobs else "Billable-h"

    def measure(self, tally: Tally) -> float:
        """The charted figure of one group."""
        if self.cost:
            return cost_of(tally)
        return tally.jobs if self.jobs else tally.billable_instance_seconds


def render_summary(summary: Summary, console: Console) -> None:
    """The --by view: one row per group with a bar chart (jobs per month, else billable hours)."""
    if not summary.groups:
        console.print(Text("No training jobs in the inventory."))
        return
    rows = summary.ordered()
    chart = Chart(jobs="month" in summary.by, largest=0, width=0, cost=summary.sort == "cost")
    chart.largest = max(chart.measure(tally) for _, tally in rows)
    # The bars get whatever width the figures leave free on this console, up to BAR_WIDTH.
    natural = console.measure(_summary_table(summary, rows, None)).maximum
    chart.width = min(BAR_WIDTH, console.width - natural - 3)
    fits = chart.width >= max(MIN_BAR_WIDTH, len(chart.title))
    table = _summary_table(summary, rows, chart if fits else None)
    table.caption = Text(
        "Inst-h = training seconds x instances / 3600; Billable-h likewise with billable seconds; "
        "Spot % = (1 - billable / training) x 100 over spot jobs" + _cost_caption(summary)
    )
    console.print(table)


def _cost_caption(summary: Summary) -> str:
    priced = summary.totals.priced
    if priced is None:
        return ""
    text = (
        "; USD = billable instance-hours x on-demand list price of the type in the region"
        f"; spot saved {format_usd(priced.spot_saved_usd)}"
    )
    if priced.unpriced_jobs:
        missing = ", ".join(f"{region} {kind}" for region, kind in summary.unpriced_pairs[:5])
        more = len(summary.unpriced_pairs) - 5
        text += (
            f"; {priced.unpriced_jobs:,} unpriced jobs (in jobs and hours, not USD)"
            + (f": no price for {missing}" if missing else "")
            + (f" (+{more} more)" if more > 0 else "")
        )
    return text


def _example_names(group: FailureGroup) -> Text:
    names = [job.name for job in group.ordered_jobs()]
    shown = ", ".join(names[:EXAMPLE_NAMES])
    more = len(names) - EXAMPLE_NAMES
    return Text(shown + (f" (+{more} more)" if more > 0 else ""))


def _reason(reason: str) -> Text:
    # Reasons can be multi-line tracebacks: the table shows one line, shortened (JSON has it all).
    flat = " ".join(reason.split())
    return Text(flat if len(flat) <= REASON_MAX_CHARS else flat[: REASON_MAX_CHARS - 1] + "…")


def render_failures(groups: Sequence[FailureGroup], console: Console) -> None:
    """The --failures view: one row per folded reason, newest first, with a count bar."""
    if not groups:
        console.print(Text("No failed or stopped jobs in the inventory."))
        return
    table = Table(title=Text("Failed and stopped jobs by reason (newest first)"))
    table.add_column(Text("Jobs"), justify="right", no_wrap=True)
    table.add_column(Text(""), no_wrap=True)
    table.add_column(Text("Newest"), no_wrap=True)
    table.add_column(Text("Reason (most recent)"), min_width=20, overflow="fold")
    table.add_column(Text("Jobs (newest first)"), max_width=NAMES_MAX_WIDTH)
    largest = max(len(group.jobs) for group in groups)
    for group in groups:
        newest = group.newest()
        reason = _reason(newest.reason) if newest.reason else Text("(no failure reason)", "dim")
        table.add_row(
            Text(f"{len(group.jobs):,}"),
            bar(len(group.jobs), largest, width=8, style="red"),
            _cell(None if newest.when is None else newest.when.strftime("%Y-%m-%d")),
            reason,
            _example_names(group),
        )
    console.print(table)


def _usage(job: RunningJob) -> Text:
    fraction = job.fraction_of_limit()
    if fraction is None:
        return Text("—")
    near = job.near_limit()
    text = bar(fraction, 1.0, width=USED_BAR_WIDTH, style="red" if near else "green")
    text.append(" " * (USED_BAR_WIDTH - len(text.plain)))
    text.append(f" {fraction * 100:3.0f}%", style="bold red" if near else "")
    return text


def _instances(job: RunningJob) -> Text:
    count = "" if job.instance_count is None else f" x{job.instance_count}"
    if job.instance_type is None:
        return Text(f"(groups){count}", style="dim")
    return Text(job.instance_type + count)


def render_running(jobs: Sequence[RunningJob], now: datetime, console: Console) -> None:
    """The --running view: elapsed and training time against the limits, near-limit rows in red."""
    if not jobs:
        console.print(Text("No jobs in progress."))
        return
    table = Table(title=Text(f"Jobs in progress at {format_time(now)}"))
    table.add_column(Text("Job / status"), min_width=10, overflow="fold")
    table.add_column(Text("Instances"), min_width=10, overflow="fold")
    for header in ("Elapsed", "Training", "Max run", "Used"):
        table.add_column(Text(header), no_wrap=True)
    for job in jobs:
        name = Text(job.name)
        if job.secondary_status is not None:
            name.append("\n" + job.secondary_status, style="dim")
        table.add_row(
            name,
            _instances(job),
            Text(format_duration(job.elapsed_seconds)),
            Text(format_duration(job.training_seconds)),
            Text(format_duration(job.max_runtime_in_seconds)),
            _usage(job),
            style="bold" if job.near_limit() else None,
        )
    table.caption = Text(
        f"Used = training time / max_runtime_in_seconds; red at {NEAR_LIMIT_FRACTION:.0%} or more"
    )
    console.print(table)
