"""Resolving --profile, role ARNs, account ids and --org into AccountSources (moto Organizations
and STS): partitions, duplicates, organization paging and failures, missing credentials."""

from __future__ import annotations

from typing import Any

import pytest
from accounts_helpers import ACCOUNTS, CALLER, create_org, role

from sagemaker_inventory.aws.accounts import AccountDiscoveryError
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.account_sources import resolve_account_sources
from sagemaker_inventory.collect.accounts import AccountInputError, AccountRequest, parse_role_arn
from sagemaker_inventory.collect.scopes import AccountSource


def test_profiles_alone_are_one_account_each() -> None:
    factory = SessionFactory()
    assert resolve_account_sources(AccountRequest(), factory) == [AccountSource()]
    request = AccountRequest(profiles=("a", "b"))
    assert resolve_account_sources(request, factory) == [
        AccountSource(profile="a"),
        AccountSource(profile="b"),
    ]


@pytest.mark.usefixtures("moto_aws")
def test_role_arns_and_ids_mean_exactly_those_accounts() -> None:
    request = AccountRequest(
        role_arns=(parse_role_arn(role(ACCOUNTS[0], "Custom")),),
        account_ids=(ACCOUNTS[1], ACCOUNTS[2], ACCOUNTS[1]),
        role_name="Inventory",
        external_id="ext-1",
        duration_seconds=1800,
    )
    sources = resolve_account_sources(request, SessionFactory())
    assert [s.role_arn for s in sources] == [
        role(ACCOUNTS[0], "Custom"),
        role(ACCOUNTS[1], "Inventory"),
        role(ACCOUNTS[2], "Inventory"),
    ]
    assert [s.account_id for s in sources] == list(ACCOUNTS)  # not the caller's own
    assert {(s.session_name, s.external_id, s.duration_seconds) for s in sources} == {
        ("smi-moto", "ext-1", 1800)
    }


@pytest.mark.usefixtures("moto_aws")
def test_account_ids_take_the_callers_partition() -> None:
    factory = SessionFactory()
    factory.session(None).register("before-call.sts.GetCallerIdentity", _china_caller)
    sources = resolve_account_sources(AccountRequest(account_ids=(ACCOUNTS[0],)), factory)
    assert (
        sources[0].role_arn == f"arn:aws-cn:iam::{ACCOUNTS[0]}:role/OrganizationAccountAccessRole"
    )


def _china_caller(**_: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    answer = {"Account": CALLER, "Arn": f"arn:aws-cn:iam::{CALLER}:user/li"}
    return AWSResponse("https://sts.invalid", 200, {}, None), answer


@pytest.mark.usefixtures("moto_aws")
def test_two_roles_for_one_account_are_refused() -> None:
    request = AccountRequest(
        role_arns=(parse_role_arn(role(ACCOUNTS[0], "A")),), account_ids=(ACCOUNTS[0],)
    )
    with pytest.raises(AccountInputError, match=f"account {ACCOUNTS[0]} is named twice"):
        resolve_account_sources(request, SessionFactory())


@pytest.mark.usefixtures("moto_aws")
def test_org_lists_active_accounts_minus_exclusions_and_the_caller_uses_its_own_keys() -> None:
    active, suspended = create_org(members=3, suspended=1)
    request = AccountRequest(org=True, exclude=frozenset({active[1]}))
    sources = resolve_account_sources(request, SessionFactory())
    assert [s.account_id for s in sources] == [CALLER, active[0], active[2]]
    assert sources[0] == AccountSource(account_id=CALLER)  # base credentials, no role
    assert [s.role_arn for s in sources[1:]] == [role(active[0]), role(active[2])]
    assert suspended[0] not in {s.account_id for s in sources}


@pytest.mark.usefixtures("moto_aws")
def test_org_pages_through_list_accounts() -> None:
    create_org(members=24)
    factory = SessionFactory()
    pages: list[int] = []
    factory.session(None).register(
        "before-call.organizations.ListAccounts", lambda **_: pages.append(1)
    )
    assert len(resolve_account_sources(AccountRequest(org=True), factory)) == 25
    assert len(pages) == 2


@pytest.mark.usefixtures("moto_aws")
def test_an_org_that_cannot_be_listed_is_a_discovery_error() -> None:
    from botocore.awsrequest import AWSResponse

    def refuse(**_: Any) -> Any:
        return AWSResponse("https://organizations.invalid", 400, {}, None), {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "You don't have permissions to access this resource.",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    factory = SessionFactory()
    factory.session(None).register("before-call.organizations.ListAccounts", refuse)
    with pytest.raises(AccountDiscoveryError, match="cannot list the organization's accounts"):
        resolve_account_sources(AccountRequest(org=True), factory)


def test_without_credentials_org_fails_but_roles_go_on_to_fail_per_scope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(AccountDiscoveryError, match="NoCredentials"):
        resolve_account_sources(AccountRequest(org=True), SessionFactory())
    request = AccountRequest(account_ids=(ACCOUNTS[0],))
    [source] = resolve_account_sources(request, SessionFactory(), ["cn-north-1"])
    assert source.role_arn == f"arn:aws-cn:iam::{ACCOUNTS[0]}:role/OrganizationAccountAccessRole"
    assert source.session_name == "smi-inventory"


def test_a_given_session_name_needs_no_caller_lookup() -> None:
    # No moto here: a GetCallerIdentity would be refused by the loopback guard.
    request = AccountRequest(role_arns=(parse_role_arn(role(ACCOUNTS[0])),), session_name="nightly")
    [source] = resolve_account_sources(request, SessionFactory())
    assert source.session_name == "nightly"
