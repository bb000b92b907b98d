"""Region names are checked against botocore's data; date options parse ISO-8601 and ages to UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sagemaker_inventory.aws.regions import (
    UnknownRegionError,
    parse_regions,
    partition_of,
    sagemaker_regions,
)
from sagemaker_inventory.records.dates import BadDateError, format_utc, parse_when

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def test_regions_split_on_commas_and_repeats_and_drop_duplicates() -> None:
    assert parse_regions(["us-east-1,eu-west-1", " us-west-2 ", "us-east-1"]) == [
        "us-east-1",
        "eu-west-1",
        "us-west-2",
    ]


def test_unknown_region_is_named() -> None:
    with pytest.raises(UnknownRegionError) as info:
        parse_regions(["us-east-1,us-east-9"])
    assert info.value.args == ("us-east-9",)


def test_partitions_follow_botocore() -> None:
    assert partition_of("us-east-1") == "aws"
    assert partition_of("cn-north-1") == "aws-cn"
    assert partition_of("us-gov-west-1") == "aws-us-gov"


def test_sagemaker_regions_are_the_commercial_ones_where_it_is_offered() -> None:
    regions = sagemaker_regions("aws")
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions)
    assert regions == sorted(regions)
    assert "cn-north-1" not in regions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=timezone.utc)),
        ("2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, tzinfo=timezone.utc)),
        ("2026-01-31T12:00:00+02:00", datetime(2026, 1, 31, 10, tzinfo=timezone.utc)),
    ],
)
def test_dates_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_when(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "7x", "2026-13-01", "", "d7"])
def test_bad_dates_are_rejected(text: str) -> None:
    with pytest.raises(BadDateError):
        parse_when(text, now=NOW)


def test_format_utc_converts_offsets() -> None:
    moment = datetime(2026, 1, 31, 12, tzinfo=timezone(timedelta(hours=2)))
    assert format_utc(moment) == "2026-01-31T10:00:00Z"
