"""Scopes: the accounts x regions one run covers, and how each account's credentials are obtained.

Pure data: nothing here talks to AWS. An account is reached either through credentials of its own
(a named profile, or the default chain) or by assuming a role from base credentials; the source
says which, and carries what AssumeRole needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The AWS edge's own type (aws/ never imports collect/); re-exported here for the run's modules.
from sagemaker_inventory.aws.account_source import AccountSource

__all__ = ["AccountSource", "Scope", "build_scopes"]


@dataclass(frozen=True)
class Scope:
    """One account x one region."""

    source: AccountSource
    region: str


def build_scopes(sources: Sequence[AccountSource], regions: Iterable[str]) -> list[Scope]:
    """Every source x region, account-major, in the order given (so output order is predictable)."""
    region_list = list(regions)
    return [Scope(source, region) for source in sources for region in region_list]
