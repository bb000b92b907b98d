"""The send rate of each API operation per account x region: learnt from throttling, and capped.

botocore's adaptive retry mode paces a whole client: every operation shares one limiter, so a
throttled ListTrainingJobs (a low per-account rate) slows DescribeTrainingJob down too. A `Pacer`
(one per account x region) gives each operation its own adaptive rate instead -- unlimited until
the service throttles it, then backing off and climbing again (CUBIC) -- bounded by optional caps
from `--rate OPERATION=N` for users who share a quota with other tools. It waits in botocore's
`before-send` event, so every HTTP attempt, retries included, takes a slot, and learns in
`needs-retry`, which sees every answer. Use it with retry mode "standard" (not "adaptive").
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagemaker_inventory.errors import THROTTLING_CODES

# The services whose operations smi calls; a cap naming any other operation is a typo.
PACED_SERVICES = ("sagemaker", "resourcegroupstaggingapi")


class BadRateError(ValueError):
    """A `--rate` value that is not OPERATION=N with a known operation and a positive N."""


@dataclass(frozen=True)
class RateCaps:
    """Requests per second allowed per API operation (botocore's CamelCase operation names)."""

    rates: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, values: Iterable[str]) -> RateCaps:
        """Caps from repeated `OPERATION=N` strings; the last value given for an operation wins."""
        rates: dict[str, float] = {}
        for value in values:
            operation, rate = _parse_one(value)
            rates[operation] = rate
        return cls(rates)

    def __bool__(self) -> bool:
        return bool(self.rates)


def _parse_one(value: str) -> tuple[str, float]:
    name, sep, number = value.partition("=")
    if not sep or not name.strip() or not number.strip():
        raise BadRateError(f"{value!r}: expected OPERATION=N, e.g. DescribeTrainingJob=20")
    operation = canonical_operation(name.strip())
    if operation is None:
        raise BadRateError(
            f"{value!r}: unknown operation {name.strip()!r} "
            f"(expected a SageMaker or tagging API name, e.g. DescribeTrainingJob)"
        )
    try:
        rate = float(number)
    except ValueError:
        raise BadRateError(f"{value!r}: {number.strip()!r} is not a number") from None
    if not math.isfinite(rate) or rate <= 0:
        raise BadRateError(f"{value!r}: the rate must be a positive number of requests/s")
    return operation, rate


def canonical_operation(name: str) -> str | None:
    """The model's spelling of an operation name given in any case, or None if no service has it."""
    return _known_operations().get(name.lower())


@functools.cache
def _known_operations() -> dict[str, str]:
    import botocore.session

    session = botocore.session.get_session()
    names: dict[str, str] = {}
    for service in PACED_SERVICES:
        for operation in session.get_service_model(service).operation_names:
            names[operation.lower()] = operation
    return names


