"""Identity that does not hang on one region (moto): STS refused in one region is asked in the
next; refused everywhere, the run still collects (accounts from the records' ARNs); throttled STS
and Organizations calls are retried and counted in the run report's discovery and accounts.

A session-level `before-send` hook answers STS (query protocol, XML) or Organizations (JSON)
errors in place of moto, chosen by the region in the request's signature, so that botocore's retry
logic sees them exactly as it would see AWS's.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import types
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from accounts_helpers import ACCOUNTS, CALLER, REGIONS, create_org, role, seed_accounts

import sagemaker_inventory.aws.fetch
from sagemaker_inventory.aws.identity import identity_regions
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.account_sources import resolve_account_sources
from sagemaker_inventory.collect.accounts import AccountRequest, parse_role_arn
from sagemaker_inventory.collect.outcome import RunSummary
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import run_inventory
from sagemaker_inventory.collect.scopes import AccountSource, build_scopes

pytestmark = pytest.mark.usefixtures("moto_aws")

_SIGNED_REGION = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def sts_error(code: str, status: int) -> Any:
    from botocore.awsrequest import AWSResponse

    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{code} from a test</Message>"
        "</Error><RequestId>r</RequestId></ErrorResponse>"
    ).encode()
    return AWSResponse("https://sts.invalid", status, {"Content-Type": "text/xml"}, Body(body))


def json_error(code: str) -> Any:
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"__type": code, "Message": f"{code} from a test"}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    return AWSResponse("https://organizations.invalid", 400, headers, Body(body))


class Faults:
    """Answers `operation` with an error in `regions` (None: every region), `times` times each
    (None: always); counts what it answered."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, set[str] | None, Any, int | None]] = []
        self.answered: Counter[str] = Counter()
        self.lock = threading.Lock()

    def add(
        self, operation: str, answer: Any, regions: set[str] | None = None, times: int | None = None
    ) -> Faults:
        self.rules.append((operation, regions, answer, times))
        return self

    def __call__(self, event_name: str, request: Any, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]
        found = _SIGNED_REGION.search(str(request.headers.get("Authorization", b""), "utf-8"))
        region = found.group(1) if found else ""
        for rule_operation, regions, answer, times in self.rules:
            if rule_operation != operation or (regions is not None and region not in regions):
                continue
            with self.lock:
                if times is not None and self.answered[operation] >= times:
                    return None
                self.answered[operation] += 1
            return answer
        return None


def faulty_factory(faults: Faults) -> SessionFactory:
    factory = SessionFactory()
    # On the base session: every client built from it (the identity's, AssumeRole's) inherits it,
    # ahead of moto's own before-send handler.
    factory.session(None).get_component("event_emitter").register_first("before-send", faults)
    return factory


@pytest.fixture(autouse=True)
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    no_jitter = types.SimpleNamespace(uniform=lambda low, high: 0.0)
    monkeypatch.setattr(sagemaker_inventory.aws.fetch, "random", no_jitter)


def collect(
    sources: list[AccountSource], factory: SessionFactory, regions: list[str] = REGIONS
) -> tuple[list[dict[str, Any]], RunSummary]:
    records: list[dict[str, Any]] = []
    options = CollectOptions(max_workers=2, with_tags=False)
    summary = run_inventory(build_scopes(sources, regions), factory, options, records.append)
    return records, summary


def test_sts_is_asked_in_the_configured_then_the_home_then_the_requested_regions() -> None:
    assert identity_regions(["eu-west-1", None], ["ap-south-1", "eu-west-1"]) == [
        "eu-west-1",
        "us-east-1",
        "ap-south-1",
    ]
    assert identity_regions([None, None], ["cn-northwest-1"]) == ["cn-north-1", "cn-northwest-1"]
    assert identity_regions([None, "us-gov-east-1"], []) == ["us-gov-east-1", "us-gov-west-1"]
    assert identity_regions([None], []) == ["us-east-1"]


def test_one_regions_sts_refusing_does_not_fail_the_account() -> None:
    # Regression: STS was asked in the first region only; its refusal failed every region (exit 1).
    seed_accounts([CALLER])
    faults = Faults().add("GetCallerIdentity", sts_error("AccessDenied", 403), {"us-east-1"})
    factory = faulty_factory(faults)
    records, summary = collect([AccountSource()], factory)
    assert summary.exit_code == 0
    assert [(s.account_id, s.status, s.jobs) for s in summary.scopes] == [
        (CALLER, "ok", 2),
        (CALLER, "ok", 2),
    ]
    assert len(records) == 4
    [account] = summary.accounts
    assert account.api_calls == {"GetCallerIdentity": 2}  # refused in us-east-1, then eu-west-1
    assert factory.identities.sts_region(None) == "eu-west-1"


def test_scopes_start_before_sts_has_named_the_account() -> None:
    # STS was asked before any scope began: its client and round trip delayed every run.
    seed_accounts([CALLER])
    listed = threading.Event()
    sts_waited_for_a_scope: list[bool] = []

    def hold_sts_until_a_scope_lists(event_name: str, **_: Any) -> None:
        if event_name.endswith(".ListTrainingJobs"):
            listed.set()
        elif event_name.endswith(".GetCallerIdentity"):
            sts_waited_for_a_scope.append(listed.wait(10))

    factory = SessionFactory()
    emitter = factory.session(None).get_component("event_emitter")
    emitter.register_first("before-send", hold_sts_until_a_scope_lists)
    records, summary = collect([AccountSource()], factory)
    assert sts_waited_for_a_scope == [True]
    assert [(s.account_id, s.status) for s in summary.scopes] == [(CALLER, "ok"), (CALLER, "ok")]
    assert len(records) == 4 and summary.accounts[0].api_calls == {"GetCallerIdentity": 1}


