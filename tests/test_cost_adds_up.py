"""Issue 21, item 5: money adds up in `smi report --cost`. The total is the sum of what the groups
show; a job with one priced and one unpriced instance group counts its priced part in its group and
in the total, and once in unpriced_jobs; a group with nothing priced is null / "—", never $0.00."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sagemaker_inventory.cli import cli

ARN = "arn:aws:sagemaker:us-east-1:111111111111:training-job/"
PRICES = {"us-east-1": {"ml.p4d.24xlarge": 37.688, "ml.m5.xlarge": 0.24}}


def job(name: str, team: str, groups: list[tuple[str, int]], seconds: int) -> dict[str, Any]:
    return {
        "training_job_name": name,
        "training_job_arn": ARN + name,
        "training_job_status": "Completed",
        "tags": [f"team:{team}"],
        "resource_config": {
            "instance_groups": [
                {"instance_type": kind, "instance_count": count, "instance_group_name": f"g{i}"}
                for i, (kind, count) in enumerate(groups)
            ]
        },
        "training_time_in_seconds": seconds,
        "billable_time_in_seconds": seconds,
    }


@pytest.fixture
def inventory(tmp_path: Path) -> tuple[Path, Path]:
    records = [
        # p4d x2 priced ($75.376 an hour), c5.9xlarge x2 unpriced: one hour.
        job("mixed", "recsys", [("ml.p4d.24xlarge", 2), ("ml.c5.9xlarge", 2)], 3600),
        # Nothing priced: 114 billable hours of a type without a price.
        job("dark", "vision", [("ml.g5.2xlarge", 114)], 3600),
        job("cheap", "finance", [("ml.m5.xlarge", 1)], 3601),
        job("cheap-2", "finance", [("ml.m5.xlarge", 1)], 3601),
    ]
    path = tmp_path / "inventory.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps(PRICES))
    return path, prices


def report(inventory: tuple[Path, Path], *args: str, columns: int = 120) -> Result:
    path, prices = inventory
    return CliRunner().invoke(
        cli,
        ["report", str(path), "--cost", "--prices", str(prices), *args],
        env={"COLUMNS": str(columns)},
    )


@pytest.mark.parametrize("by", ["tag:team", "instance_type", "status"])
def test_the_total_is_the_sum_of_the_groups(inventory: tuple[Path, Path], by: str) -> None:
    result = report(inventory, "--by", by, "-f", "json")
    document = json.loads(result.stdout)
    shown = [g["cost_usd"] for g in document["groups"] if g["cost_usd"] is not None]
    assert document["totals"]["cost_usd"] == round(sum(shown), 2)
    # p4d 2 x 1 h x 37.688 + m5 2 x 3601 s x 0.24: the mixed job's priced part is in the total.
    assert document["totals"]["cost_usd"] == round(75.376 + 2 * 3601 / 3600 * 0.24, 2)
    assert document["totals"]["unpriced_jobs"] == 2  # mixed (once) and dark


def test_a_mixed_job_counts_its_priced_part_in_its_group(inventory: tuple[Path, Path]) -> None:
    document = json.loads(report(inventory, "--by", "tag:team", "-f", "json").stdout)
    groups = {g["key"]["tag:team"]: g for g in document["groups"]}
    assert groups["recsys"]["cost_usd"] == 75.38
    assert groups["recsys"]["unpriced_jobs"] == 1
    assert groups["vision"]["cost_usd"] is None
    assert groups["vision"]["spot_saved_usd"] is None


def test_a_group_with_nothing_priced_shows_a_dash(inventory: tuple[Path, Path]) -> None:
    table = report(inventory, "--by", "tag:team", "-f", "table").stdout
    vision = next(line for line in table.splitlines() if "vision" in line)
    assert "—" in vision and "$0.00" not in vision
    assert "$75.38" in table
