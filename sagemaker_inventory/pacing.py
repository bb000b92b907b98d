"""Optional per-operation send-rate caps (`--rate OPERATION=N`), enforced on each client's requests.

botocore's adaptive retry mode paces a whole client (every operation shares one limiter) and only
after the service has throttled it; users who share an API quota with other tools want a fixed
ceiling per API instead. A cap is a token bucket per operation, held by a `Pacer` (one per account x
region), and waited on in botocore's `before-send` event, so every HTTP attempt -- retries included
-- takes a token. Nothing here runs unless a cap is given.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
    time" instead of a token count).
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.interval = 1.0 / rate
        self._tolerance = (burst - 1.0) * self.interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: float | None = None
        self.waited = 0.0

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


class Pacer:
    """The token buckets of one account x region, one per capped operation, shared by its
    clients."""

    def __init__(
        self,
        caps: RateCaps,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.buckets = {op: TokenBucket(rate, 1.0, clock, sleep) for op, rate in caps.rates.items()}

    def attach(self, client: Any) -> None:
        """Make `client` wait for a token before sending each request of a capped operation."""
        model = client.meta.service_model
        service = model.service_id.hyphenize()
        for operation in set(model.operation_names) & set(self.buckets):
            client.meta.events.register(
                f"before-send.{service}.{operation}", self._waiter(self.buckets[operation])
            )

    def waited(self) -> float:
        """Seconds spent waiting for tokens so far, over all operations and threads."""
        return sum(bucket.waited for bucket in self.buckets.values())

    @staticmethod
    def _waiter(bucket: TokenBucket) -> Callable[..., None]:
        def wait(**_: Any) -> None:
            # Must return None: a before-send handler's return value is taken as the response.
            bucket.acquire()

        return wait


def attach_pacer(client: Any, caps: RateCaps) -> None:
    """Cap `client`'s requests per operation with buckets of its own (see `Pacer` to share them)."""
    if caps:
        Pacer(caps).attach(client)
