"""Tests for the output sinks: the format matrix with exact output, streaming, the rich table."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from rich.console import Console

from sagemaker_inventory import columns
from sagemaker_inventory.sinks import EMPTY_TABLE_MESSAGE, OutputFormat, Sink, make_sink

# Four jobs in the record shape: a finished one, a failed heterogeneous-cluster spot job whose
# failure_reason looks like rich markup, a running one (no times yet), and a stopped one with
# non-ASCII text. FAILED and RUNNING were created in the same second, FAILED 250 ms later.
COMPLETED: dict[str, Any] = {
    "account_id": "123456789012",
    "algorithm_specification": {
        "training_image": "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3",
        "training_input_mode": "File",
        "enable_sage_maker_metrics_time_series": False,
    },
    "billable_time_in_seconds": 3723,
    "creation_time": "2026-03-01T12:00:00Z",
    "enable_managed_spot_training": False,
    "hyper_parameters": {"MaxDepth": "6", "eta": "0.3"},
    "resource_config": {
        "instance_count": 2,
        "instance_type": "ml.p3.2xlarge",
        "volume_size_in_gb": 50,
    },
    "secondary_status": "Completed",
    "tags": ["cost-center:42", "team:vision"],
    "training_end_time": "2026-03-01T13:05:10Z",
    "training_job_arn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/resnet-1",
    "training_job_name": "resnet-1",
    "training_job_status": "Completed",
    "training_start_time": "2026-03-01T12:03:07Z",
    "training_time_in_seconds": 3723,
}

FAILED: dict[str, Any] = {
    "account_id": "210987654321",
    "billable_time_in_seconds": 600,
    "creation_time": "2026-03-02T08:30:00.250Z",
    "enable_managed_spot_training": True,
    "failure_reason": "AlgorithmError: [bt] frame 3, see [/red] log, 50% done",
    "resource_config": {
        "instance_groups": [
            {"instance_count": 2, "instance_group_name": "gpu", "instance_type": "ml.p4d.24xlarge"},
            {"instance_count": 1, "instance_group_name": "cpu", "instance_type": "ml.c5.xlarge"},
        ],
        "volume_size_in_gb": 100,
    },
    "secondary_status": "Failed",
    "tags": [],
    "training_job_arn": "arn:aws:sagemaker:us-east-1:210987654321:training-job/llm-ft-7",
    "training_job_name": "llm-ft-7",
    "training_job_status": "Failed",
    "training_time_in_seconds": 900,
}

RUNNING: dict[str, Any] = {
    "account_id": "123456789012",
    "creation_time": "2026-03-02T08:30:00Z",
    "enable_managed_spot_training": False,
    "resource_config": {
        "instance_count": 1,
        "instance_type": "ml.g5.xlarge",
        "volume_size_in_gb": 30,
    },
    "secondary_status": "Training",
    "tags": ["team:nlp"],
    "training_job_arn": "arn:aws:sagemaker:us-west-2:123456789012:training-job/bert-base",
    "training_job_name": "bert-base",
    "training_job_status": "InProgress",
    "training_start_time": "2026-03-02T08:34:12Z",
}

STOPPED: dict[str, Any] = {
    "account_id": "123456789012",
    "billable_time_in_seconds": 0,
    "creation_time": "2026-02-28T23:59:59Z",
    "enable_managed_spot_training": True,
    "environment": {"LANG": "fr_FR.UTF-8", "NOTE": 'entraînement, "rapide"'},
    "resource_config": {
        "instance_count": 1,
        "instance_type": "ml.m5.large",
        "volume_size_in_gb": 0,
    },
    "secondary_status": "Stopped",
    "tags": ["owner:zoé"],
    "training_job_arn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/xgb-entraînement",
    "training_job_name": "xgb-entraînement",
    "training_job_status": "Stopped",
    "training_time_in_seconds": 10,
}

RECORDS = [COMPLETED, FAILED, RUNNING, STOPPED]

# Each record as one compact JSON line, written out by hand-checked literal.
COMPLETED_LINE = (
    '{"account_id":"123456789012"'
    ',"algorithm_specification":{"training_image"'
    ':"763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3"'
    ',"training_input_mode":"File","enable_sage_maker_metrics_time_series":false}'
    ',"billable_time_in_seconds":3723,"creation_time":"2026-03-01T12:00:00Z"'
    ',"enable_managed_spot_training":false,"hyper_parameters":{"MaxDepth":"6"'
    ',"eta":"0.3"},"resource_config":{"instance_count":2,"instance_type":"ml.p3.2xlarge"'
    ',"volume_size_in_gb":50},"secondary_status":"Completed","tags":["cost-center:42"'
    ',"team:vision"],"training_end_time":"2026-03-01T13:05:10Z"'
    ',"training_job_arn":"arn:aws:sagemaker:eu-west-1:123456789012:training-job/resnet-1"'
    ',"training_job_name":"resnet-1","training_job_status":"Completed"'
    ',"training_start_time":"2026-03-01T12:03:07Z","training_time_in_seconds":3723}'
)
FAILED_LINE = (
    '{"account_id":"210987654321","billable_time_in_seconds":600'
    ',"creation_time":"2026-03-02T08:30:00.250Z","enable_managed_spot_training":true'
    ',"failure_reason":"AlgorithmError: [bt] frame 3, see [/red] log, 50% done"'
    ',"resource_config":{"instance_groups":[{"instance_count":2'
    ',"instance_group_name":"gpu","instance_type":"ml.p4d.24xlarge"},{"instance_count":1'
    ',"instance_group_name":"cpu","instance_type":"ml.c5.xlarge"}]'
    ',"volume_size_in_gb":100},"secondary_status":"Failed","tags":[]'
    ',"training_job_arn":"arn:aws:sagemaker:us-east-1:210987654321:training-job/llm-ft-7"'
    ',"training_job_name":"llm-ft-7","training_job_status":"Failed"'
    ',"training_time_in_seconds":900}'
)
RUNNING_LINE = (
    '{"account_id":"123456789012","creation_time":"2026-03-02T08:30:00Z"'
    ',"enable_managed_spot_training":false,"resource_config":{"instance_count":1'
    ',"instance_type":"ml.g5.xlarge","volume_size_in_gb":30}'
    ',"secondary_status":"Training","tags":["team:nlp"]'
    ',"training_job_arn":"arn:aws:sagemaker:us-west-2:123456789012:training-job/bert-base"'
    ',"training_job_name":"bert-base","training_job_status":"InProgress"'
    ',"training_start_time":"2026-03-02T08:34:12Z"}'
)
STOPPED_LINE = (
    '{"account_id":"123456789012","billable_time_in_seconds":0'
    ',"creation_time":"2026-02-28T23:59:59Z","enable_managed_spot_training":true'
    ',"environment":{"LANG":"fr_FR.UTF-8","NOTE":"entraînement, \\"rapide\\""}'
    ',"resource_config":{"instance_count":1,"instance_type":"ml.m5.large"'
    ',"volume_size_in_gb":0},"secondary_status":"Stopped","tags":["owner:zoé"]'
    ',"training_job_arn":"arn:aws:sagemaker:eu-west-1:123456789012:training-job/xgb-entraînement"'
    ',"training_job_name":"xgb-entraînement","training_job_status":"Stopped"'
    ',"training_time_in_seconds":10}'
)

CSV_COLUMNS = [
    "training_job_name",
    "training_job_status",
    "instance",
    "instance_count",
    "region",
    "enable_managed_spot_training",
    "billable_time_in_seconds",
    "failure_reason",
    "environment",
    "tags",
]

EXPECTED_CSV = (
    "training_job_name,training_job_status,instance,instance_count,region,"
    "enable_managed_spot_training,billable_time_in_seconds,failure_reason,environment,tags\r\n"
    "resnet-1,Completed,ml.p3.2xlarge x 2,2,eu-west-1,false,3723,,,"
    '"[""cost-center:42"",""team:vision""]"\r\n'
    'llm-ft-7,Failed,"ml.p4d.24xlarge x 2, ml.c5.xlarge x 1",3,us-east-1,true,600,'
    '"AlgorithmError: [bt] frame 3, see [/red] log, 50% done",,[]\r\n'
    'bert-base,InProgress,ml.g5.xlarge x 1,1,us-west-2,false,,,,"[""team:nlp""]"\r\n'
    "xgb-entraînement,Stopped,ml.m5.large x 1,1,eu-west-1,true,0,,"
    '"{""LANG"":""fr_FR.UTF-8"",""NOTE"":""entraînement, \\""rapide\\""""}",'
    '"[""owner:zoé""]"\r\n'
)

