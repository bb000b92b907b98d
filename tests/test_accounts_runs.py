"""Whole runs over several accounts x regions (moto): role ARNs, an accounts file, --org with
exclusions, roles that cannot be assumed, credentials renewed mid-run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from accounts_helpers import ACCOUNTS, CALLER, REGIONS, create_org, role, seed_accounts, seed_jobs

from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect import run as inventory
from sagemaker_inventory.collect.account_sources import resolve_account_sources
from sagemaker_inventory.collect.accounts import (
    AccountRequest,
    RoleArn,
    parse_role_arn,
    read_accounts_file,
)
from sagemaker_inventory.collect.outcome import RunSummary
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import run_inventory
from sagemaker_inventory.collect.scopes import AccountSource, Scope, build_scopes


def deny_assume_role(factory: SessionFactory, accounts: set[str]) -> list[str]:
    """Make AssumeRole into `accounts` fail with AccessDenied; returns every role asked for."""
    asked: list[str] = []

    def answer(params: dict[str, Any], **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        arn = str(params["body"]["RoleArn"])
        asked.append(arn)
        if arn.split(":")[4] not in accounts:
            return None
        return AWSResponse("https://sts.invalid", 403, {}, None), {
            "Error": {
                "Code": "AccessDenied",
                "Message": f"User: arn:aws:iam::{CALLER}:user/moto is not authorized to perform:"
                f" sts:AssumeRole on resource: {arn}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    factory.session(None).register("before-call.sts.AssumeRole", answer)
    return asked


def run(
    sources: list[AccountSource],
    factory: SessionFactory | None = None,
    regions: list[str] = REGIONS,
    options: CollectOptions | None = None,
    observer: Any = None,
) -> tuple[list[dict[str, Any]], RunSummary]:
    records: list[dict[str, Any]] = []
    summary = run_inventory(
        build_scopes(sources, regions),
        factory or SessionFactory(),
        options or CollectOptions(max_workers=2),
        records.append,
        observer,
    )
    return records, summary


def by_scope(summary: RunSummary) -> dict[tuple[str | None, str], tuple[str, int]]:
    return {(s.account_id, s.region): (s.status, s.jobs) for s in summary.scopes}


@pytest.mark.usefixtures("moto_aws")
def test_three_accounts_through_role_arns_in_two_regions() -> None:
    seed_accounts(ACCOUNTS)
    seed_jobs(CALLER, "us-east-1", 5)  # the caller's own jobs must not appear
    request = AccountRequest(role_arns=tuple(parse_role_arn(role(a)) for a in ACCOUNTS))
    factory = SessionFactory()
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 0
    assert by_scope(summary) == {(a, r): ("ok", 2) for a in ACCOUNTS for r in REGIONS}
    assert len(records) == 12
    for record in records:
        account, region = record["account_id"], record["training_job_arn"].split(":")[3]
        assert record["training_job_name"].startswith(f"job-{account[:3]}-{region}-")


@pytest.mark.usefixtures("moto_aws")
def test_an_accounts_file_in_two_regions(tmp_path: Path) -> None:
    seed_accounts(ACCOUNTS[:2])
    path = tmp_path / "accounts.txt"
    path.write_text(f"# two accounts\n{ACCOUNTS[0]}\n{role(ACCOUNTS[1])}  # by ARN\n")
    entries = read_accounts_file(str(path))
    request = AccountRequest(
        role_arns=tuple(e for e in entries if isinstance(e, RoleArn)),
        account_ids=tuple(e for e in entries if isinstance(e, str)),
    )
    factory = SessionFactory()
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 0
    assert sorted({r["account_id"] for r in records}) == sorted(ACCOUNTS[:2])
    assert len(records) == 8


@pytest.mark.usefixtures("moto_aws")
def test_org_with_an_excluded_and_a_suspended_account() -> None:
    active, suspended = create_org(members=3, suspended=1)
    seed_accounts([CALLER, *active, *suspended])
    factory = SessionFactory()
    asked = deny_assume_role(factory, set())
    request = AccountRequest(org=True, exclude=frozenset({active[2]}))
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 0
    collected = [CALLER, active[0], active[1]]
    assert by_scope(summary) == {(a, r): ("ok", 2) for a in collected for r in REGIONS}
    assert {r["account_id"] for r in records} == set(collected)
    assert {arn.split(":")[4] for arn in asked} == {active[0], active[1]}  # never the others


@pytest.mark.usefixtures("moto_aws")
def test_a_role_that_cannot_be_assumed_fails_only_its_accounts_scopes() -> None:
    seed_accounts(ACCOUNTS)
    factory = SessionFactory()
    deny_assume_role(factory, {ACCOUNTS[1]})
    request = AccountRequest(account_ids=ACCOUNTS)
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 3
    assert {r["account_id"] for r in records} == {ACCOUNTS[0], ACCOUNTS[2]}
    assert len(records) == 8
    for scope in summary.scopes:
        if scope.account_id == ACCOUNTS[1]:
            assert scope.status == "failed" and scope.error is not None
            assert scope.error.code == "AccessDenied"
            assert "sts:AssumeRole" in scope.error.message
        else:
            assert (scope.status, scope.jobs) == ("ok", 2)


@pytest.mark.usefixtures("moto_aws")
def test_when_no_role_can_be_assumed_nothing_is_collected() -> None:
    seed_accounts(ACCOUNTS)
    factory = SessionFactory()
    deny_assume_role(factory, set(ACCOUNTS))
    records, summary = run(
        resolve_account_sources(AccountRequest(account_ids=ACCOUNTS), factory), factory
    )
    assert (records, summary.exit_code) == ([], 1)
    assert {s.status for s in summary.scopes} == {"failed"}


class AdvancingObserver(inventory.NullObserver):
    """Moves the credentials' clock forward by `step` after every job, as a long run would."""

    def __init__(self, advance: Callable[[float], None], step: float) -> None:
        self.advance, self.step = advance, step

    def job_done(self, scope: Scope) -> None:
        self.advance(self.step)


@pytest.mark.usefixtures("moto_aws")
def test_credentials_that_expire_mid_run_are_renewed_and_the_run_completes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moto.sts.models

    now = [datetime.now(timezone.utc)]
    monkeypatch.setattr(moto.sts.models, "utcnow", lambda: now[0].replace(tzinfo=None))

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    seed_jobs(ACCOUNTS[0], "us-east-1", 6)
    factory = SessionFactory(clock=lambda: now[0])
    asked = deny_assume_role(factory, set())  # denies nothing; records each AssumeRole
    source = AccountSource(role_arn=role(ACCOUNTS[0]), account_id=ACCOUNTS[0])
    records, summary = run(
        [source],
        factory,
        regions=["us-east-1"],
        options=CollectOptions(max_workers=1, with_tags=False),
        observer=AdvancingObserver(advance, 30 * 60),  # 6 jobs = 3 hours of 1-hour credentials
    )
    assert summary.exit_code == 0 and len(records) == 6
    assert len(asked) > 1
