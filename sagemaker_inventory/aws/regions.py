"""Region names checked against botocore's endpoint data, so a typo fails before any AWS call.

boto3 accepts any string as a region (and with an endpoint URL never resolves it), so a misspelt
region would otherwise surface as a confusing connection error, or silently as an empty inventory.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sagemaker_inventory.aws.service_models import shared_loader

SERVICE = "sagemaker"


class UnknownRegionError(ValueError):
    """A region name that botocore's endpoint data does not know."""


@cache
def _endpoint_partitions() -> tuple[dict[str, Any], ...]:
    # The loader every session shares: endpoints.json (large) is parsed once per process.
    data = shared_loader().load_data("endpoints")
    return tuple(data["partitions"])


def known_regions() -> frozenset[str]:
    """Every region of every partition botocore knows (aws, aws-cn, aws-us-gov, ...)."""
    regions: set[str] = set()
    for partition in _endpoint_partitions():
        regions.update(partition["regions"])
    return frozenset(regions)


def known_partitions() -> frozenset[str]:
    """Every partition botocore knows ("aws", "aws-cn", "aws-us-gov", "aws-iso", ...)."""
    return frozenset(str(partition["partition"]) for partition in _endpoint_partitions())


def partition_of(region: str) -> str:
    """The partition ("aws", "aws-cn", "aws-us-gov", ...) a known region belongs to."""
    for partition in _endpoint_partitions():
        if region in partition["regions"]:
            return str(partition["partition"])
    raise UnknownRegionError(region)


def sagemaker_regions(partition: str = "aws") -> list[str]:
    """Regions of `partition` where botocore says SageMaker is offered, sorted."""
    from sagemaker_inventory.aws.session_maker import botocore_session

    session = botocore_session(loader=shared_loader())
    return sorted(session.get_available_regions(SERVICE, partition_name=partition))


def parse_regions(values: Iterable[str]) -> list[str]:
    """Split repeated or comma-separated regions, drop duplicates (keeping order), validate each."""
    regions: list[str] = []
    for value in values:
        for part in value.split(","):
            region = part.strip()
            if region and region not in regions:
                regions.append(region)
    known = known_regions()
    for region in regions:
        if region not in known:
            raise UnknownRegionError(region)
    return regions
