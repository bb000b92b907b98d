"""Which accounts a run covers: role ARNs, account ids, accounts files and AWS Organizations.

Parsing and validation are pure and raise AccountInputError naming the bad value (and file:line
for accounts files). `resolve_account_sources` turns an AccountRequest into AccountSources; its
only AWS calls are STS GetCallerIdentity (the caller's partition, account and a default role
session name) and, for `--org`, Organizations ListAccounts, both with the base credentials.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sagemaker_inventory.errors import ScopeError, describe_failure
from sagemaker_inventory.scopes import AccountSource

if TYPE_CHECKING:
    from sagemaker_inventory.sessions import SessionFactory

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"
ACTIVE = "ACTIVE"
ORG_PAGE_SIZE = 20  # ListAccounts' maximum

_ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
_PARTITION = r"aws(?:-[a-z]+)*"
# IAM: a role name is [\w+=,.@-]{1,64}; a path is "/" or "/segments/" of printable ASCII.
_ROLE_NAME = r"[\w+=,.@-]{1,64}"
_ROLE_PATH = r"(?:[\x21-\x7e]*/)?"
_ROLE_ARN = re.compile(
    rf"arn:(?P<partition>{_PARTITION}):iam::(?P<account>\d{{12}}):role/"
    rf"(?P<name>{_ROLE_PATH}{_ROLE_NAME})",
    re.ASCII,
)
_ROLE_NAME_OPTION = re.compile(rf"/?{_ROLE_PATH}{_ROLE_NAME}", re.ASCII)
# STS: RoleSessionName is [\w+=,.@-]{2,64}; ExternalId is [\w+=,.@:/-]{2,1224}.
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_SESSION_NAME_CHAR = re.compile(r"[^\w+=,.@-]", re.ASCII)
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_COMMENT = re.compile(r"(?:^|\s)#.*$")


class AccountInputError(ValueError):
    """A malformed role ARN, account id, role name or accounts-file line; the message names it."""


class AccountDiscoveryError(RuntimeError):
    """The accounts could not be listed (e.g. ListAccounts denied): nothing can be collected."""

    def __init__(self, what: str, error: ScopeError) -> None:
        super().__init__(f"{what}: {error.code}: {error.message}")
        self.error = error


@dataclass(frozen=True)
class RoleArn:
    """An IAM role ARN, split into the parts smi needs."""

    partition: str
    account_id: str
    name: str  # path included, e.g. "ops/Inventory"

    def __str__(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.name}"


@dataclass(frozen=True)
class Caller:
    """Who the base credentials are (STS GetCallerIdentity)."""

    account_id: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


@dataclass(frozen=True)
class OrgAccount:
    """One account of an AWS Organization as ListAccounts returns it."""

    account_id: str
    name: str
    status: str


@dataclass(frozen=True)
class AccountRequest:
    """Everything the user said about which accounts to cover and how to reach them."""

    profiles: tuple[str, ...] = ()
    role_arns: tuple[RoleArn, ...] = ()
    account_ids: tuple[str, ...] = ()
    org: bool = False
    role_name: str = DEFAULT_ROLE_NAME
    exclude: frozenset[str] = field(default_factory=frozenset)
    external_id: str | None = None
    session_name: str | None = None
    duration_seconds: int | None = None

    @property
    def assumes_roles(self) -> bool:
        return bool(self.role_arns or self.account_ids or self.org)

    @property
    def base_profile(self) -> str | None:
        """The profile whose credentials list accounts and assume roles (None: default chain)."""
        return self.profiles[0] if self.profiles else None


def parse_account_id(text: str) -> str:
    value = text.strip()
    if not _ACCOUNT_ID.fullmatch(value):
        raise AccountInputError(f"{text!r} is not an AWS account id (12 digits)")
    return value


def parse_role_arn(text: str) -> RoleArn:
    match = _ROLE_ARN.fullmatch(text.strip())
    if match is None:
        raise AccountInputError(
            f"{text!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
        )
    return RoleArn(match["partition"], match["account"], match["name"])


def parse_account(text: str) -> str | RoleArn:
    """An account id or a role ARN, whichever `text` is."""
    value = text.strip()
    if value.startswith("arn:"):
        return parse_role_arn(value)
    if _ACCOUNT_ID.fullmatch(value):
        return value
    raise AccountInputError(f"{text!r} is neither an AWS account id (12 digits) nor a role ARN")


def parse_role_name(text: str) -> str:
    """A role name for `arn:...:role/<name>`, optionally with a path ("ops/Inventory")."""
    if not _ROLE_NAME_OPTION.fullmatch(text):
        raise AccountInputError(f"{text!r} is not an IAM role name")
    return text.lstrip("/")


def parse_session_name(text: str) -> str:
    if not _SESSION_NAME.fullmatch(text):
        raise AccountInputError(
            f"{text!r} is not a role session name (2-64 of letters, digits and +=,.@_-)"
        )
    return text


def parse_external_id(text: str) -> str:
    if not _EXTERNAL_ID.fullmatch(text):
        raise AccountInputError(
            f"{text!r} is not an external id (2-1224 of letters, digits and +=,.@:/_-)"
        )
    return text


def read_accounts(lines: Iterable[str], name: str) -> list[str | RoleArn]:
    """Account ids and role ARNs, one per line; blank lines and `#` comments are ignored.

    A bad line raises AccountInputError naming `name:line` and the value.
    """
    entries: list[str | RoleArn] = []
    for number, line in enumerate(lines, start=1):
        value = _COMMENT.sub("", line).strip()
        if not value:
            continue
        try:
            entries.append(parse_account(value))
        except AccountInputError as exc:
            raise AccountInputError(f"{name}:{number}: {exc}") from None
    return entries


def read_accounts_file(path: str, stdin: TextIO | None = None) -> list[str | RoleArn]:
    """`read_accounts` of a file, or of stdin when `path` is "-".

    An unreadable file raises AccountInputError naming it and why.
    """
    if path == "-":
        return read_accounts(stdin or sys.stdin, "<stdin>")
    try:
        with Path(path).open(encoding="utf-8") as stream:
            return read_accounts(stream, path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AccountInputError(f"cannot read accounts file {path!r}: {reason}") from None


def role_arn_for(account_id: str, role_name: str, partition: str) -> RoleArn:
    return RoleArn(partition, account_id, role_name)


def default_session_name(caller_arn: str) -> str:
    """`smi-<who>` from the caller's ARN (user name, or the caller's own role session name),
    cut to STS's rules so that CloudTrail shows who ran the inventory."""
    who = caller_arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return sanitize_session_name(f"smi-{who}")


