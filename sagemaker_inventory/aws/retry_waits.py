"""botocore's retry backoff, waited where a cancelled run can cut it short.

botocore decides a retry in a `needs-retry` handler, which returns the delay, and then the
endpoint itself calls time.sleep(delay): under heavy throttling a worker can sleep 20 s per
attempt, ten attempts in a row, and no signal reaches that sleep. `wait_retries_with` replaces the
standard retry mode's handler of a client by the same decision (botocore's own RetryHandler, with
its quota and backoff) whose delay is waited through the run's `wait` (which raises once the run
is cancelled) and then reported to the endpoint as 0, so the endpoint does not sleep at all.
A throttled answer is retried without that backoff; why is layer 2 of the throttling design, in
`adaptive_rate`'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _throttled(response: Any) -> bool:
    """Whether a parsed service answer is a throttle, by botocore's own list of such codes."""
    from botocore.retries import standard

    if not isinstance(response, tuple) or len(response) != 2:
        return False
    context = standard.RetryContext(attempt_number=1, parsed_response=response[1])
    return bool(standard.ThrottledRetryableChecker().is_retryable(context))


def wait_retries_with(client: Any, wait: Callable[[float], None]) -> None:
    """Make `client`'s retry backoff go through `wait` (standard retry mode only; legacy and
    adaptive clients are left as they are)."""
    from botocore.retries import standard

    retries = client.meta.config.retries or {}
    if retries.get("mode", "legacy") != "standard":
        return
    events = client.meta.events
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
        if _throttled(kwargs.get("response")):
            # The Pacer already slowed this operation down and makes the retry wait for its
            # slot; botocore's exponential backoff on top only stretches the run's tail. A
            # cancelled run still stops here (the wait raises).
            wait(0)
            return 0
        wait(delay)
        return 0  # retry now: the backoff has been waited

    events.register(f"needs-retry.{service}", needs_retry, unique_id=unique_id)
