"""smi's describe phase against a rate limit of any shape, simulated in virtual time.

`simulate` runs `workers` describe workers through one real `OperationPace` (its token bucket and
its `AdaptiveRate`) against one of the fake endpoint's limiters (scripts/fake_limits.py), with
botocore's standard retries (full-jitter backoff, 10 attempts, the 500-unit retry quota) and smi's
ThrottleRetry behind them, as discrete events on a virtual clock: no thread, no sleep, and the same
answer on every run for a given seed. What it returns is measured as scripts/bench.py measures a
real run: accepted requests over what the limiter allowed between the first and last accepted one.
"""

from __future__ import annotations

import heapq
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sagemaker_inventory.aws.adaptive_rate import AdaptiveRate
from sagemaker_inventory.aws.pacing import OperationPace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from fake_limits import Limiter, limit_shape  # scripts/ is not a package

__all__ = ["Phase", "limit_shape", "simulate"]

BOTOCORE_MAX_ATTEMPTS = 10
QUOTA = 500  # botocore's RetryQuota: 5 taken per throttled retry, 1 back per first-try success
RECHECK = 0.1  # TokenBucket's default: a waiting worker looks at its ticket this often


class VirtualClock:
    """The pace's clock: whatever time the simulation is at."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        raise AssertionError("simulated workers wait as events, never in sleep()")


@dataclass
class Phase:
    """What the service saw of one simulated describe phase."""

    accepted: int = 0
    throttled: int = 0
    first_ok: float | None = None
    last_ok: float = 0.0
    allowed: float = 0.0
    outer_retries: int = 0  # throttles that got past botocore to ThrottleRetry
    accepted_at: list[float] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """Accepted requests over what the limiter allowed between the first and last of them."""
        return self.accepted / self.allowed

    @property
    def throttled_share(self) -> float:
        return self.throttled / (self.accepted + self.throttled)


@dataclass
class _Worker:
    sent: float = 0.0
    attempt: int = 1  # botocore's attempt number within one call
    outer: int = 0  # ThrottleRetry's attempt number
    quota_taken: int = 0
    ticket: int | None = None


class _Simulation:
    def __init__(
        self, limiter: Limiter, pace: OperationPace, clock: VirtualClock, latency: float, seed: int
    ) -> None:
        self.limiter, self.pace, self.clock, self.latency = limiter, pace, clock, latency
        self.random = random.Random(seed)
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = 0
        self.quota = QUOTA
        self.cpu_free = 0.0
        self.phase = Phase()

    def at(self, time: float, kind: str, worker: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (time, self.seq, kind, worker))

    def run(self, jobs: int, workers: int, client_rate: float) -> Phase:
        state = [_Worker() for _ in range(workers)]
        started = min(jobs, workers)
        for w in range(started):
            self.at(0.0, "want", w)
        while self.events:
            now, _, kind, w = heapq.heappop(self.events)
            self.clock.now = now
            worker = state[w]
            if kind == "want":
                worker.ticket = self.pace.take()
                kind = "check"
            if kind == "check":
                due = now if worker.ticket is None else self.pace.due(worker.ticket)
                if due > now:
                    self.at(min(due, now + RECHECK), "check", w)
                    continue
                # One process sends at most `client_rate` requests a second (its CPU).
                worker.sent = max(now, self.cpu_free)
                self.cpu_free = worker.sent + 1.0 / client_rate
                self.at(worker.sent + self.latency / 2, "arrive", w)
            elif kind == "arrive":
                ok = self.limiter.admit(now)
                self.at(now + self.latency / 2, "ok" if ok else "throttled", w)
                if ok:
                    self.phase.accepted += 1
                    self.phase.first_ok = (
                        now if self.phase.first_ok is None else self.phase.first_ok
                    )
                    self.phase.last_ok = now
                    self.phase.accepted_at.append(now)
                else:
                    self.phase.throttled += 1
            elif kind == "ok":
                self.pace.answered(False, worker.sent)
                self.quota = min(QUOTA, self.quota + (worker.quota_taken or 1))
                state[w] = _Worker()
                if started < jobs:
                    started += 1
                    self.at(now, "want", w)
            else:
                self.pace.answered(True, worker.sent)
                self.at(now + self.backoff(worker), "want", w)
        assert self.phase.first_ok is not None
        self.phase.allowed = self.limiter.allowance(self.phase.first_ok, self.phase.last_ok)
        return self.phase

    def backoff(self, worker: _Worker) -> float:
        """botocore's delay before its next attempt, or ThrottleRetry's once botocore gave up."""
        if worker.attempt < BOTOCORE_MAX_ATTEMPTS and self.quota >= 5:
            self.quota -= 5
            worker.quota_taken = 5
            delay = self.random.random() * min(2.0 ** (worker.attempt - 1), 20.0)
            worker.attempt += 1
            return delay
        self.phase.outer_retries += 1
        delay = self.random.uniform(0, min(20.0, 0.5 * 2.0**worker.outer))
        worker.outer += 1
        worker.attempt, worker.quota_taken = 1, 0
        return delay


def simulate(
    limiter: Limiter,
    jobs: int = 1000,
    workers: int = 32,
    latency: float = 0.03,
    client_rate: float = 250.0,
    seed: int = 1,
    cap: float | None = None,
    estimator: AdaptiveRate | None = None,
) -> Phase:
    """One describe phase of `jobs` jobs through a fresh adaptive OperationPace (capped at `cap`;
    learning with `estimator`, default a new AdaptiveRate)."""
    clock = VirtualClock()
    pace = OperationPace(cap, adaptive=True, clock=clock, sleep=clock.sleep)
    pace.rate = estimator or pace.rate
    return _Simulation(limiter, pace, clock, latency, seed).run(jobs, workers, client_rate)
