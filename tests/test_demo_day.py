"""Issue 21, item 7: a demo that agrees with the README. Its jobs are dated from the start of the
current UTC day (the same all day), so relative filters and --running without --now answer; no
running job is past its limit at any time of that day and one is near it all day; records come
newest first (per region); the demo mark survives --no-tags; --cost works offline on demo data."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sagemaker_inventory.cli import cli
from sagemaker_inventory.demo.backend import (
    DEMO_JOBS_PER_REGION,
    DEMO_NAME_PREFIX,
    DEMO_REGIONS,
    DEMO_RNG_SEED,
    demo_anchor,
)
from sagemaker_inventory.demo.jobs import DEMO_DAY, DEMO_MARK, JobPlan, plan_jobs
from sagemaker_inventory.report.demo_prices import demo_price_table

NEAR = 0.8


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin)


@pytest.fixture(scope="module")
def demo_jsonl() -> Iterator[str]:
    result = run("collect", "--demo", "-q")
    assert result.exit_code == 0, result.stderr
    yield result.stdout


def records(jsonl: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in jsonl.splitlines()]


def plans() -> list[JobPlan]:
    return [
        plan
        for region in DEMO_REGIONS
        for plan in plan_jobs(
            region,
            DEMO_JOBS_PER_REGION,
            random.Random(f"{DEMO_RNG_SEED}:{region}"),
            DEMO_NAME_PREFIX,
        )
    ]


def test_the_anchor_is_the_start_of_the_utc_day_all_day_long() -> None:
    morning = demo_anchor(datetime(2026, 3, 1, 0, 0, 1, tzinfo=timezone.utc))
    night = demo_anchor(datetime(2026, 3, 1, 23, 59, 59, tzinfo=timezone.utc))
    assert morning == night == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert demo_anchor(datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)) != night


def test_no_running_job_passes_its_limit_before_the_day_ends() -> None:
    running = [p for p in plans() if p.status == "InProgress" and p.secondary_status != "Starting"]
    assert running
    for plan in running:
        assert plan.runtime + DEMO_DAY < plan.max_runtime, plan.name
    for plan in plans():
        if plan.status == "Stopping":
            assert plan.runtime < plan.max_runtime, plan.name


def test_a_running_job_is_near_its_limit_all_day() -> None:
    near = [
        plan
        for plan in plans()
        if plan.status == "InProgress"
        and plan.runtime >= NEAR * plan.max_runtime
        and plan.runtime + DEMO_DAY < plan.max_runtime
    ]
    assert near


def test_relative_filters_find_the_last_weeks_jobs(demo_jsonl: str) -> None:
    week = run("collect", "--demo", "-q", "--created-after", "7d")
    assert week.exit_code == 0, week.stderr
    recent = records(week.stdout)
    assert 0 < len(recent) < len(records(demo_jsonl))


def test_running_without_now_has_a_near_limit_job_and_none_past(demo_jsonl: str) -> None:
    result = run("report", "-", "--running", "-f", "json", stdin=demo_jsonl)
    assert result.exit_code == 0, result.stderr
    running = json.loads(result.stdout)["running"]
    assert any(job["near_limit"] for job in running)
    assert all((job["fraction_of_limit"] or 0) < 1 for job in running)


def test_records_come_newest_first_in_each_region(demo_jsonl: str) -> None:
    created: dict[str, list[str]] = defaultdict(list)
    for record in records(demo_jsonl):
        created[record["training_job_arn"].split(":")[3]].append(record["creation_time"])
    assert set(created) == set(DEMO_REGIONS)
    for times in created.values():
        assert times == sorted(times, reverse=True)
        assert times[0] < demo_anchor().strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_demo_mark_survives_no_tags() -> None:
    result = run("collect", "--demo", "-q", "-r", "us-east-1", "--no-tags")
    assert result.exit_code == 0, result.stderr
    assert {tuple(r["tags"]) for r in records(result.stdout)} == {(DEMO_MARK,)}


def test_cost_prices_demo_data_offline(demo_jsonl: str) -> None:
    # No credentials, no network (the tests refuse connections beyond loopback).
    result = run("report", "-", "--by", "instance_type", "--cost", "-f", "json", stdin=demo_jsonl)
    assert result.exit_code == 0, result.stderr
    assert "demo's shipped prices" in result.stderr
    document = json.loads(result.stdout)
    assert document["totals"]["unpriced_jobs"] == 0 and document["unpriced"] == []
    assert all(group["cost_usd"] is not None for group in document["groups"])
    named = run(
        "report",
        "-",
        "--by",
        "instance_type",
        "--cost",
        "--prices",
        "demo",
        "-f",
        "json",
        stdin=demo_jsonl,
    )
    assert json.loads(named.stdout)["totals"] == document["totals"]


def test_demo_prices_cover_every_pair_of_the_demo(demo_jsonl: str) -> None:
    table = demo_price_table()
    for record in records(demo_jsonl):
        region = record["training_job_arn"].split(":")[3]
        config = record["resource_config"]
        groups = config.get("instance_groups") or [config]
        assert all(group["instance_type"] in table[region] for group in groups)


def test_the_demo_extra_installs_moto_server() -> None:
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert 'demo = ["moto[server]' in pyproject