ALL_LINES = [COMPLETED_LINE, FAILED_LINE, RUNNING_LINE, STOPPED_LINE]


def _plain_console() -> Console:
    return Console(file=io.StringIO(), width=200, force_terminal=False)


def _console_text(console: Console) -> str:
    stream = console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def _run(
    fmt: OutputFormat,
    records: list[dict[str, Any]],
    *,
    columns: list[str] | None = None,
    console: Console | None = None,
    title: str | None = None,
) -> str:
    stream = io.StringIO()
    sink: Sink = make_sink(fmt, stream, columns=columns, console=console, title=title)
    for record in records:
        sink.write(record)
    sink.close()
    return stream.getvalue()


@pytest.fixture
def sample_shape(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    paths = [
        "account_id",
        "billable_time_in_seconds",
        "creation_time",
        "resource_config",
        "resource_config.instance_count",
        "resource_config.instance_groups",
        "resource_config.instance_type",
        "tags",
        "training_job_name",
    ]
    monkeypatch.setattr(columns, "_field_paths", lambda all_fields=False: list(paths))
    return [
        "account_id",
        "billable_time_in_seconds",
        "creation_time",
        "resource_config.instance_count",
        "resource_config.instance_groups",
        "resource_config.instance_type",
        "tags",
        "training_job_name",
    ]


# --- the format matrix -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "records", "expected"),
    [
        pytest.param(OutputFormat.JSONL, RECORDS, "\n".join(ALL_LINES) + "\n", id="jsonl"),
        pytest.param(OutputFormat.JSONL, [RUNNING], RUNNING_LINE + "\n", id="jsonl-one"),
        pytest.param(OutputFormat.JSONL, [], "", id="jsonl-empty"),
        pytest.param(OutputFormat.JSON, RECORDS, "[" + ",\n".join(ALL_LINES) + "]\n", id="json"),
        pytest.param(OutputFormat.JSON, [RUNNING], "[" + RUNNING_LINE + "]\n", id="json-one"),
        pytest.param(OutputFormat.JSON, [], "[]\n", id="json-empty"),
        pytest.param(OutputFormat.CSV, RECORDS, EXPECTED_CSV, id="csv"),
        pytest.param(
            OutputFormat.CSV, [], EXPECTED_CSV.split("\r\n", maxsplit=1)[0] + "\r\n", id="csv-empty"
        ),
    ],
)
def test_format_matrix_exact_output(
    fmt: OutputFormat, records: list[dict[str, Any]], expected: str
) -> None:
    columns = CSV_COLUMNS if fmt is OutputFormat.CSV else None
    assert _run(fmt, records, columns=columns) == expected