def sanitize_session_name(text: str) -> str:
    cleaned = _SESSION_NAME_CHAR.sub("-", text)[:64]
    return cleaned if len(cleaned) >= 2 else "smi"


def caller_identity(sts_client: Any) -> Caller:
    answer = sts_client.get_caller_identity()
    return Caller(str(answer["Account"]), str(answer["Arn"]))


def iter_org_accounts(organizations_client: Any) -> Iterator[OrgAccount]:
    """Every account of the caller's organization, page by page (ListAccounts)."""
    pages = organizations_client.get_paginator("list_accounts").paginate(
        PaginationConfig={"PageSize": ORG_PAGE_SIZE}
    )
    for page in pages:
        for account in page.get("Accounts", []):
            yield OrgAccount(str(account["Id"]), str(account.get("Name", "")), _status(account))


def _status(account: dict[str, Any]) -> str:
    # ListAccounts reports `State` (ACTIVE, SUSPENDED, PENDING_CLOSURE, ...) next to the
    # deprecated `Status`; prefer the newer field where present.
    return str(account.get("State") or account.get("Status") or "")


def resolve_account_sources(
    request: AccountRequest, factory: SessionFactory, region_hint: str | None = None
) -> list[AccountSource]:
    """The AccountSources `request` names, in order, without duplicates.

    Without role options each profile (or the default chain) is one account. With them the
    accounts are exactly the roles, ids and organization accounts named, reached from the base
    profile; with `--org` the caller's own account is collected with the base credentials.
    `region_hint` (a region of the run) picks the partition when the profile names no region.
    """
    if not request.assumes_roles:
        return [AccountSource(profile=p) for p in request.profiles] or [AccountSource()]
    if len(request.profiles) > 1:
        raise AccountInputError(
            "with role ARNs, account ids or --org, --profile names the one set of base"
            f" credentials; got {len(request.profiles)} profiles"
        )
    caller = _caller_if_needed(request, factory, region_hint)
    partition = caller.partition if caller else _partition_of(request, region_hint)
    session_name = request.session_name or (
        default_session_name(caller.arn) if caller else "smi-inventory"
    )
    roles = list(request.role_arns)
    roles += [role_arn_for(a, request.role_name, partition) for a in request.account_ids]
    if request.org and caller is not None:
        roles += _org_roles(request, factory, caller)
    return _sources(_unique(roles, request.exclude), request, caller, session_name)


