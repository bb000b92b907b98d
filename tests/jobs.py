"""Helpers that create training jobs in an active moto backend, for inventory and CLI tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's default account


def create_jobs(
    region: str,
    names: Iterable[str],
    tags: Mapping[str, str] | None = None,
    *,
    client: Any = None,
) -> list[str]:
    """Create minimal jobs named `names` in `region` (through `client` when given, e.g. one of a
    moto server's); every job gets `tags` when given."""
    client = client or boto3.client("sagemaker", region_name=region)
    arns = []
    for name in names:
        request: dict[str, Any] = {
            "TrainingJobName": name,
            "AlgorithmSpecification": {
                "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                "TrainingInputMode": "File",
            },
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/sm",
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "HyperParameters": {"MaxDepth": "5"},
        }
        if tags:
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        arns.append(client.create_training_job(**request)["TrainingJobArn"])
    return arns


def backend_job(region: str, name: str) -> Any:
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][region].training_jobs[name]


def set_job(
    region: str, name: str, *, status: str | None = None, created: datetime | None = None
) -> None:
    """Change what moto reports for a job (moto creates every job Completed, created now)."""
    job = backend_job(region, name)
    if status is not None:
        job.training_job_status = status
    if created is not None:
        job.creation_time = created


def delete_job(region: str, name: str) -> None:
    from moto.sagemaker.models import sagemaker_backends

    del sagemaker_backends[ACCOUNT][region].training_jobs[name]
