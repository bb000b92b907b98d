"""Rich rendering of `smi report`: tables with inline bar charts for the summary, failures, running.

Every cell is a `rich.text.Text` made by `table_fit.cell`, because job names and failure reasons
are user data that may contain `[...]`, which rich would otherwise parse as markup. Tables are
fitted to the console's width by `table_fit` (columns dropped by priority and named below the
table, free text cut on one line). The caller passes the Console in (the CLI makes one on stdout,
tests one on a StringIO). Numbers come from the aggregates JSON uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from sagemaker_inventory.output.durations import format_compact_duration
from sagemaker_inventory.output.table_fit import (
    PINNED,
    Fit,
    FitColumn,
    build_table,
    cell,
    fit_columns,
    natural_widths,
    one_line,
)
from sagemaker_inventory.records.timestamps import format_timestamp
from sagemaker_inventory.report.aggregate import (
    GroupedTallies,
    Tally,
    cost_of,
)
from sagemaker_inventory.report.jobs import NEAR_LIMIT_FRACTION, FailureGroup, RunningJob

BAR_WIDTH = 30
MIN_BAR_WIDTH = 6
_EIGHTHS = " ▏▎▍▌▋▊▉"
_NONE = Text("(none)", style="dim")
EXAMPLE_NAMES = 3
KEY_MIN_WIDTH = 16
NAMES_MIN_WIDTH = 12
REASON_MIN_WIDTH = 10
REASON_MAX_WIDTH = 100  # room beyond it goes to the other jobs' names
INSTANCES_MIN_WIDTH = 10
REASON_MAX_CHARS = 300
USED_BAR_WIDTH = 5


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


def _duration_cell(seconds: int | None) -> Text:
    """durations.format_compact_duration ("3h 07m"); an em dash when unknown."""
    return Text("—" if seconds is None else format_compact_duration(seconds))


def _cell(value: str | None) -> Text:
    return _NONE.copy() if value is None else cell(value)


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


def format_usd(dollars: float | None) -> str:
    """Dollars with a thousands separator and cents: $12,345.67; an em dash when nothing was
    priced (not $0.00)."""
    return "—" if dollars is None else f"${dollars:,.2f}"


# The figures' headers and drop order (higher first) when the console is narrow.
_FIGURES = (("Jobs", 2), ("Inst-h", 4), ("Billable-h", 1), ("Spot %", 5), ("Failed", 3))
_USD_PRIORITY = 1  # with --cost, dollars are kept as long as billable hours
_CHART_PRIORITY = 6
CHART_TITLE = "Billable-h bar"
COST_CHART_TITLE = "USD bar"


def _fit(console: Console, columns: Sequence[FitColumn], rows: Sequence[list[Text]]) -> Fit:
    return fit_columns(columns, natural_widths(columns, rows), console.width)


def _print_fitted(console: Console, fit: Fit, rows: Sequence[list[Text]], **options: Any) -> None:
    """Print the fitted table, then the note naming the columns dropped to fit."""
    console.print(build_table(fit, rows, **options))
    note = fit.note(console.width)
    if note is not None:
        console.print(note)


def render_summary(summary: GroupedTallies, console: Console) -> None:
    """The --by view: one row per group, in the order of the JSON, with a bar chart of the measure
    groups are ranked by: billable instance-hours, or dollars with --sort cost."""
    if not summary.groups:
        console.print(Text("No training jobs in the inventory."))
        return
    rows = summary.ordered()
    columns = [
        FitColumn(
            dimension, PINNED, shrink=KEY_MIN_WIDTH, footer=Text("Total" if index == 0 else "")
        )
        for index, dimension in enumerate(summary.by)
    ]
    figures = [*_FIGURES, *([("USD", _USD_PRIORITY)] if summary.totals.priced else [])]
    columns += [
        FitColumn(header, priority, justify="right", footer=footer)
        for (header, priority), footer in zip(figures, _figures(summary.totals), strict=True)
    ]
    by_cost = summary.sort == "cost"
    chart_title = COST_CHART_TITLE if by_cost else CHART_TITLE
    columns.append(FitColumn(chart_title, _CHART_PRIORITY, shrink=MIN_BAR_WIDTH))
    cells = [[*(_cell(part) for part in key), *_figures(tally), Text("")] for key, tally in rows]
    naturals = natural_widths(columns, cells)
    naturals[-1] = BAR_WIDTH
    fit = fit_columns(columns, naturals, console.width)
    chart_width = fit.width_of(len(columns) - 1)
    if chart_width is not None:
        measure = [cost_of(t) if by_cost else t.billable_instance_seconds for _, t in rows]
        largest = max(measure)
        for row, value in zip(cells, measure, strict=True):
            row[-1] = bar(value, largest, chart_width)
    caption = Text(
        "Inst-h = training seconds x instances / 3600; Billable-h likewise with billable seconds; "
        "Spot % = (1 - billable / training) x 100 over spot jobs" + _cost_caption(summary)
    )
    title = cell(f"Training jobs by {', '.join(summary.by)}")
    _print_fitted(console, fit, cells, title=title, caption=caption)


def _cost_caption(summary: GroupedTallies) -> str:
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


def _first_few(items: Sequence[str]) -> str:
    shown = ", ".join(items[:EXAMPLE_NAMES])
    more = len(items) - EXAMPLE_NAMES
    return shown + (f" (+{more} more)" if more > 0 else "")


def _where(account_id: str | None, region: str | None) -> str:
    return f"{account_id or '?'} {region or '?'}"


def _places(group: FailureGroup) -> Text:
    # The newest job's account and region, and how many other places the group's jobs are in.
    places = list(dict.fromkeys(_where(j.account_id, j.region) for j in group.ordered_jobs()))
    return cell(places[0] + (f" +{len(places) - 1}" if len(places) > 1 else ""))


def _reason(reason: str) -> Text:
    # Reasons can be multi-line tracebacks: the table shows one line, shortened (JSON has it all).
    flat = one_line(reason)
    return cell(flat if len(flat) <= REASON_MAX_CHARS else flat[: REASON_MAX_CHARS - 1] + "…")


def render_failures(groups: Sequence[FailureGroup], console: Console) -> None:
    """The --failures view: one row per folded reason, newest first, with a count bar. The
    newest job's name comes before the reason and is never cut; the other names are shown whole
    or counted ("+2 more")."""
    if not groups:
        console.print(Text("No failed or stopped jobs in the inventory."))
        return
    columns = [
        FitColumn("Jobs", 2, justify="right"),
        FitColumn("", 7, name="bar chart"),
        FitColumn("Newest", 3),
        FitColumn("Job (newest)", PINNED),
        FitColumn("Reason", 1, shrink=REASON_MIN_WIDTH, limit=REASON_MAX_WIDTH),
        FitColumn("Where", 4),
        FitColumn("Other jobs", 5, shrink=NAMES_MIN_WIDTH),
    ]
    largest = max(len(group.jobs) for group in groups)
    rows, others = [], []
    for group in groups:
        newest = group.newest()
        reason = _reason(newest.reason) if newest.reason else Text("(no failure reason)", "dim")
        names = [job.name for job in group.ordered_jobs()]
        others.append(names[1:])
        rows.append(
            [
                Text(f"{len(group.jobs):,}"),
                bar(len(group.jobs), largest, width=8, style="red"),
                _cell(None if newest.when is None else newest.when.strftime("%Y-%m-%d")),
                cell(names[0]),
                reason,
                _places(group),
                cell(_first_few(names[1:]) if names[1:] else "—"),
            ]
        )
    fit = _fit(console, columns, rows)
    width = fit.width_of(len(columns) - 1)
    if width is not None:
        for row, names in zip(rows, others, strict=True):
            row[-1] = cell(whole_names(names, width) if names else "—")
    title = Text("Failed and stopped jobs by reason (newest first)")
    _print_fitted(console, fit, rows, title=title)


def whole_names(names: Sequence[str], width: int) -> str:
    """As many names as fit in `width` cells, each whole, then how many more ("+2 more")."""
    for shown in range(min(len(names), EXAMPLE_NAMES), -1, -1):
        more = len(names) - shown
        text = ", ".join(names[:shown])
        if more:
            text += f" (+{more} more)" if shown else f"+{more} more"
        if cell(text).cell_len <= width:
            return text
    return f"+{len(names)}"


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
    return cell(job.instance_type + count)


def render_running(jobs: Sequence[RunningJob], now: datetime, console: Console) -> None:
    """The --running view: elapsed and training time against the limits, near-limit rows bold."""
    if not jobs:
        console.print(Text("No jobs in progress."))
        return
    columns = [
        FitColumn("Job", PINNED),
        FitColumn("Account", 4),
        FitColumn("Region", 3),
        FitColumn("Status", 7),
        FitColumn("Instances", 5, shrink=INSTANCES_MIN_WIDTH),
        FitColumn("Elapsed", 6),
        FitColumn("Training", 2),
        FitColumn("Max run", 8),
        FitColumn("Used", 1),
    ]
    rows = []
    for job in jobs:
        style = "bold" if job.near_limit() else ""
        row = [
            _cell(job.name),
            _cell(job.account_id),
            _cell(job.region),
            _cell(job.secondary_status),
            _instances(job),
            _duration_cell(job.elapsed_seconds),
            _duration_cell(job.training_seconds),
            _duration_cell(job.max_runtime_in_seconds),
            _usage(job),
        ]
        for text in row:
            text.stylize(style)
        rows.append(row)
    caption = Text(
        f"Used = training time / max_runtime_in_seconds; red at {NEAR_LIMIT_FRACTION:.0%} or more"
    )
    title = Text(f"Jobs in progress at {format_timestamp(now)}")
    _print_fitted(console, _fit(console, columns, rows), rows, title=title, caption=caption)
