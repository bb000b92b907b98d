"""Accounts seeded in moto for the account tests and the CLI account tests: the caller and three
member accounts, roles into them, training jobs in each account and region, an organization."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import boto3

CALLER = "123456789012"  # moto's default account: the base credentials
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ["us-east-1", "eu-west-1"]


def role(account: str, name: str = "OrganizationAccountAccessRole") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def sagemaker_in(account: str, region: str) -> Any:
    """A SageMaker client of `account` (moto routes assumed-role keys to the role's account)."""
    if account == CALLER:
        return boto3.client("sagemaker", region_name=region)
    keys = boto3.client("sts", region_name=region).assume_role(
        RoleArn=role(account), RoleSessionName="seed"
    )["Credentials"]
    return boto3.client(
        "sagemaker",
        region_name=region,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


def seed_jobs(account: str, region: str, count: int = 2) -> list[str]:
    """`count` jobs named after their account and region; returns the names."""
    client = sagemaker_in(account, region)
    names = [f"job-{account[:3]}-{region}-{i}" for i in range(count)]
    for name in names:
        client.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={
                "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                "TrainingInputMode": "File",
            },
            RoleArn=f"arn:aws:iam::{account}:role/sm",
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
        )
    return names


def seed_accounts(accounts: Iterable[str], regions: Iterable[str] = REGIONS) -> None:
    for account in accounts:
        for region in regions:
            seed_jobs(account, region)


def create_org(members: int, suspended: int = 0) -> tuple[list[str], list[str]]:
    """An organization managed by the caller: (active member ids, suspended member ids)."""
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(Email=f"m{i}@example.com", AccountName=f"member-{i}")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in range(members + suspended)
    ]
    for account in ids[members:]:
        org.close_account(AccountId=account)
    return ids[:members], ids[members:]
