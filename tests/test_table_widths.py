"""Tables fit the terminal: at 60-200 columns no line is wider than the console, a 63-character
job name is whole (on one line from 80 columns), a multi-line failure reason is one cut line,
and columns that do not fit are dropped by priority and named."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console
from sink_records import COMPLETED, FAILED, RECORDS, RUNNING

from sagemaker_inventory.cli import cli
from sagemaker_inventory.output.sinks import OutputFormat, make_sink
from sagemaker_inventory.output.table_fit import FitColumn, fit_columns
from sagemaker_inventory.report.aggregate import summarise
from sagemaker_inventory.report.jobs import collect_failures, collect_running
from sagemaker_inventory.report.view import render_failures, render_running, render_summary

WIDTHS = (60, 80, 100, 120, 200)
LONG_NAME = "smi-" + "very-long-training-job-name-" * 2 + "x" * 3  # 63 characters
REASON = (
    'AlgorithmError: ExecuteUserScriptError:\nExitCode 1\nErrorMessage "Traceback (most recent '
    "call last):\n  File \"train.py\", line 12\n    raise ValueError('bad [bt] input')\n"
    + "ValueError: bad input\n"
    * 20
)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


def long_records() -> list[dict[str, Any]]:
    assert len(LONG_NAME) == 63
    failed = dict(
        FAILED,
        training_job_name=LONG_NAME,
        training_job_arn=f"arn:aws:sagemaker:us-east-1:210987654321:training-job/{LONG_NAME}",
        failure_reason=REASON,
        tags=["team:" + "platform-" * 6],
    )
    running = dict(
        RUNNING, training_job_name=LONG_NAME, stopping_condition={"max_runtime_in_seconds": 86400}
    )
    return [
        COMPLETED,
        failed,
        running,
        dict(COMPLETED, training_job_status="Stopped", failure_reason=REASON),
    ]


def render(function: Any, *args: Any, width: int) -> str:
    buffer = io.StringIO()
    function(*args, Console(file=buffer, width=width, color_system=None))
    return buffer.getvalue()


def collect_table(width: int, columns: list[str] | None = None) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    sink = make_sink(
        OutputFormat.TABLE,
        io.StringIO(),
        columns=columns,
        console=console,
        title="DEMO DATA: synthetic training jobs served by an in-process AWS mock "
        "(moto), account 123456789012, regions us-east-1, eu-west-1.",
    )
    for record in [*RECORDS, *long_records()]:
        sink.write(record)
    sink.close()
    stream = console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def name_column(text: str) -> str:
    """The first column's text, its lines joined (a folded name comes back whole)."""
    pieces = [line.split("│")[1].strip() for line in text.splitlines() if line.count("│") > 1]
    return "".join(pieces)


def assert_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert wide == [], f"lines wider than {width}: {wide}"


def views(width: int) -> dict[str, str]:
    records = long_records()
    return {
        "collect": collect_table(width),
        "collect --columns": collect_table(
            width, ["training_job_name", "failure_reason", "tags", "role_arn"]
        ),
        "by status": render(render_summary, summarise(records, ["status"]), width=width),
        "by tag, month": render(
            render_summary, summarise(records, ["tag:team", "month"]), width=width
        ),
        "failures": render(render_failures, collect_failures(records), width=width),
        "running": render(render_running, collect_running(records, NOW), NOW, width=width),
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_every_table_fits_and_keeps_the_whole_job_name(width: int) -> None:
    # Regression: at 80 columns every cell was cut ("smi-…  Fail…") and a multi-line
    # failure_reason wrapped over 20 lines.
    for view, text in views(width).items():
        assert_fits(text, width)
        if view in ("collect", "collect --columns", "running"):
            assert LONG_NAME in (text if width >= 80 else name_column(text)), view
        assert "ValueError: bad input\n" not in text
        assert "ExitCode 1\n" not in text


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_from_80_columns_the_name_is_on_one_line(width: int) -> None:
    assert LONG_NAME in collect_table(width)
    assert LONG_NAME in render(
        render_running, collect_running(long_records(), NOW), NOW, width=width
    )


def test_a_long_reason_is_one_line_with_an_ellipsis() -> None:
    text = collect_table(200, ["training_job_name", "failure_reason"])
    row = next(line for line in text.splitlines() if LONG_NAME in line)
    assert "AlgorithmError: ExecuteUserScriptError: ExitCode 1 ErrorMessage" in row
    assert row.rstrip().endswith("… │")
    assert "raise ValueError('bad [bt] input')" in text or "…" in row


def test_columns_are_dropped_in_priority_order_and_named() -> None:
    wide = collect_table(400)
    assert "Not shown" not in wide
    narrow = collect_table(100)
    note = next(line for line in narrow.splitlines() if line.startswith("Not shown"))
    # Kept: name, status, created ...; the secondary status and spot flag go first.
    assert "secondary status" in note and "spot" in note
    assert "status," not in note.replace("secondary status", "")
    header = next(line for line in narrow.splitlines() if "name" in line and "status" in line)
    assert "secondary" not in header
    at_80 = collect_table(80)
    assert "created" in next(x for x in at_80.splitlines() if x.startswith("Not shown"))


def test_fit_drops_highest_priority_number_first_and_cuts_only_free_text() -> None:
    columns = [
        FitColumn("name", 0),
        FitColumn("reason", 3, shrink=10),
        FitColumn("status", 1),
        FitColumn("region", 2),
    ]
    # Borders: 3 per column + 1.
    fit = fit_columns(columns, [20, 50, 10, 9], width=20 + 10 + 10 + 9 + 13)
    assert fit.dropped == ()
    assert fit.widths == (20, 10, 10, 9)
    fit = fit_columns(columns, [20, 50, 10, 9], width=50)
    assert fit.dropped == ("reason",)
    assert fit.widths == (20, 10, 9)
    fit = fit_columns(columns, [20, 50, 10, 9], width=30)
    assert fit.dropped == ("reason", "status", "region")
    assert fit.widths == (20,)
    fit = fit_columns(columns, [40, 50, 10, 9], width=30)
    assert fit.widths == (26,)  # the name alone is too wide: it folds


def test_columns_env_is_honoured_off_a_terminal() -> None:
    records = "".join(__import__("json").dumps(r) + "\n" for r in long_records())
    result = CliRunner().invoke(
        cli,
        ["report", "-", "--failures", "--format", "table"],
        input=records,
        env={"COLUMNS": "90"},
    )
    assert result.exit_code == 0, result.stderr
    assert_fits(result.stdout, 90)
    assert max(cell_len(line) for line in result.stdout.splitlines()) > 60


def test_collect_table_off_a_terminal_follows_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    stream = io.StringIO()
    sink = make_sink(OutputFormat.TABLE, stream)
    for record in long_records():
        sink.write(record)
    sink.close()
    assert_fits(stream.getvalue(), 100)
    assert LONG_NAME in stream.getvalue()
    monkeypatch.delenv("COLUMNS", raising=False)
    stream = io.StringIO()
    sink = make_sink(OutputFormat.TABLE, stream)
    sink.write(long_records()[1])
    sink.close()
    assert "Not shown" not in stream.getvalue()  # no width known: every column, uncut
