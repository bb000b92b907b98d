"""Which accounts a run covers: an AccountRequest turned into AccountSources, cut to its --shard.

`resolve_account_sources` composes the request (parsed and checked, without AWS, in
`collect.accounts`) with the AWS edge's answers: STS GetCallerIdentity (the caller's partition,
account and a default role session name; with --shard, each profile's account) asked region by
region (`aws.identity`) and, for `--org`, Organizations ListAccounts (`aws.accounts`), all with
the base credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sagemaker_inventory.aws.account_source import AccountSource
from sagemaker_inventory.aws.accounts import active_account_ids
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

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory

logger = logging.getLogger(__name__)


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
    ids = active_account_ids(factory, request.base_profile, partition)
    return [role_arn_for(account, request.role_name, partition) for account in ids]


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
