"""What a run tells its snapshot when it commits: when the run began, and for each account x region
whether this run collected it in full (its records replace the old ones) or not (the old ones are
carried over, and reported stale). Plain data of the snapshot's own: the run (`collect/`) builds
it from its summary, so the snapshot depends on no part of the run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ScopeOutcome:
    """One account x region of the run, as the snapshot needs it."""

    account_id: str | None  # None: the account could not even be identified
    region: str
    collected: bool  # every record of the scope came from this run
    reused: int = 0  # records taken from the snapshot without DescribeTrainingJob


@dataclass(frozen=True)
class RunOutcome:
    """The run being committed: its start (the sidecar's "refreshed") and its scopes in order."""

    started: datetime
    scopes: Sequence[ScopeOutcome]
