"""The instance figures (groups, count, instance-seconds) the table footer, --columns and smi report
share."""

from __future__ import annotations

from typing import Any

import pytest

from sagemaker_inventory.records.instances import instance_count, instance_groups, instance_seconds

SINGLE = {"resource_config": {"instance_type": "ml.p3.2xlarge", "instance_count": 2}}
CLUSTER = {
    "resource_config": {
        "instance_groups": [
            {"instance_type": "ml.p4d.24xlarge", "instance_count": 1, "instance_group_name": "gpu"},
            {"instance_type": "ml.c5.9xlarge", "instance_count": 3, "instance_group_name": "cpu"},
        ]
    },
    "billable_time_in_seconds": 100,
}


@pytest.mark.parametrize(
    ("record", "groups", "count"),
    [
        (SINGLE, [("ml.p3.2xlarge", 2)], 2),
        (CLUSTER, [("ml.p4d.24xlarge", 1), ("ml.c5.9xlarge", 3)], 4),
        ({"resource_config": {"instance_type": "ml.m5.large"}}, [("ml.m5.large", None)], None),
        ({"resource_config": {"volume_size_in_gb": 5}}, None, None),
        ({}, None, None),
    ],
)
def test_instance_groups_and_count(
    record: dict[str, Any], groups: list[tuple[Any, Any]] | None, count: int | None
) -> None:
    assert instance_groups(record) == groups
    assert instance_count(record) == count


def test_instance_seconds_multiplies_by_every_instance() -> None:
    assert instance_seconds(CLUSTER, "billable_time_in_seconds") == 400
    assert instance_seconds(SINGLE, "billable_time_in_seconds") is None  # still running
