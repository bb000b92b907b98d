"""Issue 21, item 3: every table fits 80 columns, checked from outside (`smi report` and
`smi schema` through click, COLUMNS giving the width; the collect table on a rich Console of that
width): `report --checks` (also with --by), `--failures`, `--running`, `schema --drift` and the
collect table's "Not shown" note. One line per cell, 63-character job names whole, columns
dropped in their documented order; --failures shows the job name before the reason."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console
from sink_records import COMPLETED, FAILED, RECORDS, RUNNING

from sagemaker_inventory.cli import cli
from sagemaker_inventory.output.sinks import OutputFormat, make_sink

WIDTHS = (80, 120)
NAMES = [f"smi-{kind}-" + "x" * (53 - len(kind)) + "-0001" for kind in ("f", "r", "c")]
NOW = "2026-03-01T18:00:00Z"


def records() -> list[dict[str, Any]]:
    assert all(len(name) == 63 for name in NAMES)
    failed, running, completed = (
        dict(
            r,
            training_job_name=n,
            training_job_arn=r["training_job_arn"].rsplit("/", 1)[0] + "/" + n,
        )
        for r, n in zip((FAILED, RUNNING, COMPLETED), NAMES, strict=True)
    )
    running["stopping_condition"] = {"max_runtime_in_seconds": 86400}
    # The newest failure of its reason, so that its name is the one the row shows.
    failed.update(creation_time="2026-03-03T00:00:00Z", training_end_time="2026-03-03T01:00:00Z")
    return [*RECORDS, failed, running, completed]


@pytest.fixture(scope="module")
def inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tables") / "inventory.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records()))
    return path


def smi(width: int, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def assert_fits(text: str, width: int) -> None:
    wide = [line for line in text.splitlines() if cell_len(line) > width]
    assert wide == [], f"lines wider than {width}: {wide}"


VIEWS = {
    "checks": ["--checks"],
    "checks --by": ["--checks", "--by", "account_id", "--by", "region"],
    "failures": ["--failures"],
    "running": ["--running", "--now", NOW],
    "by status": ["--by", "status"],
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_report_tables_fit_and_keep_job_names_whole(inventory: Path, view: str, width: int) -> None:
    text = smi(width, "report", str(inventory), "-f", "table", *VIEWS[view])
    assert_fits(text, width)
    shown = {"checks": NAMES, "checks --by": NAMES, "failures": NAMES[:1], "running": NAMES[1:2]}
    for name in shown.get(view, []):
        assert name in text, (view, name)


@pytest.mark.parametrize("width", WIDTHS)
def test_failures_show_the_job_name_before_the_reason(inventory: Path, width: int) -> None:
    text = smi(width, "report", str(inventory), "-f", "table", "--failures")
    header = next(line for line in text.splitlines() if "Job (newest)" in line)
    assert header.index("Job (newest)") < header.index("Reason")
    row = next(line for line in text.splitlines() if NAMES[0] in line)
    assert row.index(NAMES[0]) < row.index("Algorithm")


@pytest.mark.parametrize("width", WIDTHS)
def test_schema_drift_table_fits(width: int) -> None:
    text = smi(width, "schema", "--drift", "-f", "table")
    assert_fits(text, width)
    assert "billable_token_count" in text


def test_drift_drops_the_api_member_first() -> None:
    text = smi(80, "schema", "--drift", "-f", "table")
    assert "Not shown at 80 columns: API member" in text


def test_checks_findings_drop_account_before_the_job_or_detail(inventory: Path) -> None:
    text = smi(80, "report", str(inventory), "-f", "table", "--checks")
    assert "Not shown at 80 columns: Account" in text


@pytest.mark.parametrize("width", (40, 60, 80, 120))
def test_the_collect_tables_note_fits_and_names_every_dropped_column(width: int) -> None:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    sink = make_sink(OutputFormat.TABLE, io.StringIO(), console=console)
    for record in records():
        sink.write(record)
    sink.close()
    stream = console.file
    assert isinstance(stream, io.StringIO)
    text = stream.getvalue()
    assert_fits(text, width)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Not shown"))
    note = " ".join(line.strip() for line in lines[start:])
    assert "…" not in note
    if width == 80:
        for header in ("secondary status", "spot", "training time", "billable time"):
            assert header in note
