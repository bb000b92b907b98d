"""Scopes: the accounts x regions one run covers, and how each account's credentials are obtained.

Pure data: nothing here talks to AWS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountSource:
    """Where one account's credentials come from: the default chain, a named profile, or a role."""

    profile: str | None = None
    role_arn: str | None = None
    account_id: str | None = None  # known up front for roles; resolved through STS otherwise

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
