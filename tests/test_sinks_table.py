"""Tests for the rich table sink: columns and cells, newest-first order, caption, title, empty."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sink_records import (
    COMPLETED,
    FAILED,
    RECORDS,
    RUNNING,
    STOPPED,
    console_text,
    plain_console,
    run_sink,
)

from sagemaker_inventory.output.sinks import EMPTY_TABLE_MESSAGE, OutputFormat, make_sink


def _table(records: list[dict[str, Any]], **options: Any) -> str:
    console = plain_console()
    assert run_sink(OutputFormat.TABLE, records, console=console, **options) == ""
    return console_text(console)


def _row_of(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def test_table_default_columns_and_cells() -> None:
    text = _table(RECORDS)
    header = _row_of(text, "secondary status")
    for label in ["name", "status", "instance", "spot", "created", "training time"]:
        assert label in header
    assert "billable time" in header and "region" in header and "account" in header
    completed = _row_of(text, "resnet-1")
    for cell in ["Completed", "ml.p3.2xlarge x 2", "false", "2026-03-01T12:00:00Z"]:
        assert cell in completed
    assert "1h 02m 03s" in completed and "eu-west-1" in completed
    assert "123456789012" in completed
    failed = _row_of(text, "llm-ft-7")
    assert "ml.p4d.24xlarge x 2, ml.c5.xlarge x 1" in failed
    assert "15m 00s" in failed and "10m 00s" in failed and "us-east-1" in failed
    running = _row_of(text, "bert-base")
    assert "Training" in running and "InProgress" in running
    assert "xgb-entraînement" in text and "0s" in _row_of(text, "xgb-entraînement")


def test_table_sorts_newest_first_with_sub_second_times() -> None:
    text = _table([STOPPED, COMPLETED, RUNNING, FAILED])
    order = [text.index(name) for name in ["llm-ft-7", "bert-base", "resnet-1", "xgb-entr"]]
    assert order == sorted(order)


def test_table_puts_jobs_without_creation_time_last() -> None:
    undated = {"training_job_name": "no-date", "training_job_status": "Completed"}
    garbled = {"training_job_name": "bad-date", "creation_time": "yesterday"}
    text = _table([undated, STOPPED, garbled, COMPLETED])
    order = [text.index(name) for name in ["resnet-1", "xgb-entr", "no-date", "bad-date"]]
    assert order == sorted(order)


def test_table_shows_markup_like_text_verbatim() -> None:
    text = _table(RECORDS, columns=["training_job_name", "failure_reason"])
    assert "AlgorithmError: [bt] frame 3, see [/red] log, 50% done" in text
    assert _row_of(text, "resnet-1").split("│")[2].strip() == "-"


def test_table_caption_counts_statuses_and_billable_instance_hours() -> None:
    # Billable instance-seconds: resnet-1 3723 x 2 + llm-ft-7 600 x (2 + 1) + bert-base none
    # + xgb 0 x 1 = 7446 + 1800 = 9246 s = 2.568 h.
    text = _table(RECORDS)
    assert (
        "4 jobs · Completed 1 · Failed 1 · InProgress 1 · Stopped 1 · 2.57 billable instance-hours"
    ) in text


def test_table_caption_orders_statuses_by_count() -> None:
    second = {**COMPLETED, "training_job_name": "resnet-2"}
    text = _table([COMPLETED, second, FAILED])
    # 2 x 7446 + 1800 = 16692 s = 4.6367 h
    assert "3 jobs · Completed 2 · Failed 1 · 4.64 billable instance-hours" in text


def test_table_single_job_caption_is_singular() -> None:
    assert "1 job · InProgress 1 · 0.00 billable instance-hours" in _table([RUNNING])


def test_table_title_is_verbatim() -> None:
    text = _table([COMPLETED], title="DEMO DATA [moto] - not your account")
    assert text.splitlines()[0].strip() == "DEMO DATA [moto] - not your account"


def test_table_custom_columns_use_paths_as_headers() -> None:
    text = _table(
        [COMPLETED],
        columns=["training_job_name", "resource_config.volume_size_in_gb", "instance_count"],
    )
    header = _row_of(text, "resource_config.volume_size_in_gb")
    assert "name" in header and "instances" in header
    assert "50" in _row_of(text, "resnet-1")
    assert "secondary status" not in text


def test_table_with_zero_records_says_so() -> None:
    text = _table([])
    assert text == EMPTY_TABLE_MESSAGE + "\n"
    assert "┃" not in text


def test_table_with_zero_records_keeps_the_title() -> None:
    assert _table([], title="DEMO DATA") == "DEMO DATA\n" + EMPTY_TABLE_MESSAGE + "\n"


def test_table_without_console_renders_to_the_stream_unwrapped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Regression: rich assumed 80 columns for a file and wrapped every cell into "seco…" stubs.
    # Without COLUMNS a file has no width (with it, see tests/test_table_widths.py).
    monkeypatch.delenv("COLUMNS", raising=False)
    stream = io.StringIO()
    sink = make_sink(OutputFormat.TABLE, stream, columns=None)
    for record in RECORDS:
        sink.write(record)
    sink.close()
    text = stream.getvalue()
    assert "ml.p4d.24xlarge x 2, ml.c5.xlarge x 1" in _row_of(text, "llm-ft-7")
    assert "secondary status" in text
    assert "\x1b[" not in text


def test_table_renders_only_on_close() -> None:
    console = plain_console()
    sink = make_sink(OutputFormat.TABLE, io.StringIO(), console=console)
    sink.write(COMPLETED)
    assert console_text(console) == ""
    sink.close()
    sink.close()
    assert console_text(console).count("resnet-1") == 1
