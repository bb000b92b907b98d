"""Region names are checked against botocore's data."""

from __future__ import annotations

import pytest

from sagemaker_inventory.aws.regions import (
    UnknownRegionError,
    parse_regions,
    partition_of,
    sagemaker_regions,
)


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
