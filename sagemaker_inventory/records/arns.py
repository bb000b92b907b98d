"""ARNs (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE): their parts, and what a record's says.

The one place that splits an ARN. A record's account and region come from its training_job_arn
(arn:aws:sagemaker:REGION:ACCOUNT:training-job/NAME) where the record does not say them itself.
"""

from __future__ import annotations

from typing import NamedTuple

from sagemaker_inventory.records.record import Record


class Arn(NamedTuple):
    """The six colon-separated parts of an ARN, after the leading "arn"."""

    partition: str
    service: str
    region: str
    account_id: str
    resource: str  # may itself contain colons and slashes


def parse_arn(text: str) -> Arn:
    """The parts of an ARN; ValueError when `text` is not one (region and account may be empty)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"not an ARN: {text!r}")
    return Arn(*parts[1:])


def account_id_from_arn(arn: str) -> str:
    """The account part of an ARN; ValueError when it is not an ARN or names no account."""
    try:
        account_id = parse_arn(arn).account_id
    except ValueError:
        account_id = ""
    if not account_id:
        raise ValueError(f"not an ARN with an account: {arn!r}")
    return account_id


def _job_arn(record: Record) -> Arn | None:
    arn = record.get("training_job_arn")
    if not isinstance(arn, str):
        return None
    try:
        return parse_arn(arn)
    except ValueError:
        return None


def region_of(record: Record) -> str | None:
    """The region part of the record's job ARN, or None."""
    arn = _job_arn(record)
    return arn.region if arn is not None and arn.region else None


def account_id_of(record: Record) -> str | None:
    """The record's account_id, else the account part of its job ARN, or None."""
    value = record.get("account_id")
    if isinstance(value, str) and value:
        return value
    arn = _job_arn(record)
    return arn.account_id if arn is not None and arn.account_id else None