@pytest.mark.usefixtures("sample_shape")
@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_builds_a_working_sink(fmt: OutputFormat) -> None:
    console = _plain_console()
    written = _run(fmt, [COMPLETED], console=console)
    assert "resnet-1" in written + _console_text(console)


def test_format_values_are_the_cli_choices() -> None:
    assert [f.value for f in OutputFormat] == ["jsonl", "json", "csv", "table"]
    assert OutputFormat("csv") is OutputFormat.CSV


# --- jsonl / json ----------------------------------------------------------------------------


class FlushRecorder(io.StringIO):
    """Remembers what had been flushed, to show each record leaves before the next arrives."""

    flushed = ""

    def flush(self) -> None:
        super().flush()
        self.flushed = self.getvalue()


def test_jsonl_flushes_each_line_as_it_is_written() -> None:
    stream = FlushRecorder()
    sink = make_sink(OutputFormat.JSONL, stream)
    for count, record in enumerate(RECORDS, start=1):
        sink.write(record)
        assert stream.flushed == "".join(line + "\n" for line in ALL_LINES[:count])
    sink.close()


def test_json_streams_records_before_close() -> None:
    stream = FlushRecorder()
    sink = make_sink(OutputFormat.JSON, stream)
    sink.write(COMPLETED)
    assert stream.flushed == "[" + COMPLETED_LINE
    sink.write(FAILED)
    assert stream.flushed == "[" + COMPLETED_LINE + ",\n" + FAILED_LINE
    sink.close()
    assert stream.flushed.endswith("]\n")


@pytest.mark.parametrize("count", [0, 1, 4])
def test_json_parses_back_with_key_order_kept(count: int) -> None:
    parsed = json.loads(_run(OutputFormat.JSON, RECORDS[:count]))
    assert parsed == RECORDS[:count]
    assert [list(record) for record in parsed] == [list(record) for record in RECORDS[:count]]


