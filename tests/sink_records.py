"""The four jobs in the record shape that the sink tests share, and a helper running a sink."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from sagemaker_inventory.output.sinks import OutputFormat, Sink, make_sink

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


def plain_console() -> Console:
    return Console(file=io.StringIO(), width=200, force_terminal=False)


def console_text(console: Console) -> str:
    stream = console.file
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


def run_sink(
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
