"""Tests for the output sinks: the format matrix with exact output, streaming JSON/JSONL, CSV.

The rich table sink has its own file: tests/test_sinks_table.py.
"""

from __future__ import annotations

import csv
import io
import json
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

from sagemaker_inventory.output import columns
from sagemaker_inventory.output.sinks import OutputFormat, make_sink

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
    assert run_sink(fmt, records, columns=columns) == expected


@pytest.mark.usefixtures("sample_shape")
@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_builds_a_working_sink(fmt: OutputFormat) -> None:
    console = plain_console()
    written = run_sink(fmt, [COMPLETED], console=console)
    assert "resnet-1" in written + console_text(console)


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
    parsed = json.loads(run_sink(OutputFormat.JSON, RECORDS[:count]))
    assert parsed == RECORDS[:count]
    assert [list(record) for record in parsed] == [list(record) for record in RECORDS[:count]]


def test_jsonl_never_sorts_keys() -> None:
    record = {"training_job_name": "z", "account_id": "1", "hyper_parameters": {"b": "1", "A": "2"}}
    assert run_sink(OutputFormat.JSONL, [record]) == (
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
    rows = list(csv.reader(io.StringIO(run_sink(OutputFormat.CSV, RECORDS, columns=CSV_COLUMNS))))
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
    rows = list(csv.reader(io.StringIO(run_sink(OutputFormat.CSV, [COMPLETED, FAILED]))))
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


def test_csv_default_columns_with_the_real_shape() -> None:
    rows = list(csv.reader(io.StringIO(run_sink(OutputFormat.CSV, [COMPLETED]))))
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
