"""A run's outcome: one ScopeResult per account x region scope, the calls made outside any scope,
and the RunSummary that decides the run's exit code (`run_summary` shows it and writes --report).

`run.run_inventory` and `processes.run_scopes` (one process or many) both end by assembling the
same RunSummary here: `fail_skips_of_unreachable_accounts`, then `account_calls_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sagemaker_inventory.aws.errors import FailureReason
from sagemaker_inventory.exit_codes import ExitCode

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory
    from sagemaker_inventory.collect.scopes import AccountSource, Scope

OK, FAILED, SKIPPED = "ok", "failed", "skipped"
CANCELLED = FailureReason("Cancelled", "the run was stopped before this scope finished")


@dataclass
class ScopeResult:
    """How one account x region went."""

    account_id: str | None
    region: str
    status: str = OK
    jobs: int = 0
    skipped: int = 0
    reused: int = 0  # records CollectOptions.reuse still found current: no DescribeTrainingJob
    api_calls: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    seconds: float = 0.0
    tag_path: str | None = None
    error: FailureReason | None = None
    skipped_jobs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApiCalls:
    """Requests sent per operation (retries included) and how many were retries."""

    api_calls: dict[str, int] = field(default_factory=dict)
    retries: int = 0


@dataclass(frozen=True)
class AccountCalls(ApiCalls):
    """The calls one account's credentials made outside any one region: AssumeRole (and its
    renewals), the GetCallerIdentity naming a profile's account."""

    account_id: str | None = None
    source: str = ""


@dataclass
class RunSummary:
    """The outcome of a run: one ScopeResult per scope, in scope order; the run's discovery
    calls (who the caller is, the organization's accounts) and each account's own calls."""

    started: datetime
    finished: datetime
    scopes: list[ScopeResult]
    discovery: ApiCalls = field(default_factory=ApiCalls)
    accounts: list[AccountCalls] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return sum(s.jobs for s in self.scopes)

    @property
    def exit_code(self) -> ExitCode:
        """OK: every scope collected (also when there were none, e.g. an empty --shard);
        PARTIAL: some failed, others not; else NOTHING_COLLECTED."""
        if not self.scopes:
            return ExitCode.OK
        failed = sum(s.status == FAILED for s in self.scopes)
        collected = sum(s.status == OK for s in self.scopes)
        if failed == 0 and collected > 0:
            return ExitCode.OK
        return ExitCode.PARTIAL if collected else ExitCode.NOTHING_COLLECTED

    @property
    def failures(self) -> list[ScopeResult]:
        return [s for s in self.scopes if s.status != OK]


def fail_skips_of_unreachable_accounts(scopes: Sequence[Scope], results: list[ScopeResult]) -> None:
    """A "region not enabled" answer only means that when the account works elsewhere; if no
    region of the account answered, its credentials are the problem, so those scopes failed."""
    reachable = {s.source for s, r in zip(scopes, results, strict=True) if r.status == OK}
    for scope, result in zip(scopes, results, strict=True):
        if result.status == SKIPPED and scope.source not in reachable:
            result.status = FAILED


def account_calls_of(
    factory: SessionFactory,
    scopes: Sequence[Scope],
    accounts: dict[AccountSource, str | None],
    results: Sequence[ScopeResult],
) -> tuple[ApiCalls, list[AccountCalls]]:
    """The run's discovery calls, and each account's own (AssumeRole, GetCallerIdentity)."""
    identities = factory.identities
    learned = {s.source: r.account_id for s, r in zip(scopes, results, strict=True)}
    calls = []
    for source in dict.fromkeys(s.source for s in scopes):
        meter = identities.meter(source.label)
        calls.append(
            AccountCalls(
                api_calls=meter.requests(),
                retries=meter.retries(),
                account_id=accounts.get(source) or learned.get(source),
                source=source.label,
            )
        )
    run = identities.meter(None)
    return ApiCalls(run.requests(), run.retries()), calls