class TokenBucket:
    """A thread-safe token bucket: `rate` tokens a second, at most `burst` saved up.

    Each caller reserves the next free slot under the lock and sleeps outside it, so waiting
    threads are served in arrival order and never wake together (GCRA: one "theoretical arrival
    time" instead of a token count). The rate may change at any time; it applies from the next
    reservation on.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: float | None = None
        self.waited = 0.0
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.interval = 1.0 / rate
        self._tolerance = (self._burst - 1.0) * self.interval

    def acquire(self) -> float:
        """Take one token, sleeping until it is due; returns the seconds slept."""
        with self._lock:
            now = self._clock()
            due = now if self._next is None else max(self._next, now)
            delay = max(0.0, due - self._tolerance - now)
            self._next = due + self.interval
            self.waited += delay
        if delay > 0:
            self._sleep(delay)
        return delay


@dataclass
class AdaptiveRate:
    """The send rate one operation can sustain, learnt from the service's throttling answers.

    Unlimited until the first throttle. Then, at most once per `hold` seconds of throttling, the
    limit drops to `backoff` x the rate the service accepted over the last `window` seconds (what
    it really allows, however fast we were sending), and climbs back along a CUBIC curve (as
    botocore's adaptive mode and TCP do): quickly while far below that rate, slowly near it, then
    faster again to probe for capacity freed by others. Not thread-safe: OperationPace locks it.
    """

    # Measured with scripts/bench.py against a hard 50 and 100 requests/s: 0.9 and 0.05 sustain
    # 94-100% of the limit with ~3% of requests throttled; botocore's 0.7 and absolute 0.4 (req/s
    # per s^3) sustain 74% at 50/s, and 0.85/0.02 climb too slowly after a low estimate.
    backoff: float = 0.9
    # CUBIC's C relative to the known rate, so the curve is back at that rate
    # ((1 - backoff) / scale) ** (1/3) = 1.26 s after a cut whatever the rate (2/s or 200/s).
    scale: float = 0.05
    floor: float = 0.5
    hold: float = 0.5
    window: float = 1.0
    _accepted: deque[float] = field(default_factory=deque)
    _first: float | None = None
    _known: float | None = None  # the accepted rate at the last throttle (CUBIC's W_max)
    _cut_at: float = -math.inf
    _k: float = 0.0

    def limit(self, now: float) -> float | None:
        """Requests per second allowed at `now`; None while no throttle has been seen."""
        if self._known is None:
            return None
        elapsed = now - self._cut_at - self._k
        return max(self.floor, self._known * (1.0 + self.scale * elapsed**3))

    def accepted(self, now: float) -> None:
        """The service answered a request (any answer but a throttle)."""
        self._first = now if self._first is None else self._first
        self._accepted.append(now)
        self._forget(now)

    def throttled(self, now: float) -> None:
        """The service refused a request for its rate."""
        if now - self._cut_at < self.hold:
            return  # requests sent before the last cut are still coming back
        self._forget(now)
        # Count only what was accepted since the last cut: before it we sent at another pace.
        start = max(now - self.window, self._cut_at, now if self._first is None else self._first)
        accepted = sum(1 for moment in self._accepted if moment >= start)
        rate = max(self.floor, accepted / max(now - start, 0.05))
        self._known = rate
        self._cut_at = now
        # Time for the curve to climb from backoff x rate back to rate.
        self._k = ((1.0 - self.backoff) / self.scale) ** (1.0 / 3.0)

    def _forget(self, now: float) -> None:
        while self._accepted and self._accepted[0] < now - self.window:
            self._accepted.popleft()


class OperationPace:
    """One operation's pace within one account x region: the adaptive limit, the user's cap, or
    both (the lower wins), spaced out by a token bucket."""

    def __init__(
        self,
        cap: float | None,
        adaptive: bool,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cap = cap
        self.rate = AdaptiveRate() if adaptive else None
        self._clock = clock
        self._lock = threading.Lock()
        self._bucket = TokenBucket(cap or 1.0, 1.0, clock, sleep)
        self.throttles = 0

    def limit(self) -> float | None:
        with self._lock:
            return self._limit(self._clock())

    def acquire(self) -> float:
        """Wait for this operation's next slot, if it is paced at all; returns seconds slept."""
        with self._lock:
            limit = self._limit(self._clock())
            if limit is not None:
                self._bucket.set_rate(limit)
        return 0.0 if limit is None else self._bucket.acquire()

    def answered(self, throttled: bool) -> None:
        with self._lock:
            self.throttles += throttled
            if self.rate is not None:
                now = self._clock()
                (self.rate.throttled if throttled else self.rate.accepted)(now)

    @property
    def waited(self) -> float:
        return self._bucket.waited

    def _limit(self, now: float) -> float | None:
        learnt = self.rate.limit(now) if self.rate is not None else None
        limits = [x for x in (learnt, self.cap) if x is not None]
        return min(limits) if limits else None


class Pacer:
    """The pace of every API operation of one account x region, shared by the scope's clients.

    With `adaptive`, each operation learns its own rate from throttling (botocore's adaptive
    retry mode learns one rate per client, so a throttled ListTrainingJobs would slow
    DescribeTrainingJob down too; use retry mode "standard" with it). `caps` bound operations
    whatever is learnt.
    """

    def __init__(
        self,
        caps: RateCaps | None = None,
        adaptive: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.caps = caps or RateCaps()
        self.adaptive = adaptive
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self.operations: dict[str, OperationPace] = {}

    def attach(self, client: Any) -> None:
        """Pace `client`: wait before each request (retries too), learn from each answer.

        Two handlers per client, on the service's events rather than on each operation's:
        botocore inspects a handler's signature at every registration, and registering per
        operation for SageMaker's ~400 operations cost more CPU than a scope's API calls.
        """
        model = client.meta.service_model
        service = model.service_id.hyphenize()
        paced = None if self.adaptive else frozenset(self.caps.rates)
        if paced is not None and not paced & set(model.operation_names):
            return
        client.meta.events.register(f"before-send.{service}", _waiter(self, paced))
        if self.adaptive:
            client.meta.events.register(f"needs-retry.{service}", _learner(self))

    def pace(self, operation: str) -> OperationPace:
        with self._lock:
            if operation not in self.operations:
                self.operations[operation] = OperationPace(
                    self.caps.rates.get(operation), self.adaptive, self._clock, self._sleep
                )
            return self.operations[operation]

    def waited(self) -> float:
        """Seconds spent waiting for a slot so far, over all operations and threads."""
        with self._lock:
            return sum(pace.waited for pace in self.operations.values())


def _operation_of(event_name: str) -> str:
    # botocore names its events "<event>.<service-id>.<OperationName>" and passes the name along.
    return event_name.rsplit(".", 1)[-1]


def _waiter(pacer: Pacer, paced: frozenset[str] | None) -> Callable[..., None]:
    def wait(event_name: str, **_: Any) -> None:
        # Must return None: a before-send handler's return value is taken as the response.
        operation = _operation_of(event_name)
        if paced is None or operation in paced:
            pacer.pace(operation).acquire()

    return wait


def _learner(pacer: Pacer) -> Callable[..., None]:
    def learn(event_name: str, response: Any = None, **_: Any) -> None:
        # Must return None: a needs-retry handler's return value is taken as the retry delay.
        if response is not None:
            pacer.pace(_operation_of(event_name)).answered(is_throttling_response(response[1]))

    return learn


def is_throttling_response(parsed: Any) -> bool:
    code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
    return code in THROTTLING_CODES


def attach_pacer(client: Any, caps: RateCaps) -> None:
    """Cap `client`'s requests per operation with buckets of its own (see `Pacer` to share them)."""
    if caps:
        Pacer(caps, adaptive=False).attach(client)
