"""Scopes: the accounts x regions one run covers, and how each account's credentials are obtained.

Pure data: nothing here talks to AWS. An account is reached either through credentials of its own
(a named profile, or the default chain) or by assuming a role from base credentials; the source
says which, and carries what AssumeRole needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountSource:
    """Where one account's credentials come from: the default chain, a named profile, or a role.

    With `role_arn` set, the role is assumed from `base_profile`'s credentials (None: the default
    chain) and `profile` is unused; `external_id`, `session_name` and `duration_seconds` are passed
    to AssumeRole. `account_id` is known up front for roles; otherwise STS resolves it.
    """

    profile: str | None = None
    role_arn: str | None = None
    account_id: str | None = None
    base_profile: str | None = None
    external_id: str | None = None
    session_name: str | None = None
    duration_seconds: int | None = None

    @property
    def label(self) -> str:
        if self.role_arn:
            return self.role_arn
        if self.profile:
            return f"profile {self.profile}"
        return "default credentials"


@dataclass(frozen=True)
class Scope:
    """One account x one region."""

    source: AccountSource
    region: str


def build_scopes(sources: Sequence[AccountSource], regions: Iterable[str]) -> list[Scope]:
    """Every source x region, account-major, in the order given (so output order is predictable)."""
    region_list = list(regions)
    return [Scope(source, region) for source in sources for region in region_list]
