"""The send rate of each API operation per account x region: learnt from throttling, and capped.

A `Pacer` (one per account x region) gives each operation its own adaptive rate -- unlimited until
the service throttles it, then what `adaptive_rate.AdaptiveRate` learns from the answers --
bounded by optional caps from `--rate OPERATION=N` for users who share a quota with other tools.
It waits in botocore's `before-send` event, so every HTTP attempt, retries included, takes a slot,
and learns in `needs-retry`, which sees every answer. It is layer 1 of the throttling design in
`adaptive_rate`'s docstring, which says who paces, who retries and who backs off, and why per
operation rather than botocore's per-client "adaptive" retry mode."""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagemaker_inventory.aws.adaptive_rate import AdaptiveRate
from sagemaker_inventory.aws.errors import THROTTLING_CODES

# The services whose operations smi calls; a cap naming any other operation is a typo.
PACED_SERVICES = ("sagemaker", "resourcegroupstaggingapi")
# --rate bounds: below one request per 1,000 s a scope never finishes (1e-300 overflowed the
# pacer's arithmetic); above 10,000/s a cap means nothing to an AWS API.
MIN_RATE, MAX_RATE = 0.001, 10_000.0


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
    if not math.isfinite(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise BadRateError(
            f"{value!r}: the rate must be between {MIN_RATE:g} and {MAX_RATE:g} requests/s"
        )
    return operation, rate


def canonical_operation(name: str) -> str | None:
    """The model's spelling of an operation name given in any case, or None if no service has it."""
    return _known_operations().get(name.lower())


@functools.cache
def _known_operations() -> dict[str, str]:
    from sagemaker_inventory.aws.session_maker import botocore_session

    # Every operation of the service, not only smi's (the shared loader's model is cut to those).
    session = botocore_session()
    names: dict[str, str] = {}
    for service in PACED_SERVICES:
        for operation in session.get_service_model(service).operation_names:
            names[operation.lower()] = operation
    return names


class TokenBucket:
    """Thread-safe pacing: `rate` slots a second, at most `burst` saved up, granted in order.

    Each caller takes a ticket; ticket k is due `(k - a) / rate` seconds after the anchor ticket a
    (GCRA: one theoretical arrival time instead of a token count). A rate change re-times every
    ticket not yet due, from the last one that was: callers already waiting speed up or slow down
    with it, because they sleep at most `recheck` seconds at a time and then look at their ticket
    again. Otherwise 32 workers queued at a low rate would keep that rate for 32 slots after the
    service allowed more.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        recheck: float = 0.1,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self._burst = burst
        self._clock = clock
        self._sleep = sleep
        self._recheck = recheck
        self._lock = threading.Lock()
        self._issued = 0  # the next ticket to hand out
        self._anchor = 0
        self._anchor_due: float | None = None  # None: nothing taken yet
        self.waited = 0.0
        self.rate = self.interval = 1.0
        self.set_rate(rate)

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        with self._lock:
            interval = 1.0 / rate
            if self._anchor_due is not None and interval != self.interval:
                # Keep the last ticket due by now where it was; space the later ones anew.
                now = self._clock()
                passed = max(0, math.floor((now - self._anchor_due) / self.interval) + 1)
                last = self._anchor + passed - 1
                last_due = self._anchor_due + (passed - 1) * self.interval
                self._anchor, self._anchor_due = last + 1, last_due + interval
            self.rate, self.interval = rate, interval
            self._tolerance = (self._burst - 1.0) * interval

    def take(self) -> int:
        """A place in the queue: the ticket to pass to `due`."""
        with self._lock:
            now = self._clock()
            ticket = self._issued
            self._issued += 1
            # An idle bucket saves up `burst` slots at most.
            earliest = now - self._tolerance
            if self._anchor_due is None or self._due(ticket) < earliest:
                self._anchor, self._anchor_due = ticket, earliest
            return ticket

    def due(self, ticket: int) -> float:
        """When `ticket` may go, at the current rate."""
        with self._lock:
            return self._due(ticket)

    def acquire(self) -> float:
        """Take a slot, sleeping until it is due; returns the seconds slept."""
        return self.wait(self.take(), lambda: None)

    def wait(self, ticket: int, refresh: Callable[[], None]) -> float:
        """Sleep until `ticket` is due, calling `refresh` (which may set the rate) before each
        look at it; returns the seconds slept."""
        slept = 0.0
        while True:
            refresh()
            delay = self.due(ticket) - self._clock()
            if delay <= 0:
                return slept
            delay = min(delay, self._recheck)
            with self._lock:
                self.waited += delay
            slept += delay
            self._sleep(delay)

    def _due(self, ticket: int) -> float:
        assert self._anchor_due is not None
        return self._anchor_due + (ticket - self._anchor) * self.interval


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
        self._sent = threading.local()  # when this thread's request left: see `answered`
        self.throttles = 0

    def limit(self) -> float | None:
        with self._lock:
            return self._limit(self._clock())

    def take(self) -> int | None:
        """A ticket for the next slot, or None when the operation is not paced (yet)."""
        with self._lock:
            if self._refresh() is None:
                return None
            return self._bucket.take()

    def due(self, ticket: int) -> float:
        """When `ticket` may go, at the pace allowed now."""
        with self._lock:
            self._refresh()
            return self._bucket.due(ticket)

    def acquire(self) -> float:
        """Wait for this operation's next slot, if it is paced at all; returns seconds slept."""
        ticket = self.take()
        slept = 0.0 if ticket is None else self._bucket.wait(ticket, self._locked_refresh)
        # botocore sends the request, then asks `needs-retry` about its answer, on this thread.
        self._sent.at = self._clock()
        return slept

    def answered(self, throttled: bool, sent: float | None = None) -> None:
        """The service answered a request sent at `sent` (default: when this thread last got a
        slot): throttled or not."""
        if sent is None:
            sent = getattr(self._sent, "at", None)
        with self._lock:
            self.throttles += throttled
            if self.rate is not None:
                now = self._clock()
                if throttled:
                    self.rate.throttled(now, sent)
                else:
                    self.rate.accepted(now)

    @property
    def waited(self) -> float:
        return self._bucket.waited

    def _locked_refresh(self) -> None:
        with self._lock:
            self._refresh()

    def _refresh(self) -> float | None:
        limit = self._limit(self._clock())
        if limit is not None and limit != self._bucket.rate:
            self._bucket.set_rate(limit)
        return limit

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
