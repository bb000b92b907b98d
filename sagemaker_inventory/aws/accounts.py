"""The AWS side of choosing accounts: who the caller is, the organization's accounts.

`resolve_account_sources` turns an AccountRequest (parsed and checked, without AWS, in
`collect.accounts`) into AccountSources, cut to its `--shard`; its only AWS calls are STS
GetCallerIdentity (the caller's partition, account and a default role session name; with --shard,
each profile's account) asked region by region (see `identity`) and, for `--org`, Organizations
ListAccounts, all with the base credentials, counted in the run's `Identities` meters and retried
when throttled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import FailureReason, describe_failure
from sagemaker_inventory.aws.fetch import ThrottleRetry, resumable_pages
from sagemaker_inventory.aws.identity import Caller, IdentityUnknown, partition_of_regions
from sagemaker_inventory.collect.accounts import (
    AccountInputError,
    AccountRequest,
    RoleArn,
    default_session_name,
    role_arn_for,
    shard_sources,
    unique_roles,
)
from sagemaker_inventory.collect.scopes import AccountSource

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory

logger = logging.getLogger(__name__)

ACTIVE = "ACTIVE"
ORG_PAGE_SIZE = 20  # ListAccounts' maximum


class AccountDiscoveryError(RuntimeError):
    """The accounts could not be listed (e.g. ListAccounts denied): nothing can be collected."""

    def __init__(self, what: str, error: FailureReason) -> None:
        super().__init__(f"{what}: {error.code}: {error.message}")
        self.error = error


@dataclass(frozen=True)
class OrgAccount:
    """One account of an AWS Organization as ListAccounts returns it."""

    account_id: str
    name: str
    status: str


def iter_org_accounts(
    organizations_client: Any, retry: ThrottleRetry | None = None
) -> Iterator[OrgAccount]:
    """Every account of the caller's organization, page by page (ListAccounts); a page still
    throttled after botocore's retries is asked again."""
    pages = resumable_pages(
        organizations_client, "list_accounts", {}, "NextToken", retry, page_size=ORG_PAGE_SIZE
    )
    for page in pages:
        for account in page.get("Accounts", []):
            yield OrgAccount(str(account["Id"]), str(account.get("Name", "")), _status(account))


def _status(account: dict[str, Any]) -> str:
    # ListAccounts reports `State` (ACTIVE, SUSPENDED, PENDING_CLOSURE, ...) next to the
    # deprecated `Status`; prefer the newer field where present.
    return str(account.get("State") or account.get("Status") or "")


def resolve_account_sources(
    request: AccountRequest, factory: SessionFactory, regions: Sequence[str] = ()
) -> list[AccountSource]:
    """The AccountSources `request` names, in order, without duplicates, cut to its --shard.

    Without role options each profile (or the default chain) is one account. With them the
    accounts are exactly the roles, ids and organization accounts named, reached from the base
    profile; with `--org` the caller's own account is collected with the base credentials.
    `regions` (the run's) pick the partition when the caller cannot be identified, and are
    among the regions whose STS is asked who the caller is.
    """
    sources = _all_sources(request, factory, regions)
    if request.shard is None:
        return sources
    return shard_sources(_identified(sources, factory, regions), request.shard)


def _all_sources(
    request: AccountRequest, factory: SessionFactory, regions: Sequence[str]
) -> list[AccountSource]:
    if not request.assumes_roles:
        return [AccountSource(profile=p) for p in request.profiles] or [AccountSource()]
    if len(request.profiles) > 1:
        raise AccountInputError(
            "with role ARNs, account ids or --org, --profile names the one set of base"
            f" credentials; got {len(request.profiles)} profiles"
        )
    caller = _caller_if_needed(request, factory, regions)
    partition = caller.partition if caller else _partition_of(request, regions)
    session_name = request.session_name or (
        default_session_name(caller.arn) if caller else "smi-inventory"
    )
    roles = list(request.role_arns)
    roles += [role_arn_for(a, request.role_name, partition) for a in request.account_ids]
    if request.org:
        roles += _org_roles(request, factory, partition)
    return _sources(unique_roles(roles, request.exclude), request, caller, session_name)


def _identified(
    sources: Sequence[AccountSource], factory: SessionFactory, regions: Sequence[str]
) -> list[AccountSource]:
    """The sources with their account ids: a profile's comes from STS (once per profile)."""
    return [_identified_source(s, factory, regions) for s in sources]


def _identified_source(
    source: AccountSource, factory: SessionFactory, regions: Sequence[str]
) -> AccountSource:
    if source.account_id is not None:
        return source
    try:
        caller = factory.identities.caller(factory, source.profile, regions, source.label)
    except IdentityUnknown as exc:
        logger.warning("cannot tell the account of %s (%s): shard by its name", source.label, exc)
        return source
    return replace(source, account_id=caller.account_id)


def _caller_if_needed(
    request: AccountRequest, factory: SessionFactory, regions: Sequence[str]
) -> Caller | None:
    """The caller, when the organization, a partition or a session name depends on it.

    None when no region's STS would say: the run goes on with the partition of the ARNs or of
    the regions, and the organization's accounts all reached through the role; any AssumeRole
    that then fails is reported by its scopes, which says more than one early error.
    """
    if request.session_name is not None and not request.account_ids and not request.org:
        return None
    try:
        return factory.identities.caller(factory, request.base_profile, regions, None)
    except IdentityUnknown as exc:
        logger.warning("cannot identify the caller, going on without: %s", exc)
        return None


def _org_roles(request: AccountRequest, factory: SessionFactory, partition: str) -> list[RoleArn]:
    meter = factory.identities.meter(None)
    try:
        region = factory.home_region(request.base_profile, partition)
        client = factory.client(factory.session(request.base_profile), "organizations", region)
        meter.attach(client)
        accounts = list(iter_org_accounts(client, ThrottleRetry(on_retry=meter.add_retry)))
    except Exception as exc:
        raise AccountDiscoveryError(
            "cannot list the organization's accounts", describe_failure(exc)
        ) from exc
    # Suspended and closing accounts cannot be assumed into; they are never tried.
    return [
        role_arn_for(a.account_id, request.role_name, partition)
        for a in accounts
        if a.status == ACTIVE
    ]


def _sources(
    roles: Sequence[RoleArn], request: AccountRequest, caller: Caller | None, session_name: str
) -> list[AccountSource]:
    sources = []
    for role in roles:
        if request.org and caller is not None and role.account_id == caller.account_id:
            # The caller's own account needs no role (and seldom has the member-account role).
            sources.append(
                AccountSource(profile=request.base_profile, account_id=caller.account_id)
            )
            continue
        sources.append(
            AccountSource(
                role_arn=str(role),
                account_id=role.account_id,
                base_profile=request.base_profile,
                external_id=request.external_id,
                session_name=session_name,
                duration_seconds=request.duration_seconds,
            )
        )
    return sources


def _partition_of(request: AccountRequest, regions: Sequence[str]) -> str:
    """Without a caller: the partition of the ARNs given, else of the run's regions."""
    if request.role_arns:
        return request.role_arns[0].partition
    return partition_of_regions(regions)
