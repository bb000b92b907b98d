"""The AWS side of choosing accounts: the organization's accounts (Organizations ListAccounts).

`active_account_ids` lists them with the base credentials, counted in the run's `Identities`
meters and retried when throttled; who the caller is comes from `identity`. What the user asked
for becomes accounts in `collect.account_sources`, which composes these calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import FailureReason, describe_failure
from sagemaker_inventory.aws.fetch import ThrottleRetry, resumable_pages

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory

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


def active_account_ids(
    factory: SessionFactory, base_profile: str | None, partition: str
) -> list[str]:
    """The ids of the organization's active accounts, listed with `base_profile`'s credentials
    from the partition's home region. Raises AccountDiscoveryError when they cannot be listed."""
    meter = factory.identities.meter(None)
    try:
        region = factory.home_region(base_profile, partition)
        client = factory.client(factory.session(base_profile), "organizations", region)
        meter.attach(client)
        accounts = list(iter_org_accounts(client, ThrottleRetry(on_retry=meter.add_retry)))
    except Exception as exc:
        raise AccountDiscoveryError(
            "cannot list the organization's accounts", describe_failure(exc)
        ) from exc
    # Suspended and closing accounts cannot be assumed into; they are never tried.
    return [a.account_id for a in accounts if a.status == ACTIVE]
