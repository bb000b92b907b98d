"""`smi collect --shard` end to end (moto): N shards together collect every account exactly once,
each shard's snapshot holds only its own accounts (also after re-sharding), an empty shard exits
0, and bad --shard values exit 2 naming them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from accounts_helpers import ACCOUNTS, role, seed_accounts
from click.testing import CliRunner, Result

from sagemaker_inventory.collect.sharding import shard_index

REGION = "us-east-1"


def smi_collect(*args: str, env: dict[str, str] | None = None) -> Result:
    from sagemaker_inventory.cli import cli

    return CliRunner().invoke(cli, ["collect", *args], env=env, catch_exceptions=False)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def accounts_file(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.txt"
    path.write_text("".join(f"{role(a)}\n" for a in ACCOUNTS))
    return path


@pytest.mark.usefixtures("moto_aws")
def test_two_shards_snapshot_every_account_once_and_resharding_moves_accounts(
    tmp_path: Path, accounts_file: Path
) -> None:
    seed_accounts(ACCOUNTS, [REGION])
    owner = {a: shard_index(a, 2) for a in ACCOUNTS}
    assert set(owner.values()) == {0, 1}  # the test needs both shards to hold an account
    common = ["--accounts-file", str(accounts_file), "-r", REGION, "-q"]
    snapshots = [tmp_path / f"shard-{k}.jsonl" for k in range(2)]
    for k, snapshot in enumerate(snapshots):
        result = smi_collect(*common, "--shard", f"{k}/2", "--snapshot", str(snapshot))
        assert (result.exit_code, result.stderr) == (0, "")
    held = [{r["account_id"] for r in lines(s)} for s in snapshots]
    assert held == [{a for a in ACCOUNTS if owner[a] == k} for k in range(2)]
    assert sum(len(lines(s)) for s in snapshots) == 2 * len(ACCOUNTS)  # every job once

    # Shard 0's file run as shard 1: it now holds shard 1's accounts only, and says what left.
    changes = tmp_path / "changes.jsonl"
    result = smi_collect(
        *common, "--shard", "1/2", "--snapshot", str(snapshots[0]), "--changes", str(changes)
    )
    assert result.exit_code == 0, result.stderr
    assert {r["account_id"] for r in lines(snapshots[0])} == held[1]
    ops = {(c["op"], c["record"]["account_id"]) for c in lines(changes)}
    assert ops == {("removed", a) for a in held[0]} | {("added", a) for a in held[1]}


@pytest.mark.usefixtures("moto_aws")
def test_auto_takes_the_index_from_a_kubernetes_indexed_job_and_an_empty_shard_exits_0(
    tmp_path: Path, accounts_file: Path
) -> None:
    seed_accounts(ACCOUNTS, [REGION])
    count = 7
    empty = next(k for k in range(count) if all(shard_index(a, count) != k for a in ACCOUNTS))
    full = shard_index(ACCOUNTS[0], count)
    common = ["--accounts-file", str(accounts_file), "-r", REGION, "--shard", "auto"]
    for k in (full, empty):
        out = tmp_path / f"{k}.jsonl"
        env = {"JOB_COMPLETION_INDEX": str(k), "SMI_SHARDS": str(count)}
        result = smi_collect(*common, "-o", str(out), "-q", env=env)
        assert result.exit_code == 0, result.stderr
        expected = {a for a in ACCOUNTS if shard_index(a, count) == k}
        assert {r["account_id"] for r in lines(out)} == expected
    assert lines(tmp_path / f"{empty}.jsonl") == []  # written, so a report over all shards works


@pytest.mark.parametrize(
    ("value", "env", "named"),
    [
        ("3/3", {}, "'3/3': K must be in 0..2"),
        ("x/2", {}, "'x/2'"),
        ("0/0", {}, "'0/0'"),
        ("auto", {}, "JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX"),
        ("auto", {"AWS_BATCH_JOB_ARRAY_INDEX": "1"}, "SMI_SHARDS"),
        (
            "auto",
            {"JOB_COMPLETION_INDEX": "0", "AWS_BATCH_JOB_ARRAY_INDEX": "1", "SMI_SHARDS": "2"},
            "two different shard indexes",
        ),
    ],
)
def test_bad_shard_values_exit_2_naming_them(value: str, env: dict[str, str], named: str) -> None:
    result = smi_collect("-r", REGION, "--shard", value, env=env)
    assert result.exit_code == 2 and result.stdout == ""
    assert "'--shard'" in result.stderr and named in result.stderr


def test_demo_refuses_a_shard() -> None:
    # Regression: --demo --shard 0/2 was accepted and ignored (the demo has one account).
    result = smi_collect("--demo", "--shard", "0/2")
    assert result.exit_code == 2 and "--demo" in result.stderr
