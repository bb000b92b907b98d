"""Issue 12.6: job text a container controls (FailureReason, names) cannot drive the terminal
through any table, and CSV cells cannot run as spreadsheet formulas unless --csv-raw."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console
from sink_records import COMPLETED

from sagemaker_inventory.aws.errors import FailureReason
from sagemaker_inventory.cli import cli
from sagemaker_inventory.collect.outcome import RunSummary, ScopeResult
from sagemaker_inventory.collect.run_summary import render_run_summary
from sagemaker_inventory.output.safe_text import csv_cell, printable
from sagemaker_inventory.output.sinks import OutputFormat, make_sink
from sagemaker_inventory.output.table_fit import cell

# Window title, colour, clear screen (C1 CSI), bell, and a right-to-left override.
HOSTILE = "oops\x1b]0;pwned\x07 \x1b[31mred\x1b[0m \x9b2J \u202eevil"


def hostile_record(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(COMPLETED)
    record.update(
        training_job_name="job\x1b[2Jname", training_job_status="Failed", failure_reason=HOSTILE
    )
    record.update(changes)
    return record


def test_printable_shows_control_characters_as_escapes() -> None:
    assert printable(HOSTILE) == ("oops\\x1b]0;pwned\\x07 \\x1b[31mred\\x1b[0m \\x9b2J \\u202eevil")
    assert printable("plain ünïcode [bt]") == "plain ünïcode [bt]"


def test_table_cell_is_one_line_and_neutralised() -> None:
    """The one cell function: whitespace runs as one space, other control characters escaped."""
    assert cell("a\n\tb\x1b[2J [bt]\u202e").plain == "a b\\x1b[2J [bt]\\u202e"
    assert cell("plain").plain == "plain"


def test_collect_table_neutralises_escape_sequences() -> None:
    """Regression: a FailureReason's escape sequences reached the terminal through the table."""
    out = io.StringIO()
    sink = make_sink(
        OutputFormat.TABLE,
        out,
        columns=["training_job_name", "failure_reason"],
        console=Console(file=out, width=400, force_terminal=True),
    )
    sink.write(hostile_record())
    sink.close()
    text = out.getvalue()
    assert "\\x1b[2J" in text
    # rich's own styling uses ESC on a terminal; the job's text must not add any of its own.
    assert "\x1b]0;" not in text and "\x07" not in text and "\x9b" not in text
    assert "\x1b[2J" not in text and "\u202e" not in text


def test_report_tables_neutralise_escape_sequences(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.jsonl"
    running = hostile_record(
        training_job_status="InProgress", secondary_status="Training\x1b]0;x\x07"
    )
    running["training_job_name"] = "run\x1b]0;t\x07"
    inventory.write_text(json.dumps(hostile_record()) + "\n" + json.dumps(running) + "\n")
    for view in (["--failures"], ["--running"], ["--by", "status"], ["--checks"]):
        result = CliRunner().invoke(
            cli, ["report", str(inventory), "--format", "table", *view], catch_exceptions=False
        )
        assert result.exit_code == 0
        for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert raw not in result.stdout, view


def test_run_summary_neutralises_error_messages() -> None:
    now = datetime.now(timezone.utc)
    scope = ScopeResult("123456789012", "us-east-1", status="failed")
    scope.error = FailureReason("Boom", "bad\x1b]0;title\x07")
    out = io.StringIO()
    render_run_summary(RunSummary(now, now, [scope]), Console(file=out, width=200))
    assert "\x1b]0;" not in out.getvalue() and "bad\\x1b]0;title\\x07" in out.getvalue()


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12", "-12"),  # a number stays a number
        ("-1.5e3", "-1.5e3"),
        ("+0.25", "+0.25"),
        ("ml.p3.2xlarge", "ml.p3.2xlarge"),
    ],
)
def test_csv_cell_neutralises_formulas_but_not_numbers(cell: str, safe: str) -> None:
    assert csv_cell(cell) == safe


def _csv_rows(*extra: str) -> list[list[str]]:
    out = io.StringIO()
    sink = make_sink(
        OutputFormat.CSV,
        out,
        columns=["training_job_name", "failure_reason"],
        csv_raw="--csv-raw" in extra,
    )
    sink.write(hostile_record(training_job_name="=1+1", failure_reason="@evil"))
    sink.close()
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_csv_sink_neutralises_formula_cells_and_csv_raw_keeps_them() -> None:
    """Regression: CSV cells starting with = + - @ reached a spreadsheet as formulas."""
    assert _csv_rows()[1] == ["'=1+1", "'@evil"]
    assert _csv_rows("--csv-raw")[1] == ["=1+1", "@evil"]


def test_csv_raw_is_a_collect_option() -> None:
    result = CliRunner().invoke(cli, ["collect", "--help"])
    assert "--csv-raw" in result.stdout