def _caller_if_needed(
    request: AccountRequest, factory: SessionFactory, region_hint: str | None
) -> Caller | None:
    """The caller, when the organization, a partition or a session name depends on it.

    Only `--org` cannot do without it. Otherwise an unknown caller means every AssumeRole will
    fail on its own, and each scope then reports why, which says more than one early error.
    """
    if request.org:
        return _caller(request, factory, region_hint)
    if request.session_name is not None and not request.account_ids:
        return None
    try:
        return _caller(request, factory, region_hint)
    except AccountDiscoveryError:
        return None


def _caller(request: AccountRequest, factory: SessionFactory, region_hint: str | None) -> Caller:
    try:
        region = factory.home_region(request.base_profile, _hint_partition(region_hint))
        sts = factory.client(factory.session(request.base_profile), "sts", region)
        return caller_identity(sts)
    except Exception as exc:
        raise AccountDiscoveryError("cannot identify the caller", describe_failure(exc)) from exc


def _org_roles(request: AccountRequest, factory: SessionFactory, caller: Caller) -> list[RoleArn]:
    try:
        region = factory.home_region(request.base_profile, caller.partition)
        client = factory.client(factory.session(request.base_profile), "organizations", region)
        accounts = list(iter_org_accounts(client))
    except Exception as exc:
        raise AccountDiscoveryError(
            "cannot list the organization's accounts", describe_failure(exc)
        ) from exc
    # Suspended and closing accounts cannot be assumed into; they are never tried.
    return [
        role_arn_for(a.account_id, request.role_name, caller.partition)
        for a in accounts
        if a.status == ACTIVE
    ]


def _unique(roles: Sequence[RoleArn], exclude: frozenset[str]) -> list[RoleArn]:
    """First role per account, excluded accounts dropped; two different roles for one account
    would collect its jobs twice, so that is an input error."""
    chosen: dict[str, RoleArn] = {}
    for role in roles:
        if role.account_id in exclude:
            continue
        earlier = chosen.setdefault(role.account_id, role)
        if earlier != role:
            raise AccountInputError(
                f"account {role.account_id} is named twice, as {earlier} and as {role}"
            )
    return list(chosen.values())


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


def _hint_partition(region: str | None) -> str:
    if region is None:
        return "aws"
    from sagemaker_inventory.regions import UnknownRegionError, partition_of

    try:
        return partition_of(region)
    except UnknownRegionError:
        return "aws"


def _partition_of(request: AccountRequest, region_hint: str | None) -> str:
    """Without a caller: the partition of the ARNs given, else of the run's regions."""
    if request.role_arns:
        return request.role_arns[0].partition
    return _hint_partition(region_hint)
