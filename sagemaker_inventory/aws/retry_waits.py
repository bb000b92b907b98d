"""Every wait of a client that a run's stop cuts short: botocore's retry backoff, and each request.

botocore decides a retry in a `needs-retry` handler, which returns the delay, and then the
endpoint itself calls time.sleep(delay): under heavy throttling a worker can sleep 20 s per
attempt, ten attempts in a row, and no signal reaches that sleep. `wait_retries_with` replaces the
standard (and adaptive) retry mode's handler of a client by the same decision (botocore's own
RetryHandler, with its quota and backoff) whose delay is waited through the run's `wait` (which
raises once the run is stopped) and then reported to the endpoint as 0, so the endpoint does not
sleep at all. A throttled answer is retried without that backoff; why is layer 2 of the throttling
design, in `adaptive_rate`'s docstring.

`RunStop` is one run's stop as the AWS edge sees it: `attach` gives a client that backoff and a
check before every HTTP attempt, so nothing is sent once the run is stopped. Both raise `Stopped`,
a BaseException like KeyboardInterrupt: botocore's endpoint hands any `Exception` raised while
sending to its retry handler as one more failed attempt, and smi's retry loops catch `Exception`
too, so a stop raised as an ordinary exception came back as "attempt 1 of 11 failed; retrying".
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Retry modes whose needs-retry handler is botocore's standard RetryHandler (adaptive adds a
# client-side rate limiter to it); "legacy" computes its delay elsewhere and keeps its own sleep.
STANDARD_HANDLER_MODES = frozenset({"standard", "adaptive"})


class Stopped(BaseException):
    """The run was stopped (a signal): raised by a wait or before a request, never retried."""

    def __str__(self) -> str:
        return "the run was stopped"


class RunStop:
    """One run's stop: `event` set means stop. Waits end early and requests are refused then."""

    def __init__(self, event: threading.Event | None = None) -> None:
        self.event = event if event is not None else threading.Event()

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or raise Stopped as soon as the run is stopped."""
        if self.event.wait(seconds):
            raise Stopped

    def check(self, **_: Any) -> None:
        """A `before-send` handler: no HTTP attempt, first or retry, leaves a stopped run."""
        if self.event.is_set():
            raise Stopped

    def attach(self, client: Any) -> None:
        """Make every request and every retry wait of `client` end when the run stops."""
        client.meta.events.register("before-send", self.check)
        wait_retries_with(client, self.sleep, paced=False)


def _throttled(response: Any) -> bool:
    """Whether a parsed service answer is a throttle, by botocore's own list of such codes."""
    from botocore.retries import standard

    if not isinstance(response, tuple) or len(response) != 2:
        return False
    context = standard.RetryContext(attempt_number=1, parsed_response=response[1])
    return bool(standard.ThrottledRetryableChecker().is_retryable(context))


@dataclass
class _Waiting:
    wait: Callable[[float], None]
    paced: bool


# Each client's current wait and pacing, by its event emitter: a second call (the factory attached
# the run's stop, then a scope its own wait and Pacer) only swaps them, instead of registering
# botocore's handler again.
_WAITS: weakref.WeakKeyDictionary[Any, _Waiting] = weakref.WeakKeyDictionary()


def wait_retries_with(client: Any, wait: Callable[[float], None], *, paced: bool = True) -> None:
    """Make `client`'s retry backoff go through `wait` (standard and adaptive retry modes; a
    legacy client keeps botocore's sleep, which only the run's backstop can cut short). `paced`:
    a Pacer slows the client's operations down when throttled, so a throttled answer is retried
    without botocore's backoff; an unpaced client (STS, Organizations) keeps that backoff. A
    later call for the same client replaces both."""
    from botocore.retries import standard

    retries = client.meta.config.retries or {}
    if retries.get("mode", "legacy") not in STANDARD_HANDLER_MODES:
        return
    events = client.meta.events
    if events in _WAITS:
        _WAITS[events].wait, _WAITS[events].paced = wait, paced
        return
    _WAITS[events] = current = _Waiting(wait, paced)
    service = client.meta.service_model.service_id.hyphenize()
    unique_id = f"retry-config-{service}"
    # botocore's own registration, repeated to get hold of a handler (the second registration
    # under the same unique id is ignored by the emitter), then swapped for the waiting one.
    handler = standard.register_retry_handler(client, retries.get("total_max_attempts"))
    events.unregister(f"needs-retry.{service}", unique_id=unique_id)

    def needs_retry(**kwargs: Any) -> Any:
        delay = handler.needs_retry(**kwargs)
        if not delay:
            return delay  # None: no retry; 0: retry at once
        if current.paced and _throttled(kwargs.get("response")):
            # The Pacer already slowed this operation down and makes the retry wait for its
            # slot; botocore's exponential backoff on top only stretches the run's tail. A
            # stopped run still stops here (the wait raises).
            current.wait(0)
            return 0
        current.wait(delay)
        return 0  # retry now: the backoff has been waited

    events.register(f"needs-retry.{service}", needs_retry, unique_id=unique_id)
