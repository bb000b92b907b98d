"""records.arns is the one place that splits an ARN; a record's account and region come from it."""

from __future__ import annotations

import pytest

from sagemaker_inventory.records.arns import (
    Arn,
    account_id_from_arn,
    account_id_of,
    parse_arn,
    region_of,
)

ACCOUNT = "123456789012"


def test_parse_arn_keeps_colons_in_the_resource() -> None:
    arn = f"arn:aws-cn:sagemaker:cn-north-1:{ACCOUNT}:training-job/a:b"
    assert parse_arn(arn) == Arn("aws-cn", "sagemaker", "cn-north-1", ACCOUNT, "training-job/a:b")
    assert parse_arn("arn:aws:s3:::bucket") == Arn("aws", "s3", "", "", "bucket")
    for bad in ("", "training-job/x", "nra:aws:sagemaker:us-east-1:1:x", "arn:aws:sts"):
        with pytest.raises(ValueError, match="not an ARN"):
            parse_arn(bad)


def test_account_id_from_arn() -> None:
    arn = f"arn:aws-cn:sagemaker:cn-north-1:{ACCOUNT}:training-job/a:b"
    assert account_id_from_arn(arn) == ACCOUNT
    for bad in ("", "training-job/x", "arn:aws:sagemaker:us-east-1::training-job/x"):
        with pytest.raises(ValueError, match="not an ARN"):
            account_id_from_arn(bad)


def test_region_comes_from_the_arn() -> None:
    arn = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:training-job/a"
    assert region_of({"training_job_arn": arn}) == "eu-west-1"
    assert region_of({"training_job_arn": "not-an-arn"}) is None
    assert region_of({"training_job_arn": f"arn:aws:sagemaker::{ACCOUNT}:training-job/a"}) is None
    assert region_of({}) is None


def test_account_is_the_records_own_else_its_arns() -> None:
    arn = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:training-job/a"
    assert account_id_of({"account_id": "210987654321", "training_job_arn": arn}) == "210987654321"
    assert account_id_of({"account_id": "", "training_job_arn": arn}) == ACCOUNT
    assert account_id_of({"training_job_arn": "arn:aws:s3:::bucket"}) is None
    assert account_id_of({"training_job_arn": 7}) is None
