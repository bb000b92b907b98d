"""How fast one API operation may be called: learnt from the service's answers, whatever the shape
of its rate limit.

Services limit a rate in several shapes: a token bucket with a burst (most AWS APIs), a sliding or
fixed one-second window, and allowances shared with other tools that shrink for a few seconds and
come back. Under a window limit the accepted requests come in clumps, so a rate measured over a
fraction of a second (or "since the last cut") reads zero and collapses to nothing; botocore's
adaptive mode has the same weakness (a smoothed rate sampled every half second, cut by 0.7 on every
throttled answer however many were already in flight, with one CUBIC curve per client climbing back
from what is left). `AdaptiveRate` instead:

- measures the accepted rate over a whole second (`horizon`), long enough to hold a full window;
- on a throttle, cuts the limit to `backoff` x itself but never below that accepted rate, and never
  above the limit it had: sending a little too fast costs throttled answers, sending too slowly
  costs throughput;
- cuts at most once per congestion epoch, as TCP does: a throttled answer to a request sent before
  the last cut says nothing new (32 workers may have many requests in flight);
- climbs back along a CUBIC curve (concave below the target, convex above: fast far from it, slow
  near it, then probing for more) towards the best rate the service accepted over the last
  `memory` seconds, so that an allowance that dropped for a few seconds and came back is found
  again within a second or two rather than a minute.

Until the service has been watched for a whole horizon its allowance is unknown, and the limit
doubles every `doubling` seconds until the next throttle (TCP's slow start).

Who paces, who retries, who backs off, for each request smi sends:

1. `pacing.Pacer` paces: before every HTTP attempt (botocore's `before-send`, so retries too) the
   operation's `pacing.OperationPace` grants a slot at the rate `AdaptiveRate.limit` allows (and
   below any `--rate` cap), and after every answer (`needs-retry`) tells the estimator whether it
   was throttled and when that request was sent. Nothing else waits for capacity: the clients run
   botocore's "standard" retry mode, not "adaptive", whose per-client limiter would pace every
   operation at the rate of the most throttled one.
2. botocore retries: a throttled attempt is retried up to 10 attempts in all, while its retry
   quota lasts (500 per client, 5 taken per throttled retry, 1 given back per success). Its
   full-jitter exponential delay is skipped for throttled answers (`retry_waits`): the retry
   waits for its slot in the Pacer instead, since a delay on top only stretched a run's tail.
   Other retryable errors wait that delay, cancellably. Keeping throttled answers a small share
   of the requests keeps the quota full.
3. `fetch.ThrottleRetry` retries what botocore gave up on (10 attempts spent or its quota empty),
   with full-jitter delays of its own, so that throttling slows a run down but never drops a job.
   Its waits, and the Pacer's, end at once when the run is cancelled.

Layers 1 and 2 as written are set up on each scope's SageMaker and tagging clients, one Pacer per
account x region (`scope_clients`). The run's few other calls get less: STS and Organizations have
botocore's retries with its own backoff, then layer 3; the Price List (`smi report --cost`) has
botocore's retries only, a few quick attempts (`pricing.MAX_ATTEMPTS`). The other retry settings
are `sessions.ClientOptions`'s. Every retry of a run, botocore's or ThrottleRetry's, is counted in
a `metering.ApiMeter` (the scope's, an account's, or the run's discovery calls) for the run
summary.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class AdaptiveRate:
    """The send rate one operation can sustain, learnt from throttled and accepted answers.

    Unlimited until the first throttle. Not thread-safe: `pacing.OperationPace` locks it.
    """

    # A throttled epoch cuts the limit to 0.7 x itself, but not below the accepted rate: where the
    # service lets through what it allows, the cut lands on that rate (0.7 only matters when the
    # allowance has just dropped well below the limit).
    backoff: float = 0.7
    # CUBIC's constant relative to the target rate: from 0.9 x the target the curve is back at it
    # in (0.1 / 0.2) ** (1/3) = 0.8 s, and from 0.3 x in 1.5 s, whatever the rate.
    scale: float = 0.2
    floor: float = 0.5
    horizon: float = 1.0
    memory: float = 10.0
    doubling: float = 0.25  # slow start's doubling time
    # Below `sample` requests a second, the rate is measured over the last `sample` accepted
    # requests (a second holds too few to tell 2/s from 3/s), and the curve is stretched in time so
    # that a probing cycle still spans about `sample` requests: each throttle costs a retry.
    sample: int = 10
    _accepted: deque[float] = field(default_factory=deque)
    _first: float | None = None
    _start: float | None = None  # the limit right after the last cut
    _cut_at: float = -math.inf
    _target: float | None = None  # the best rate accepted within `memory`: CUBIC's W_max
    _samples: deque[tuple[float, float]] = field(default_factory=deque)

    def limit(self, now: float) -> float | None:
        """Requests per second allowed at `now`; None while no throttle has been seen."""
        if self._start is None:
            return None
        elapsed = max(0.0, now - self._cut_at)
        if self._target is None:
            # Slow start, but never more than twice what the service is accepting.
            doubled = self._start * math.pow(2.0, elapsed / self.doubling)
            return min(doubled, 2.0 * max(self.accepted_rate(now), self._start))
        plateau = max(self._target, self._start)
        constant = self.scale * plateau
        k = math.pow((plateau - self._start) / constant, 1.0 / 3.0)
        elapsed /= max(1.0, self.sample / plateau)
        return max(self.floor, plateau + constant * (elapsed - k) ** 3)

    def accepted(self, now: float) -> None:
        """The service answered a request (any answer but a throttle)."""
        if self._first is None:
            self._first = now
        self._accepted.append(now)
        self._forget(now)

    def throttled(self, now: float, sent: float | None = None) -> None:
        """The service refused, for its rate, a request sent at `sent` (default: `now`)."""
        if (now if sent is None else sent) < self._cut_at:
            return  # sent before the last cut: the same congestion epoch
        self._forget(now)
        measured = self.accepted_rate(now)
        current = self.limit(now)
        cut = measured if current is None else min(current, max(self.backoff * current, measured))
        self._start, self._cut_at = max(self.floor, cut), now
        if self._first is not None and now - self._first >= self.horizon:
            self._samples.append((now, measured))
        while self._samples and self._samples[0][0] < now - self.memory:
            self._samples.popleft()
        self._target = max((rate for _, rate in self._samples), default=None)

    def accepted_rate(self, now: float) -> float:
        """Accepted requests per second over the last `horizon` seconds, or over the last
        `sample` accepted requests when they go further back (at most `memory` seconds)."""
        self._forget(now)
        if not self._accepted:
            return 0.0
        span = now - self._accepted[0]
        if span <= self.horizon:
            return len(self._accepted) / self.horizon
        return (len(self._accepted) - 1) / span  # the intervals between them

    def _forget(self, now: float) -> None:
        accepted = self._accepted
        while accepted and (
            accepted[0] <= now - self.memory
            or (len(accepted) > self.sample and accepted[0] <= now - self.horizon)
        ):
            accepted.popleft()
