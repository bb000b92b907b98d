"""The shapes of rate limit a service applies, for the fake endpoint and for the tests' simulations.

A token bucket with a burst (most AWS APIs), a sliding one-second window, fixed one-second
windows, and any of them under an allowance that drops to a fraction for a few seconds and comes
back (another tool sharing the quota). A refused request uses up nothing. Each limiter is told the
time rather than reading a clock, so a simulation can drive it with a virtual one, and says how
many requests it would have admitted at most between two moments: the yardstick of a client's
accepted fraction.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Protocol

SHAPES = ("bucket", "sliding", "fixed", "shrinking")


@dataclass(frozen=True)
class Schedule:
    """The allowance over time (seconds since the limiter started): `rate` requests/s, except
    `drop_to` x `rate` for `lasting` seconds from `at` on, again every `every` seconds (0: once)."""

    rate: float
    drop_to: float = 1.0
    at: float = 0.0
    lasting: float = 0.0
    every: float = 0.0

    def __post_init__(self) -> None:
        if self.rate <= 0 or not 0 <= self.drop_to <= 1 or self.lasting < 0 or self.at < 0:
            raise ValueError(f"bad schedule {self}")
        if self.every and self.every < self.lasting:
            raise ValueError(f"drops every {self.every} s cannot last {self.lasting} s")

    def rate_at(self, t: float) -> float:
        return self.rate * (self.drop_to if self._dropped(t) else 1.0)

    def integral(self, start: float, end: float) -> float:
        """Requests allowed between `start` and `end`: the rate integrated over them."""
        if end <= start:
            return 0.0
        dropped = sum(
            max(0.0, min(end, b) - max(start, a)) for a, b in self._drops_until(end) if b > start
        )
        return self.rate * ((end - start) - (1.0 - self.drop_to) * dropped)

    def _dropped(self, t: float) -> bool:
        if not self.lasting or t < self.at:
            return False
        since = t - self.at
        return (since % self.every if self.every else since) < self.lasting

    def _drops_until(self, end: float) -> list[tuple[float, float]]:
        if not self.lasting:
            return []
        if not self.every:
            return [(self.at, self.at + self.lasting)]
        count = max(0, math.ceil((end - self.at) / self.every))
        return [
            (self.at + k * self.every, self.at + k * self.every + self.lasting)
            for k in range(count)
        ]


class Limiter(Protocol):
    def admit(self, now: float) -> bool:
        """Whether a request arriving at `now` is served (else: ThrottlingException)."""
        ...

    def allowance(self, start: float, end: float) -> float:
        """The most requests this limiter admits between `start` and `end` (both included)."""
        ...


class BucketLimit:
    """A token bucket: the schedule's rate refills it, `burst` tokens at most, full at the start."""

    def __init__(self, schedule: Schedule, burst: float, start: float) -> None:
        self.schedule, self.capacity, self.start = schedule, max(1.0, burst), start
        self.tokens, self.stamp = self.capacity, start

    def admit(self, now: float) -> bool:
        now = max(now, self.stamp)
        refill = self.schedule.integral(self.stamp - self.start, now - self.start)
        self.tokens, self.stamp = min(self.capacity, self.tokens + refill), now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def allowance(self, start: float, end: float) -> float:
        return self.capacity + self.schedule.integral(start - self.start, end - self.start)


class SlidingWindowLimit:
    """At most the schedule's rate x `window` requests admitted in any `window` seconds."""

    def __init__(self, schedule: Schedule, start: float, window: float = 1.0) -> None:
        self.schedule, self.start, self.window = schedule, start, window
        self.admitted: deque[float] = deque()

    def admit(self, now: float) -> bool:
        while self.admitted and self.admitted[0] <= now - self.window:
            self.admitted.popleft()
        if len(self.admitted) < self._limit(now):
            self.admitted.append(now)
            return True
        return False

    def allowance(self, start: float, end: float) -> float:
        # A client sending each window's worth at once, one window apart, gets the most.
        steps = math.floor((end - start) / self.window + 1e-9) + 1
        return float(sum(self._limit(start + k * self.window) for k in range(steps)))

    def _limit(self, now: float) -> int:
        # At least one a window: a rate below 1/window would admit nothing at all.
        return max(1, math.floor(self.schedule.rate_at(now - self.start) * self.window + 1e-9))


