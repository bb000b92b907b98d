"""Where `smi collect` records go: one sink per output format, fed one record at a time.

jsonl, json and csv are streamed (written and flushed as each record arrives, nothing kept in
memory), so `smi collect | head` shows output at once and large inventories cost no memory. The
table needs every row before it can sort newest first, so it keeps only the cells it will show and
renders a rich Table, with a caption of counts by status and billable instance-hours, on close,
fitted to the console's width by `table_fit` (columns that do not fit are dropped and named).
Sinks write to a stream they do not own: the caller opens and closes it (stdout or an atomic file).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, NoReturn, Protocol, TextIO

from sagemaker_inventory.output.columns import (
    DEFAULT_TABLE_COLUMNS,
    Column,
    columns_for,
    default_csv_columns,
    project,
    table_priority,
    table_shrink,
)
from sagemaker_inventory.output.safe_text import csv_cell
from sagemaker_inventory.records.instances import instance_seconds
from sagemaker_inventory.records.record import Record, record_json
from sagemaker_inventory.records.timestamps import parse_timestamp_or_none

if TYPE_CHECKING:
    from rich.console import Console

EMPTY_TABLE_MESSAGE = "No training jobs found."
UNBOUNDED_WIDTH = 100_000


class OutputFormat(str, Enum):
    """The `--format` choices."""

    JSONL = "jsonl"
    JSON = "json"
    CSV = "csv"
    TABLE = "table"


class Sink(Protocol):
    """Takes records one at a time; `close` finishes the output but leaves the stream open."""

    def write(self, record: Record) -> None: ...

    def close(self) -> None: ...


class JsonLinesSink:
    """One compact JSON object per line, flushed per line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, record: Record) -> None:
        self._stream.write(record_json(record) + "\n")
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class JsonArraySink:
    """A JSON array written as records arrive: `[{...},` then `{...}]`, one record per line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._count = 0
        self._closed = False

    def write(self, record: Record) -> None:
        self._stream.write(("[" if self._count == 0 else ",\n") + record_json(record))
        self._stream.flush()
        self._count += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stream.write("[]\n" if self._count == 0 else "]\n")
        self._stream.flush()


class ProjectingSink:
    """Hands another sink each record cut down to the --columns paths (`columns.project`): how
    --columns applies to jsonl and json."""

    def __init__(self, sink: Sink, keys: Sequence[str]) -> None:
        self._sink = sink
        self._keys = tuple(keys)

    def write(self, record: Record) -> None:
        self._sink.write(project(record, self._keys))

    def close(self) -> None:
        self._sink.close()


class CsvSink:
    """A header row, then one row per record (csv module quoting, CRLF line ends per RFC 4180)."""

    def __init__(self, stream: TextIO, columns: Sequence[Column], *, raw: bool = False) -> None:
        self._stream = stream
        self._columns = tuple(columns)
        # Formulas neutralised (safe_text.csv_cell) unless --csv-raw.
        self._cell = (lambda text: text) if raw else csv_cell
        self._writer = csv.writer(stream)
        self._header_written = False

    def write(self, record: Record) -> None:
        self._write_header()
        self._writer.writerow([self._cell(column.csv_cell(record)) for column in self._columns])
        self._stream.flush()

    def close(self) -> None:
        # Zero records still give a well-formed file: the header alone.
        self._write_header()
        self._stream.flush()

    def _write_header(self) -> None:
        if not self._header_written:
            self._writer.writerow([column.key for column in self._columns])
            self._header_written = True


@dataclass(frozen=True)
class _TableRow:
    created: datetime | None
    status: str
    billable_instance_seconds: int
    cells: tuple[str, ...]


class TableSink:
    """A rich Table, newest job first, with counts by status and billable instance-hours."""

    def __init__(
        self, console: Console, columns: Sequence[Column], *, title: str | None = None
    ) -> None:
        self._console = console
        self._columns = tuple(columns)
        self._title = title
        self._rows: list[_TableRow] = []
        self._closed = False

    def write(self, record: Record) -> None:
        status = record.get("training_job_status")
        self._rows.append(
            _TableRow(
                created=parse_timestamp_or_none(record.get("creation_time")),
                status=status if isinstance(status, str) else "unknown",
                billable_instance_seconds=(
                    instance_seconds(record, "billable_time_in_seconds") or 0
                ),
                cells=tuple(column.table_cell(record) for column in self._columns),
            )
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # rich and the table fitting load only here: the other formats never need them.
        from rich.text import Text

        from sagemaker_inventory.output.table_fit import (
            FitColumn,
            build_table,
            cell,
            fit_columns,
            natural_widths,
        )

        if not self._rows:
            if self._title:
                self._console.print(cell(self._title))
            self._console.print(Text(EMPTY_TABLE_MESSAGE))
            return
        # Every cell through table_fit.cell: rich would parse "[bt]" or "[/red]" in a
        # failure_reason as markup, and a terminal would run its escape sequences.
        rows = [[cell(text) for text in row.cells] for row in _sort_newest_first(self._rows)]
        columns = [
            FitColumn(column.header, table_priority(column.key, position), table_shrink(column.key))
            for position, column in enumerate(self._columns)
        ]
        width = self._console.width
        fit = fit_columns(columns, natural_widths(columns, rows), width)
        self._console.print(
            build_table(
                fit,
                rows,
                title=cell(self._title) if self._title else None,
                caption=cell(_summarize(self._rows)),
                caption_justify="left",
            )
        )
        note = fit.note(width)
        if note is not None:
            self._console.print(note)


def _sort_newest_first(rows: Sequence[_TableRow]) -> list[_TableRow]:
    """Newest creation time first; rows without a usable creation time last, in arrival order."""
    dated = [row for row in rows if row.created is not None]
    undated = [row for row in rows if row.created is None]
    # Parsed instants, not text: "12:00:00.500Z" sorts before "12:00:00Z" as a string.
    dated.sort(key=lambda row: row.created or datetime.min, reverse=True)
    return dated + undated


def _summarize(rows: Sequence[_TableRow]) -> str:
    """E.g. "37 jobs · Completed 30 · Failed 5 · InProgress 2 · 12.34 billable instance-hours"."""
    statuses = Counter(row.status for row in rows)
    by_count = sorted(statuses.items(), key=lambda item: (-item[1], item[0]))
    hours = sum(row.billable_instance_seconds for row in rows) / 3600
    jobs = f"{len(rows)} job" + ("" if len(rows) == 1 else "s")
    parts = [jobs, *(f"{status} {count}" for status, count in by_count)]
    parts.append(f"{hours:,.2f} billable instance-hours")
    return " · ".join(parts)


def make_sink(
    fmt: OutputFormat,
    stream: TextIO,
    *,
    columns: Sequence[str] | None = None,
    console: Console | None = None,
    title: str | None = None,
    all_fields: bool = False,
    csv_raw: bool = False,
) -> Sink:
    """The sink for `fmt`. `columns` (keys, already validated) pick the csv and table columns and
    project each jsonl and json record to those paths (`columns.project`); `all_fields` (records
    carry undocumented members too) applies to the default csv columns; `title` to
    the table only; `csv_raw` writes CSV cells without neutralising formulas. The table renders
    to `console`, else to `stream` (unwrapped when `stream` is not a terminal).
    """
    if fmt is OutputFormat.JSONL or fmt is OutputFormat.JSON:
        sink: Sink = JsonLinesSink(stream) if fmt is OutputFormat.JSONL else JsonArraySink(stream)
        return sink if columns is None else ProjectingSink(sink, columns)
    if fmt is OutputFormat.CSV:
        keys = default_csv_columns(all_fields=all_fields) if columns is None else columns
        return CsvSink(stream, columns_for(keys), raw=csv_raw)
    if fmt is OutputFormat.TABLE:
        chosen = DEFAULT_TABLE_COLUMNS if columns is None else columns_for(columns)
        return TableSink(console or _stream_console(stream), chosen, title=title)
    _unknown_format(fmt)


def _stream_console(stream: TextIO) -> Console:
    # Off a terminal rich assumes 80 columns and squeezes a wide table into unreadable wrapped
    # cells; a file has no width, so the table takes the width its cells need, unless COLUMNS
    # says how wide the reader is (`COLUMNS=100 smi collect -f table | less`).
    from sagemaker_inventory.output.console import OutputConsole

    if stream.isatty():
        return OutputConsole(file=stream)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else UNBOUNDED_WIDTH
    return OutputConsole(file=stream, width=width)


def _unknown_format(fmt: NoReturn) -> NoReturn:
    # mypy proves this unreachable; a new OutputFormat member without a branch fails type checking.
    raise AssertionError(f"no sink for output format {fmt!r}")
