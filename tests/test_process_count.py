"""The cores `--processes auto` counts: the CPU affinity, capped by a container's CPU limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from sagemaker_inventory.collect import process_count
from sagemaker_inventory.collect.process_count import cgroup_cpu_limit


@pytest.mark.parametrize(
    ("cpu_max", "limit"),
    [("200000 100000\n", 2), ("150000 100000", 2), ("50000 100000", 1), ("max 100000\n", None)],
)
def test_a_cgroup_v2_limit_rounds_up_to_whole_cores(
    tmp_path: Path, cpu_max: str, limit: int | None
) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert cgroup_cpu_limit(tmp_path / "cpu.max", tmp_path / "v1") == limit


@pytest.mark.parametrize(("quota", "limit"), [("400000", 4), ("-1", None)])
def test_a_cgroup_v1_limit(tmp_path: Path, quota: str, limit: int | None) -> None:
    (tmp_path / "cpu.cfs_quota_us").write_text(quota + "\n")
    (tmp_path / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path / "absent", tmp_path) == limit


@pytest.mark.parametrize("cpu_max", ["", "garbage", "100 0"])
def test_no_readable_limit_is_no_limit(tmp_path: Path, cpu_max: str) -> None:
    (tmp_path / "cpu.max").write_text(cpu_max)
    assert cgroup_cpu_limit(tmp_path / "cpu.max", tmp_path) is None
    assert cgroup_cpu_limit(tmp_path / "absent", tmp_path / "absent") is None


def test_a_container_limit_caps_the_cores_of_the_node(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process_count.os, "sched_getaffinity", lambda pid: set(range(64)))
    monkeypatch.setattr(process_count, "cgroup_cpu_limit", lambda: 2)
    assert process_count.usable_cores() == 2
    monkeypatch.setattr(process_count, "cgroup_cpu_limit", lambda: None)
    assert process_count.usable_cores() == 64