def test_a_region_denied_for_sts_and_sagemaker_is_the_only_scope_that_fails() -> None:
    seed_accounts([CALLER])
    faults = Faults().add("GetCallerIdentity", sts_error("AccessDenied", 403), {"us-east-1"})
    factory = _deny_sagemaker_in(faulty_factory(faults), "us-east-1")
    records, summary = collect([AccountSource()], factory)
    assert summary.exit_code == 3
    assert [(s.account_id, s.region, s.status) for s in summary.scopes] == [
        (CALLER, "us-east-1", "failed"),
        (CALLER, "eu-west-1", "ok"),
    ]
    assert len(records) == 2 and {r["account_id"] for r in records} == {CALLER}


def _deny_sagemaker_in(factory: SessionFactory, region: str) -> SessionFactory:
    from test_inventory import client_error

    original = factory.client
    denied = client_error("AccessDeniedException", "explicit deny in a service control policy")

    def client(session: Any, service: str, client_region: str) -> Any:
        made = original(session, service, client_region)
        if service == "sagemaker" and client_region == region:
            made.meta.events.register("before-call.sagemaker.ListTrainingJobs", denied)
        return made

    factory.client = client  # type: ignore[method-assign]
    return factory


def test_sts_refusing_everywhere_still_collects_with_accounts_from_the_arns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_accounts([CALLER])
    faults = Faults().add("GetCallerIdentity", sts_error("InvalidClientTokenId", 403))
    package = logging.getLogger("sagemaker_inventory")  # the CLI may have stopped propagation
    package.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.WARNING, logger="sagemaker_inventory"):
            records, summary = collect([AccountSource()], faulty_factory(faults))
    finally:
        package.removeHandler(caplog.handler)
    assert summary.exit_code == 0
    assert len(records) == 4 and {r["account_id"] for r in records} == {CALLER}
    assert [s.account_id for s in summary.scopes] == [CALLER, CALLER]  # learned from the ARNs
    assert faults.answered["GetCallerIdentity"] == 2  # us-east-1 (home), eu-west-1; once each
    assert "STS answered in none of us-east-1, eu-west-1" in caplog.text


def test_roles_are_assumed_through_the_sts_region_that_answered() -> None:
    seed_accounts(ACCOUNTS[:2])
    faults = (
        Faults()
        .add("GetCallerIdentity", sts_error("AccessDenied", 403), {"us-east-1"})
        .add("AssumeRole", sts_error("AccessDenied", 403), {"us-east-1"})
    )
    factory = faulty_factory(faults)
    request = AccountRequest(account_ids=ACCOUNTS[:2])
    records, summary = collect(resolve_account_sources(request, factory, REGIONS), factory)
    assert summary.exit_code == 0 and len(records) == 8
    assert faults.answered["AssumeRole"] == 0  # never sent to the refusing region
    assert summary.discovery.api_calls == {"GetCallerIdentity": 2}
    assert [a.api_calls for a in summary.accounts] == [{"AssumeRole": 1}] * 2


def test_org_with_sts_refusing_everywhere_reaches_every_account_through_the_role() -> None:
    active, _ = create_org(members=2)
    seed_accounts(active)
    faults = Faults().add("GetCallerIdentity", sts_error("AccessDenied", 403), {"us-east-1"})
    faults.add("GetCallerIdentity", sts_error("AccessDenied", 403), {"eu-west-1"})
    factory = faulty_factory(faults)
    sources = resolve_account_sources(AccountRequest(org=True), factory, REGIONS)
    # The caller's own account is unknown, so it too is reached through the role (where that
    # role is missing, only that account's scopes fail).
    assert [s.role_arn for s in sources] == [role(a) for a in [CALLER, *active]]
    records, summary = collect(sources, factory)
    assert summary.exit_code == 0
    assert {r["account_id"] for r in records} == set(active)


def test_throttled_sts_and_organizations_calls_are_retried_and_counted() -> None:
    active, _ = create_org(members=2)
    seed_accounts(active, ["us-east-1"])
    # 12 in a row: more than botocore's 10 attempts, so smi's own ThrottleRetry takes over too.
    faults = (
        Faults()
        .add("GetCallerIdentity", sts_error("Throttling", 400), times=12)
        .add("ListAccounts", json_error("TooManyRequestsException"), times=12)
        .add("AssumeRole", sts_error("Throttling", 400), times=12)
    )
    factory = faulty_factory(faults)
    request = AccountRequest(org=True, role_arns=(parse_role_arn(role(active[0])),))
    sources = resolve_account_sources(request, factory, ["us-east-1"])
    records, summary = collect(sources, factory, ["us-east-1"])
    assert summary.exit_code == 0 and {r["account_id"] for r in records} == set(active)
    assert summary.discovery.api_calls == {"GetCallerIdentity": 13, "ListAccounts": 13}
    assert summary.discovery.retries == 24
    assumed = {a.account_id: a for a in summary.accounts}
    assert sum(a.api_calls.get("AssumeRole", 0) for a in summary.accounts) == 2 + 12
    assert sum(a.retries for a in summary.accounts) == 12
    assert assumed[CALLER].api_calls == {}  # the caller's own account needs no role
