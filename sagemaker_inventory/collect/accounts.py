"""Which accounts a run covers, as the user said it: role ARNs, account ids, role names, accounts
files, and the rules that tie them together (one role per account, --shard's cut).

Pure: no AWS call. A malformed value raises AccountInputError naming it (and file:line for
accounts files); `aws.accounts.resolve_account_sources` asks AWS what it must (the caller, the
organization) to turn an AccountRequest into AccountSources.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sagemaker_inventory.collect.scopes import AccountSource
from sagemaker_inventory.collect.sharding import Shard
from sagemaker_inventory.records.arns import parse_arn

DEFAULT_ROLE_NAME = "OrganizationAccountAccessRole"

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
# How much of a bad value a message quotes: an accounts file line can be megabytes long.
SHOWN_CHARS = 200


class AccountInputError(ValueError):
    """A malformed role ARN, account id, role name or accounts-file line; the message names it."""


@dataclass(frozen=True)
class RoleArn:
    """An IAM role ARN, split into the parts smi needs."""

    partition: str
    account_id: str
    name: str  # path included, e.g. "ops/Inventory"

    def __str__(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{self.name}"


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
    shard: Shard | None = None  # --shard: only the accounts of this shard

    @property
    def assumes_roles(self) -> bool:
        return bool(self.role_arns or self.account_ids or self.org)

    @property
    def base_profile(self) -> str | None:
        """The profile whose credentials list accounts and assume roles (None: default chain)."""
        return self.profiles[0] if self.profiles else None


def shown(text: str) -> str:
    """`text` quoted for a message, cut to SHOWN_CHARS characters."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}... ({len(text):,} characters)"


def parse_account_id(text: str) -> str:
    value = text.strip()
    if not _ACCOUNT_ID.fullmatch(value):
        raise AccountInputError(f"{shown(text)} is not an AWS account id (12 digits)")
    return value


def parse_role_arn(text: str) -> RoleArn:
    """A role ARN in a partition botocore knows (a typo such as `aws-us-gvo` is an input error,
    not a run-time failure of every AssumeRole)."""
    from sagemaker_inventory.aws.regions import known_partitions

    match = _ROLE_ARN.fullmatch(text.strip())
    if match is None:
        raise AccountInputError(
            f"{shown(text)} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
        )
    partitions = known_partitions()
    if match["partition"] not in partitions:
        raise AccountInputError(
            f"{shown(text)}: unknown partition {match['partition']!r}"
            f" (known: {', '.join(sorted(partitions))})"
        )
    return RoleArn(match["partition"], match["account"], match["name"])


def parse_account(text: str) -> str | RoleArn:
    """An account id or a role ARN, whichever `text` is."""
    value = text.strip()
    if value.startswith("arn:"):
        return parse_role_arn(value)
    if _ACCOUNT_ID.fullmatch(value):
        return value
    raise AccountInputError(
        f"{shown(text)} is neither an AWS account id (12 digits) nor a role ARN"
    )


def parse_role_name(text: str) -> str:
    """A role name for `arn:...:role/<name>`, optionally with a path ("ops/Inventory")."""
    if not _ROLE_NAME_OPTION.fullmatch(text):
        raise AccountInputError(f"{shown(text)} is not an IAM role name")
    return text.lstrip("/")


def parse_session_name(text: str) -> str:
    if not _SESSION_NAME.fullmatch(text):
        raise AccountInputError(
            f"{shown(text)} is not a role session name (2-64 of letters, digits and +=,.@_-)"
        )
    return text


def parse_external_id(text: str) -> str:
    if not _EXTERNAL_ID.fullmatch(text):
        raise AccountInputError(
            f"{shown(text)} is not an external id (2-1224 of letters, digits and +=,.@:/_-)"
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
        return _some_accounts(read_accounts(stdin or sys.stdin, "<stdin>"), "<stdin>")
    try:
        with Path(path).open(encoding="utf-8") as stream:
            return _some_accounts(read_accounts(stream, path), path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AccountInputError(f"cannot read accounts file {path!r}: {reason}") from None


def _some_accounts(entries: list[str | RoleArn], name: str) -> list[str | RoleArn]:
    # An empty list would mean "no role options", i.e. the caller's own account: never silently.
    if not entries:
        raise AccountInputError(
            f"accounts file {name} names no account (only blank lines and comments)"
        )
    return entries


def role_arn_for(account_id: str, role_name: str, partition: str) -> RoleArn:
    return RoleArn(partition, account_id, role_name)


def default_session_name(caller_arn: str) -> str:
    """`smi-<who>` from the caller's ARN (user name, or the caller's own role session name),
    cut to STS's rules so that CloudTrail shows who ran the inventory."""
    who = parse_arn(caller_arn).resource.rsplit("/", 1)[-1]
    return sanitize_session_name(f"smi-{who}")


def sanitize_session_name(text: str) -> str:
    cleaned = _SESSION_NAME_CHAR.sub("-", text)[:64]
    return cleaned if len(cleaned) >= 2 else "smi"


def shard_sources(sources: Sequence[AccountSource], shard: Shard) -> list[AccountSource]:
    """The sources whose account is `shard`'s. An account STS could not identify (a profile's)
    is placed by its label instead, so that exactly one shard collects it."""
    return [s for s in sources if shard.owns(s.account_id or s.label)]


def unique_roles(roles: Sequence[RoleArn], exclude: frozenset[str]) -> list[RoleArn]:
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