class FixedWindowLimit:
    """At most the schedule's rate x `window` requests in each window [start + k x window, ...)."""

    def __init__(self, schedule: Schedule, start: float, window: float = 1.0) -> None:
        self.schedule, self.start, self.window = schedule, start, window
        self.counts: Counter[int] = Counter()

    def admit(self, now: float) -> bool:
        index = self._index(now)
        if self.counts[index] < self._limit(index):
            self.counts[index] += 1
            self.counts.pop(index - 2, None)  # windows long gone
            return True
        return False

    def allowance(self, start: float, end: float) -> float:
        indexes = range(self._index(start), self._index(end) + 1)
        return float(sum(self._limit(index) for index in indexes))

    def _index(self, now: float) -> int:
        return math.floor((now - self.start) / self.window)

    def _limit(self, index: int) -> int:
        rate = self.schedule.rate_at(index * self.window)
        return max(1, math.floor(rate * self.window + 1e-9))


@dataclass(frozen=True)
class LimitShape:
    """Which limiter an operation gets: the shape and the drops of its allowance.

    "shrinking" is a token bucket whose allowance drops `drop_to` x for `lasting` seconds from
    `at`, every `every` seconds; the other shapes keep their rate unless given drops too.
    """

    shape: str = "bucket"
    drop_to: float = 1.0
    at: float = 0.0
    lasting: float = 0.0
    every: float = 0.0

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"unknown limit shape {self.shape!r}: expected one of {SHAPES}")

    def limiter(self, rate: float, burst: float, start: float) -> Limiter:
        """A limiter of `rate` requests/s started at `start` (a bucket holds `burst` at most)."""
        schedule = Schedule(rate, self.drop_to, self.at, self.lasting, self.every)
        if self.shape == "sliding":
            return SlidingWindowLimit(schedule, start)
        if self.shape == "fixed":
            return FixedWindowLimit(schedule, start)
        return BucketLimit(schedule, min(burst, rate), start)

    def describe(self, rate: float, burst: float) -> str:
        """One line saying what the service allows, e.g. for the benchmark's header."""
        base = {
            "bucket": f"token bucket {rate:g}/s, burst {min(burst, rate):g}",
            "shrinking": f"token bucket {rate:g}/s, burst {min(burst, rate):g}",
            "sliding": f"sliding 1 s window of {rate:g}",
            "fixed": f"fixed 1 s windows of {rate:g}",
        }[self.shape]
        if not self.lasting or self.drop_to == 1.0:
            return base
        again = f", every {self.every:g} s" if self.every else ""
        return f"{base}; {self.drop_to:.0%} for {self.lasting:g} s at {self.at:g} s{again}"


# "shrinking" unless told otherwise: down to 30% for 3 s, 2 s in, and again every 8 s.
SHRINKING_DEFAULTS = {"drop_to": 0.3, "at": 2.0, "lasting": 3.0, "every": 8.0}


def limit_shape(
    shape: str,
    drop_to: float | None = None,
    at: float | None = None,
    lasting: float | None = None,
    every: float | None = None,
) -> LimitShape:
    """The shape named on a command line; drops not given take SHRINKING_DEFAULTS for
    "shrinking" and apply to the other shapes only when given."""
    given = {"drop_to": drop_to, "at": at, "lasting": lasting, "every": every}
    drops = {k: v for k, v in given.items() if v is not None}
    if shape == "shrinking":
        drops = SHRINKING_DEFAULTS | drops
    return LimitShape(shape, **drops)


def add_limit_arguments(parser: argparse.ArgumentParser) -> None:
    """The command-line options choosing the shape of the limit (fake_endpoint.py, bench.py)."""
    group = parser.add_argument_group("shape of the rate limit")
    group.add_argument(
        "--limit-shape",
        choices=SHAPES,
        default="bucket",
        help="token bucket (with --burst), sliding or fixed 1 s windows, or a token bucket whose "
        "allowance drops and comes back (default: bucket)",
    )
    drops = {
        "--shrink-to": "fraction of the rate left while dropped (shrinking: 0.3)",
        "--shrink-at": "seconds after an operation's first request when it first drops (2)",
        "--shrink-for": "seconds each drop lasts (3)",
        "--shrink-every": "seconds from one drop to the next; 0 = once (8)",
    }
    for flag, text in drops.items():
        group.add_argument(flag, type=float, metavar="X", help=text)


def limit_shape_from(args: argparse.Namespace) -> LimitShape:
    return limit_shape(
        args.limit_shape, args.shrink_to, args.shrink_at, args.shrink_for, args.shrink_every
    )
