"""The account options of `smi collect` (--profile, --role-arn, --accounts-file, --org, ...).

`account_options` adds the options to a command and hands the command one `accounts` argument, an
AccountRequest checked at parse time (a malformed ARN, account id or file line, an unreadable file:
exit 2 naming the value). `resolve_sources` then asks AWS what it must (the caller, the
organization) and returns the AccountSources; an unknown profile is exit 2, an organization that
cannot be listed exit 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from sagemaker_inventory.cli.bundles import option_bundle
from sagemaker_inventory.cli.choices import completer, profile_names
from sagemaker_inventory.cli.common import ParamType
from sagemaker_inventory.collect.accounts import (
    DEFAULT_ROLE_NAME,
    AccountInputError,
    AccountRequest,
    RoleArn,
    parse_account_id,
    parse_external_id,
    parse_role_arn,
    parse_role_name,
    parse_session_name,
    read_accounts_file,
)
from sagemaker_inventory.collect.sharding import Shard, ShardError, parse_shard

if TYPE_CHECKING:
    from botocore.session import Session

    from sagemaker_inventory.aws.sessions import SessionFactory
    from sagemaker_inventory.collect.scopes import AccountSource

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

# Options that only mean something when roles are assumed.
ROLE_ONLY = {
    "external_id": "--external-id",
    "role_session_name": "--role-session-name",
    "duration_seconds": "--duration-seconds",
    "exclude_accounts": "--exclude-account",
}


class _Checked(ParamType[T]):
    """A string option checked by one of accounts' parse_* functions."""

    def __init__(self, name: str, parse: Callable[[str], T]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> T:
        if not isinstance(value, str):
            return cast(T, value)  # a default, already converted
        try:
            return self._parse(value)
        except AccountInputError as exc:
            self.fail(str(exc), param, ctx)


ROLE_ARN = _Checked("ARN", parse_role_arn)
ACCOUNT_ID = _Checked("ACCOUNT_ID", parse_account_id)
ROLE_NAME = _Checked("NAME", parse_role_name)
SESSION_NAME = _Checked("NAME", parse_session_name)
EXTERNAL_ID = _Checked("ID", parse_external_id)


class _ShardType(ParamType[Shard]):
    """K/N or auto (read from the scheduler's environment at parse time)."""

    name = "K/N|auto"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Shard:
        if not isinstance(value, str):
            return cast(Shard, value)  # a default, already converted
        try:
            return parse_shard(value, os.environ)
        except ShardError as exc:
            self.fail(str(exc), param, ctx)


def _read_file(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> list[str | RoleArn]:
    if value is None:
        return []
    try:
        return read_accounts_file(value, sys.stdin)
    except AccountInputError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


_OPTIONS = (
    click.option(
        "--profile",
        "profiles",
        multiple=True,
        metavar="NAME",
        shell_complete=completer(profile_names),
        help="AWS profile; repeat for more accounts (one account each). With --role-arn,"
        " --accounts-file or --org: the base credentials roles are assumed from.",
    ),
    click.option(
        "--role-arn",
        "role_arns",
        multiple=True,
        type=ROLE_ARN,
        help="Assume this role and inventory its account; repeatable.",
    ),
    click.option(
        "--accounts-file",
        metavar="FILE",
        callback=_read_file,
        help="Account ids or role ARNs, one per line (# comments); '-' reads stdin.",
    ),
    click.option(
        "--role-name",
        type=ROLE_NAME,
        default=DEFAULT_ROLE_NAME,
        show_default=True,
        help="Role assumed in accounts given by id and in --org accounts.",
    ),
    click.option(
        "--org",
        is_flag=True,
        help="Every ACTIVE account of the caller's AWS Organization (ListAccounts).",
    ),
    click.option(
        "--exclude-account",
        "exclude_accounts",
        multiple=True,
        type=ACCOUNT_ID,
        help="Skip this account id; repeatable.",
    ),
    click.option("--external-id", type=EXTERNAL_ID, help="ExternalId passed to AssumeRole."),
    click.option(
        "--role-session-name",
        type=SESSION_NAME,
        help="RoleSessionName for AssumeRole. Default: smi-<caller name>.",
    ),
    click.option(
        "--duration-seconds",
        type=click.IntRange(900, 43200),
        metavar="SECONDS",
        help="Lifetime of assumed-role credentials (they are renewed before they expire).",
    ),
    click.option(
        "--shard",
        type=_ShardType(),
        metavar="K/N|auto",
        help="Only the accounts a stable hash of their id puts in shard K of N (K from 0)."
        " auto: K from JOB_COMPLETION_INDEX (Kubernetes) or AWS_BATCH_JOB_ARRAY_INDEX"
        " (AWS Batch), N from SMI_SHARDS.",
    ),
)
_NAMES = (
    "profiles",
    "role_arns",
    "accounts_file",
    "role_name",
    "org",
    "exclude_accounts",
    "external_id",
    "role_session_name",
    "duration_seconds",
    "shard",
)


def account_options(command: F) -> F:
    """Add the account options; the command receives them as one `accounts: AccountRequest`."""
    return option_bundle(_OPTIONS, _NAMES, "accounts", account_request)(command)


def account_request(
    profiles: Sequence[str] = (),
    role_arns: Sequence[RoleArn] = (),
    accounts_file: Sequence[str | RoleArn] = (),
    role_name: str = DEFAULT_ROLE_NAME,
    org: bool = False,
    exclude_accounts: Sequence[str] = (),
    external_id: str | None = None,
    role_session_name: str | None = None,
    duration_seconds: int | None = None,
    shard: Shard | None = None,
) -> AccountRequest:
    """The checked option values as one AccountRequest; contradictions are usage errors."""
    from_file = list(accounts_file)
    request = AccountRequest(
        profiles=tuple(dict.fromkeys(profiles)),
        role_arns=(*role_arns, *(e for e in from_file if isinstance(e, RoleArn))),
        account_ids=tuple(e for e in from_file if isinstance(e, str)),
        org=org,
        role_name=role_name,
        exclude=frozenset(exclude_accounts),
        external_id=external_id,
        session_name=role_session_name,
        duration_seconds=duration_seconds,
        shard=shard,
    )
    if not request.assumes_roles:
        given = {
            "external_id": external_id,
            "role_session_name": role_session_name,
            "duration_seconds": duration_seconds,
            "exclude_accounts": exclude_accounts,
        }
        for name, value in given.items():
            if value:
                raise click.UsageError(
                    f"{ROLE_ONLY[name]} applies to assumed roles: add --role-arn,"
                    " --accounts-file or --org"
                )
    if request.assumes_roles and len(request.profiles) > 1:
        raise click.UsageError(
            "with --role-arn, --accounts-file or --org, --profile names the base credentials"
            " roles are assumed from: give it at most once"
        )
    return request


def resolve_sources(
    accounts: AccountRequest, factory: SessionFactory, regions: Sequence[str]
) -> list[AccountSource]:
    """The accounts to inventory. Exit 2 for an unknown profile or conflicting accounts, exit 1
    (nothing can be collected) when the caller or the organization cannot be read."""
    from sagemaker_inventory.aws.accounts import AccountDiscoveryError
    from sagemaker_inventory.collect.account_sources import resolve_account_sources

    check_profiles(factory, accounts.profiles)
    try:
        return resolve_account_sources(accounts, factory, regions)
    except AccountInputError as exc:
        raise click.UsageError(str(exc)) from None
    except AccountDiscoveryError as exc:
        raise click.ClickException(str(exc)) from None


def check_profiles(factory: SessionFactory, profiles: Iterable[str]) -> None:
    """Raise click.BadParameter naming the first profile the AWS config files do not define, a
    usage error for a config file or retry setting botocore would refuse; no profile: the
    default chain's."""
    for profile in profiles or (None,):
        profile_session(factory, profile)


def profile_session(factory: SessionFactory, profile: str | None) -> Session:
    """The session of `profile` (None: the default chain); a usage error (exit 2) naming the
    profile or the config file when the AWS config files cannot give it."""
    from sagemaker_inventory.aws import profiles
    from sagemaker_inventory.aws.profiles import ConfigFileError, UnknownProfileError

    try:
        return profiles.profile_session(factory, profile)
    except ConfigFileError as exc:
        # A malformed ~/.aws/config (or AWS_CONFIG_FILE) is bad input, not a crash.
        raise click.UsageError(str(exc)) from None
    except UnknownProfileError as exc:
        known = _known_profiles()
        if profile is None:
            # The default chain named a profile through the environment, not --profile.
            variable = _profile_variable()
            raise click.UsageError(
                f"{variable}={exc.profile!r} names no profile in the AWS config"
                f" files{known}: fix or unset {variable}, or pass --profile"
            ) from None
        raise click.BadParameter(
            f"no such profile: {profile!r}{known}", param_hint="'--profile'"
        ) from None


def _profile_variable() -> str:
    return "AWS_PROFILE" if os.environ.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"


def _known_profiles() -> str:
    """ " (known profiles: a, b)" from the config files, for a message about an unknown one."""
    from sagemaker_inventory.aws.profiles import profile_names

    try:
        names = profile_names()
    except Exception:
        return ""
    return f" (known profiles: {', '.join(names)})" if names else " (none is defined)"
