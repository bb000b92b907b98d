"""`collect.command.run_collect` without click: a hand-made CollectPlan, a resolver, exit codes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from jobs import create_jobs
from rich.console import Console

from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.accounts import AccountRequest
from sagemaker_inventory.collect.command import run_collect
from sagemaker_inventory.collect.plan import CollectOptions, CollectPlan, Destination
from sagemaker_inventory.collect.scopes import AccountSource, Scope
from sagemaker_inventory.exit_codes import ExitCode
from sagemaker_inventory.output.sinks import OutputFormat
from sagemaker_inventory.snapshot.lock import snapshot_lock

ACCOUNT = "123456789012"


def plan(destination: Destination, list_scopes: str | None = None) -> CollectPlan:
    return CollectPlan(
        accounts=AccountRequest(),
        regions=("us-east-1",),
        all_regions=False,
        endpoint_url=None,
        demo=False,
        options=CollectOptions(with_tags=False),
        destination=destination,
        list_scopes=list_scopes,
    )


def one_scope(
    plan: CollectPlan, factory: SessionFactory, default_regions: Sequence[str]
) -> list[Scope]:
    return [Scope(AccountSource(account_id=ACCOUNT), region) for region in plan.regions]


def no_scopes(
    plan: CollectPlan, factory: SessionFactory, default_regions: Sequence[str]
) -> list[Scope]:
    raise AssertionError("scopes resolved although the run could not start")


def quiet() -> Console:
    return Console(stderr=True, quiet=True)


def test_list_scopes_prints_the_resolvers_scopes(capsys: pytest.CaptureFixture[str]) -> None:
    listing = plan(Destination(OutputFormat.JSONL, None, None), list_scopes="jsonl")
    assert run_collect(listing, quiet(), one_scope) == ExitCode.OK
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows == [{"account_id": ACCOUNT, "region": "us-east-1", "via": "default credentials"}]


@pytest.mark.usefixtures("moto_aws")
def test_a_run_writes_its_records_and_returns_its_exit_code(tmp_path: Path) -> None:
    create_jobs("us-east-1", ["a", "b"])
    out = tmp_path / "out.jsonl"
    code = run_collect(plan(Destination(OutputFormat.JSONL, out, None)), quiet(), one_scope)
    assert code == ExitCode.OK
    names = sorted(json.loads(line)["training_job_name"] for line in out.read_text().splitlines())
    assert names == ["a", "b"]


def test_a_locked_snapshot_is_exit_4_before_any_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snapshot = tmp_path / "inv.jsonl"
    destination = Destination(OutputFormat.JSONL, None, None, snapshot=snapshot, records_out=False)
    with snapshot_lock(snapshot):
        assert run_collect(plan(destination), quiet(), no_scopes) == ExitCode.LOCKED
    assert "is in use by another smi run" in capsys.readouterr().err
