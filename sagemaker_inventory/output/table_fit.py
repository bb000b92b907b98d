"""Fitting rich tables to a terminal: one-line cells, and columns dropped in a fixed priority.

rich squeezes a table that is too wide by wrapping every cell, which turns an inventory into
unreadable slivers (`smi-…  Fail…`). Here each table declares its columns with a priority: the
columns that do not fit at their narrowest are dropped (lowest priority first) and named in one
note line; the rest get their natural width, and only long free text (a failure reason, a list)
is shortened, on one line, with an ellipsis. Identifiers are never cut, except the pinned column
(the job name), which folds over lines only when even it alone cannot fit.

`cell` is the one constructor of table cells from user text (every table and chart of
`smi collect`, `smi report` and the run summary): one line, control characters shown as visible
escapes (`safe_text.printable`), never parsed as rich markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

from sagemaker_inventory.output.safe_text import printable

if TYPE_CHECKING:
    from rich.console import Console

# Columns with this priority are never dropped; higher numbers are dropped first.
PINNED = 0
# What rich's default table box adds: a border before each column, one after the last, and one
# space of padding on either side of every cell.
BORDER_PER_COLUMN = 3
BORDER_FIXED = 1


def cell(value: str, style: str = "") -> Text:
    """A table cell from user text: rich Text (so `[bt]` is not markup), on one line, with the
    control characters that are not whitespace shown as escapes (`\\x1b`), so a job's text
    cannot drive the terminal."""
    return Text(printable(one_line(value)), style=style)


def one_line(value: str) -> str:
    """Whitespace runs (newlines and tabs included) as single spaces."""
    if value.isprintable():
        return value
    return " ".join(value.split())


@dataclass(frozen=True)
class FitColumn:
    """One column of a fitted table.

    priority: PINNED (never dropped) or the drop order, higher numbers first.
    shrink: the narrowest width the column may be cut to (with an ellipsis); None: never cut.
    limit: the widest it gets even when there is room (long free text); None: its content.
    """

    header: str
    priority: int
    shrink: int | None = None
    limit: int | None = None
    justify: Any = "left"
    footer: Text | None = None
    style: str = ""
    name: str = ""  # how the note names the column when its header is empty (a chart)

    @property
    def cuts(self) -> bool:
        """Whether its cells are cut with an ellipsis (else a pinned column folds, if need be)."""
        return self.shrink is not None or self.priority != PINNED

    def narrowest(self, natural: int) -> int:
        """The least width it gets: its natural width, or its shrink (the header stays whole)."""
        if self.shrink is None:
            return natural
        return min(natural, max(self.shrink, cell(self.header).cell_len))


@dataclass(frozen=True)
class Fit:
    """The columns kept (their indexes and widths) and the headers of the dropped ones."""

    columns: tuple[FitColumn, ...]
    kept: tuple[int, ...]
    widths: tuple[int, ...]
    dropped: tuple[str, ...]

    def width_of(self, index: int) -> int | None:
        """The width given to column `index`; None when it was dropped."""
        return self.widths[self.kept.index(index)] if index in self.kept else None

    def note(self, width: int) -> Text | None:
        """The dropped columns named (None when none were), over as many lines of at most
        `width` cells as it takes: a name is never cut, only one longer than a line alone."""
        if not self.dropped:
            return None
        # Headers can be user text (a --by tag:KEY): printable, on one line.
        names = [printable(one_line(name)) for name in self.dropped]
        return Text("\n".join(wrap_list(f"Not shown at {width} columns: ", names, width)), "dim")


def wrap_list(head: str, items: Sequence[str], width: int) -> list[str]:
    """`head` then the items, comma-separated, broken into lines of at most `width` cells after
    a comma (continuation lines indented by two); an item wider than a line alone is cut."""
    lines, line = [], head
    for index, item in enumerate(items):
        text = item + ("," if index + 1 < len(items) else "")
        if line.strip() and cell_len(line) + cell_len(text) > width and line != head:
            lines.append(line.rstrip())
            line = "  "
        line += text + " "
    lines.append(line.rstrip())
    return [text if cell_len(text) <= width else text[: max(width - 1, 0)] + "…" for text in lines]


def natural_widths(columns: Sequence[FitColumn], rows: Sequence[Sequence[Text]]) -> list[int]:
    """Each column's widest cell (header and footer included), capped at its limit."""
    widths = []
    for index, column in enumerate(columns):
        widest = max(
            [cell(column.header).cell_len, column.footer.cell_len if column.footer else 0]
            + [row[index].cell_len for row in rows]
        )
        widths.append(min(widest, column.limit) if column.limit else widest)
    return widths


def fit_columns(columns: Sequence[FitColumn], naturals: Sequence[int], width: int) -> Fit:
    """Which columns fit in `width` terminal cells, and how wide each is."""
    narrowest = [
        column.narrowest(natural) for column, natural in zip(columns, naturals, strict=True)
    ]
    kept = list(range(len(columns)))
    droppable = sorted(
        (i for i in kept if columns[i].priority != PINNED),
        key=lambda i: (-columns[i].priority, -i),
    )
    while droppable and _table_width([narrowest[i] for i in kept]) > width:
        kept.remove(droppable.pop(0))
    widths = {i: narrowest[i] for i in kept}
    spare = width - _table_width(list(widths.values()))
    # Room left goes to the shortened columns, most important first, up to their natural width.
    for i in sorted(kept, key=lambda i: (columns[i].priority, i)):
        grow = min(max(spare, 0), naturals[i] - widths[i])
        widths[i] += grow
        spare -= grow
    if spare < 0:  # the pinned columns alone are too wide: fold the widest of them
        widest = max(kept, key=lambda i: widths[i])
        widths[widest] = max(widths[widest] + spare, 1)
    dropped = tuple(
        columns[i].header or columns[i].name for i in range(len(columns)) if i not in kept
    )
    return Fit(tuple(columns), tuple(kept), tuple(widths[i] for i in kept), dropped)


def _table_width(widths: Sequence[int]) -> int:
    return sum(widths) + BORDER_PER_COLUMN * len(widths) + BORDER_FIXED


def build_table(fit: Fit, rows: Sequence[Sequence[Text]], **options: Any) -> Table:
    """A rich Table of the kept columns at their widths (other Table options passed on)."""
    footers = any(fit.columns[i].footer is not None for i in fit.kept)
    table = Table(show_footer=footers, **options)
    for index, width in zip(fit.kept, fit.widths, strict=True):
        column = fit.columns[index]
        table.add_column(
            cell(column.header),
            footer=column.footer or Text(""),
            justify=column.justify,
            width=width,
            no_wrap=column.cuts,
            overflow="ellipsis" if column.cuts else "fold",
            style=column.style,
        )
    for row in rows:
        table.add_row(*(row[i] for i in fit.kept))
    return table


def print_fitted(
    console: Console, columns: Sequence[FitColumn], rows: Sequence[Sequence[Text]], **options: Any
) -> None:
    """Fit the columns to the console's width, print the table (Table options passed on), then
    the note naming the columns dropped to fit."""
    fit = fit_columns(columns, natural_widths(columns, rows), console.width)
    console.print(build_table(fit, rows, **options))
    note = fit.note(console.width)
    if note is not None:
        console.print(note)