def test_jsonl_never_sorts_keys() -> None:
    record = {"training_job_name": "z", "account_id": "1", "hyper_parameters": {"b": "1", "A": "2"}}
    assert _run(OutputFormat.JSONL, [record]) == (
        '{"training_job_name":"z","account_id":"1","hyper_parameters":{"b":"1","A":"2"}}\n'
    )


def test_json_close_twice_writes_the_closing_bracket_once() -> None:
    stream = io.StringIO()
    sink = make_sink(OutputFormat.JSON, stream)
    sink.close()
    sink.close()
    assert stream.getvalue() == "[]\n"


# --- csv ------------------------------------------------------------------------------------


def test_csv_round_trips_through_the_csv_module() -> None:
    rows = list(csv.reader(io.StringIO(_run(OutputFormat.CSV, RECORDS, columns=CSV_COLUMNS))))
    assert rows[0] == CSV_COLUMNS
    stopped = dict(zip(CSV_COLUMNS, rows[4], strict=True))
    assert json.loads(stopped["environment"]) == STOPPED["environment"]
    assert json.loads(stopped["tags"]) == ["owner:zoé"]
    failed = dict(zip(CSV_COLUMNS, rows[2], strict=True))
    assert failed["failure_reason"] == FAILED["failure_reason"]


def test_csv_streams_rows_before_close() -> None:
    stream = FlushRecorder()
    sink = make_sink(OutputFormat.CSV, stream, columns=["training_job_name", "region"])
    sink.write(COMPLETED)
    assert stream.flushed == "training_job_name,region\r\nresnet-1,eu-west-1\r\n"
    sink.close()


def test_csv_default_columns_come_from_the_shape(sample_shape: list[str]) -> None:
    rows = list(csv.reader(io.StringIO(_run(OutputFormat.CSV, [COMPLETED, FAILED]))))
    assert rows[0] == sample_shape
    assert rows[1] == [
        "123456789012",
        "3723",
        "2026-03-01T12:00:00Z",
        "2",
        "",
        "ml.p3.2xlarge",
        '["cost-center:42","team:vision"]',
        "resnet-1",
    ]
    assert rows[2][4] == (
        '[{"instance_count":2,"instance_group_name":"gpu","instance_type":"ml.p4d.24xlarge"},'
        '{"instance_count":1,"instance_group_name":"cpu","instance_type":"ml.c5.xlarge"}]'
    )


# --- table ----------------------------------------------------------------------------------


def _table(records: list[dict[str, Any]], **options: Any) -> str:
    console = _plain_console()
    assert _run(OutputFormat.TABLE, records, console=console, **options) == ""
    return _console_text(console)


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


def test_table_without_console_renders_to_the_stream_unwrapped() -> None:
    # Regression: rich assumed 80 columns for a file and wrapped every cell into "seco…" stubs.
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
    console = _plain_console()
    sink = make_sink(OutputFormat.TABLE, io.StringIO(), console=console)
    sink.write(COMPLETED)
    assert _console_text(console) == ""
    sink.close()
    sink.close()
    assert _console_text(console).count("resnet-1") == 1


def test_csv_default_columns_with_the_real_shape() -> None:
    rows = list(csv.reader(io.StringIO(_run(OutputFormat.CSV, [COMPLETED]))))
    header, row = rows
    assert header == columns.default_csv_columns()
    cells = dict(zip(header, row, strict=True))
    assert cells["resource_config.instance_type"] == "ml.p3.2xlarge"
    assert cells["algorithm_specification.training_input_mode"] == "File"
    assert cells["hyper_parameters"] == '{"MaxDepth":"6","eta":"0.3"}'
    assert cells["training_end_time"] == "2026-03-01T13:05:10Z"
    assert cells["failure_reason"] == ""


def test_csv_default_columns_with_all_fields_include_undocumented_members() -> None:
    stream = io.StringIO()
    sink = make_sink(OutputFormat.CSV, stream, all_fields=True)
    sink.write(COMPLETED)
    sink.close()
    header, row = csv.reader(io.StringIO(stream.getvalue()))
    assert header == columns.default_csv_columns(all_fields=True)
    assert len(header) > len(columns.default_csv_columns())
    assert dict(zip(header, row, strict=True))["training_job_name"] == "resnet-1"
