"""The report's job lists: failure reasons folded into groups, running jobs against their limits.

Records come from tests/data/report_small.jsonl; its jobs are tabulated by hand in
tests/report_small.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from report_small import NOW, A, B, records

from sagemaker_inventory.report.jobs import collect_failures, collect_running, fold_reason


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("job job-123 ran out of memory at step 4501", "job job-456 ran out of memory at step 17"),
        (
            "Could not find arn:aws:sagemaker:us-east-1:111111111111:model/a-1",
            "Could not find arn:aws:sagemaker:eu-west-1:222222222222:model/b",
        ),
        (
            "Data download failed: s3://bucket/a/part-1.csv",
            "Data download failed: s3://other/b.csv",
        ),
        ("No such file '/opt/ml/input/a.csv'", "No such file '/opt/ml/input/data/b.csv'"),
        (
            "request 3f1c2a9e-1b2c-4d5e-8f90-0123456789ab failed",
            "request 00000000-0000-4000-8000-00000000000a failed",
        ),
        ("crash at 0x7fff12ab in deadbeef01", "crash at 0x1 in 0123abcdef"),
        ("Internal error.  Please   retry.", "Internal error. Please retry."),
    ],
)
def test_similar_failure_reasons_fold_together(first: str, second: str) -> None:
    assert fold_reason(first) == fold_reason(second)


def test_different_failure_reasons_stay_apart() -> None:
    assert fold_reason("KeyError: learning_rate") != fold_reason("KeyError: batch_size")
    assert fold_reason("CapacityError: ml.p4d.24xlarge") != fold_reason(
        "ClientError: ml.p4d.24xlarge"
    )


def detail(name: str, account: str, region: str, status: str) -> dict[str, str]:
    return {
        "training_job_name": name,
        "account_id": account,
        "region": region,
        "training_job_status": status,
    }


def test_failures_group_folded_reasons_newest_first() -> None:
    # h (Mar 1 09:00) is newest, then the reasonless Stopped e (Mar 1 00:10), then c+d whose
    # reasons differ only in numbers; d (Feb 10) is newer than c (Feb 1) and represents them.
    groups = [g.as_dict() for g in collect_failures(records())]

    assert groups == [
        {
            "reason": (
                "ClientError: Data download failed: s3://bucket/data/part-0001.csv [bt] not found"
            ),
            "pattern": "ClientError: Data download failed: <uri> [bt] not found",
            "jobs": 1,
            "failed": 1,
            "stopped": 0,
            "newest_time": "2026-03-01T09:00:00Z",
            "job_names": ["job-h[/red]"],
            "job_details": [detail("job-h[/red]", B, "eu-west-1", "Failed")],
        },
        {
            "reason": None,
            "pattern": None,
            "jobs": 1,
            "failed": 0,
            "stopped": 1,
            "newest_time": "2026-03-01T00:10:00Z",
            "job_names": ["job-e"],
            "job_details": [detail("job-e", A, "eu-west-1", "Stopped")],
        },
        {
            "reason": "AlgorithmError: job job-456 ran out of memory at step 17",
            "pattern": "AlgorithmError: job job-<n> ran out of memory at step <n>",
            "jobs": 2,
            "failed": 2,
            "stopped": 0,
            "newest_time": "2026-02-10T02:00:00Z",
            "job_names": ["job-d", "job-c"],
            "job_details": [
                detail("job-d", B, "us-east-1", "Failed"),
                detail("job-c", B, "eu-west-1", "Failed"),
            ],
        },
    ]


def test_running_jobs_against_their_limit_with_injected_now() -> None:
    # job-f: created 12:00, training since 12:10, now 13:00 -> elapsed 3600, training 3000,
    # limit 3600 -> 0.8333, near. job-g: created 13:00, not started -> no fraction, listed last.
    jobs = [job.as_dict() for job in collect_running(records(), NOW)]

    assert jobs == [
        {
            "training_job_name": "job-f",
            "account_id": A,
            "region": "us-east-1",
            "instance_type": "ml.g5.xlarge",
            "instance_count": 2,
            "secondary_status": "Training",
            "creation_time": "2026-03-01T12:00:00Z",
            "training_start_time": "2026-03-01T12:10:00Z",
            "elapsed_seconds": 3600,
            "training_seconds": 3000,
            "max_runtime_in_seconds": 3600,
            "max_wait_time_in_seconds": 7200,
            "fraction_of_limit": 0.8333,
            "near_limit": True,
        },
        {
            "training_job_name": "job-g",
            "account_id": B,
            "region": "eu-west-1",
            "instance_type": "ml.p4d.24xlarge",
            "instance_count": 1,
            "secondary_status": "Starting",
            "creation_time": "2026-03-01T13:00:00Z",
            "training_start_time": None,
            "elapsed_seconds": 0,
            "training_seconds": None,
            "max_runtime_in_seconds": 86400,
            "max_wait_time_in_seconds": None,
            "fraction_of_limit": None,
            "near_limit": False,
        },
    ]


@pytest.mark.parametrize(("minutes", "near"), [(47, False), (48, True), (70, True)])
def test_near_limit_starts_at_eighty_percent(minutes: int, near: bool) -> None:
    record = {
        "training_job_name": "j",
        "training_job_status": "InProgress",
        "training_start_time": "2026-03-01T12:00:00Z",
        "stopping_condition": {"max_runtime_in_seconds": 3600},
    }
    # 48 minutes of a 60-minute limit is exactly 80 %.
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    [job] = collect_running([record], now)
    assert job.near_limit() is near
