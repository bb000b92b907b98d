"""The demo end to end: records say they are demo data (also with -q), repeated snapshot runs see no
change, and `smi report --by instance_type` agrees with the README's jq recipe on demo data."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sagemaker_inventory.cli import cli
from sagemaker_inventory.demo.jobs import DEMO_TAG

README = Path(__file__).parent.parent / "README.md"
DEMO_MARK = f"{DEMO_TAG[0]}:{DEMO_TAG[1]}"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


@pytest.fixture(scope="module")
def demo_jsonl() -> Iterator[str]:
    result = run("collect", "--demo", "-q", "-f", "jsonl")
    assert result.exit_code == 0, result.stderr
    yield result.stdout


def records(jsonl: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in jsonl.splitlines()]


def test_every_demo_record_says_it_is_demo_data_even_with_q(demo_jsonl: str) -> None:
    jobs = records(demo_jsonl)
    assert len(jobs) == 50
    assert all(DEMO_MARK in job["tags"] for job in jobs)


def test_repeated_demo_snapshots_see_no_change(tmp_path: Path) -> None:
    # Regression: the demo's times moved with the clock, so every run changed every job.
    snapshot, changes = tmp_path / "s.jsonl", tmp_path / "changes.jsonl"
    args = ["collect", "--demo", "-r", "us-east-1", "--snapshot", str(snapshot), "-o", "/dev/null"]
    assert run(*args, "-q").exit_code == 0
    first = snapshot.read_text()
    second = run(*args, "--changes", str(changes))
    assert second.exit_code == 0, second.stderr
    assert changes.read_text() == ""
    assert "0 added, 0 changed, 0 removed" in second.stderr
    assert snapshot.read_text() == first


def readme_recipe() -> str:
    """The jq program of the README's "billable instance-hours per instance type" recipe."""
    found = re.search(r"smi collect -r us-east-1 \| jq -s '([^']+)'", README.read_text())
    assert found is not None
    return found.group(1)


def recipe_in_python(jobs: list[dict[str, Any]]) -> dict[str | None, float]:
    """The recipe's steps, one for one, for machines without jq."""
    seconds: dict[str | None, int] = defaultdict(int)
    for job in jobs:
        config = job.get("resource_config") or {}
        groups = config.get("instance_groups") or [config]
        for group in groups:
            seconds[group.get("instance_type")] += (job.get("billable_time_in_seconds") or 0) * (
                group.get("instance_count") or 0
            )
    return {kind: total / 3600 for kind, total in seconds.items()}


def report_hours(jsonl: str) -> dict[str | None, float]:
    result = run("report", "-", "--by", "instance_type", "--format", "json", stdin=jsonl)
    assert result.exit_code == 0, result.stderr
    return {
        group["key"]["instance_type"]: group["billable_instance_hours"]
        for group in json.loads(result.stdout)["groups"]
    }


def assert_same_hours(recipe: dict[str | None, float], report: dict[str | None, float]) -> None:
    assert set(recipe) == set(report)
    for kind, hours in report.items():
        assert recipe[kind] == pytest.approx(hours, abs=1e-4), kind


def test_instance_groups_count_under_their_own_types(demo_jsonl: str) -> None:
    # Regression: jobs with instance groups fell into a "(none)" group, the demo's biggest.
    hours = report_hours(demo_jsonl)
    assert None not in hours
    assert "ml.c5.9xlarge" in hours  # only ever an instance group (the data loaders)
    assert_same_hours(recipe_in_python(records(demo_jsonl)), hours)


def test_the_readme_recipe_agrees_with_smi_report(demo_jsonl: str) -> None:
    recipe = readme_recipe()
    assert "instance_groups" in recipe and "billable_time_in_seconds" in recipe
    if shutil.which("jq") is None:
        pytest.skip(
            "jq is not installed; test_instance_groups_count_under_their_own_types checks "
            "the recipe's steps in Python"
        )
    ran = subprocess.run(
        ["jq", "-s", recipe], input=demo_jsonl, capture_output=True, text=True, check=True
    )
    from_jq = {row["type"]: row["hours"] for row in json.loads(ran.stdout)}
    assert_same_hours(from_jq, report_hours(demo_jsonl))
