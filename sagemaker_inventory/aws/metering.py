"""Counts the API requests each client sends, by operation, retries included, for the run summary,
and says on stderr (-v) which attempts failed, as they fail.

botocore emits `before-call` once per API call and `request-created` once per HTTP attempt (the
first try and every retry), so attempts minus calls is the number of retries. `needs-retry` follows
every attempt; botocore may then sleep for seconds before the next one, so a dead endpoint would
otherwise be silent for half a minute.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


class MeterCounts(NamedTuple):
    requests: dict[str, int]
    calls: dict[str, int]
    outer_retries: int


class ApiMeter:
    """Thread-safe counters of requests sent and calls made, keyed by API operation name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._calls: Counter[str] = Counter()
        self._outer_retries = 0
        self._max_attempts: int | None = None

    def attach(self, client: Any) -> None:
        """Start counting the requests `client` sends."""
        client.meta.events.register("before-call", self._on_call)
        client.meta.events.register("request-created", self._on_request)
        retries = getattr(client.meta.config, "retries", None) or {}
        self._max_attempts = retries.get("total_max_attempts")
        client.meta.events.register("needs-retry", self._on_attempt_done)

    def _on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self._calls[model.name] += 1

    def _on_request(self, operation_name: str, request: Any = None, **_: Any) -> None:
        with self._lock:
            self._requests[operation_name] += 1
        # -vv: one line per request sent. Only the operation and host: never headers or bodies,
        # which carry signatures, session tokens and user data.
        if logger.isEnabledFor(logging.DEBUG):
            host = urlsplit(str(getattr(request, "url", ""))).netloc
            logger.debug("request %s to %s", operation_name, host)

    def _on_attempt_done(
        self,
        operation: Any = None,
        attempts: int = 0,
        response: Any = None,
        caught_exception: BaseException | None = None,
        request_dict: Any = None,
        **_: Any,
    ) -> None:
        # Connection failures and server errors at -v; throttled answers (routine in a big
        # account, and paced anyway) at -vv.
        failure, level = _attempt_failure(response, caught_exception)
        if failure is None or not logger.isEnabledFor(level):
            return
        url = request_dict.get("url", "") if isinstance(request_dict, dict) else ""
        most = self._max_attempts
        last = most is not None and attempts >= most
        logger.log(
            level,
            "%s to %s: attempt %d of %s failed (%s)%s",
            getattr(operation, "name", "?"),
            urlsplit(str(url)).netloc or "?",
            attempts,
            most or "?",
            failure,
            "; giving up" if last else "; retrying",
        )

    def counts(self) -> MeterCounts:
        """Everything counted so far, as plain data (a worker process sends it to the parent)."""
        with self._lock:
            return MeterCounts(dict(self._requests), dict(self._calls), self._outer_retries)

    def absorb(self, counts: MeterCounts) -> None:
        """Add what another meter counted (in a worker process) to this one."""
        with self._lock:
            self._requests.update(counts.requests)
            self._calls.update(counts.calls)
            self._outer_retries += counts.outer_retries

    def add_retry(self) -> None:
        """Record a retry smi made itself, after botocore had given up (its retry quota ran out)."""
        with self._lock:
            self._outer_retries += 1

    def requests(self) -> dict[str, int]:
        """Requests sent per operation (retries included), sorted by operation name."""
        with self._lock:
            return dict(sorted(self._requests.items()))

    def retries(self) -> int:
        """Requests beyond the first attempt of each call."""
        with self._lock:
            botocore_retries = sum(self._requests.values()) - sum(self._calls.values())
            return max(0, botocore_retries) + self._outer_retries


class RoutedMeter:
    """Counts the requests of a client shared by several parties (one STS client serves every
    role assumed with the same base keys) into the ApiMeter each call's parameters pick."""

    def __init__(self, pick: Callable[[dict[str, Any]], ApiMeter | None]) -> None:
        self._pick = pick

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call", self._on_call)
        client.meta.events.register("request-created", self._on_request)

    def _on_call(self, model: Any, params: Any = None, context: Any = None, **_: Any) -> None:
        body = params.get("body") if isinstance(params, dict) else None
        meter = self._pick(body if isinstance(body, dict) else {})
        if meter is not None and isinstance(context, dict):
            # The request (and each retry of it) carries this context to `request-created`.
            context["smi_meter"] = meter
            meter._on_call(model)

    def _on_request(self, operation_name: str, request: Any = None, **_: Any) -> None:
        meter = getattr(request, "context", {}).get("smi_meter")
        if isinstance(meter, ApiMeter):
            meter._on_request(operation_name, request)


def _attempt_failure(response: Any, caught: BaseException | None) -> tuple[str | None, int]:
    """What went wrong with one HTTP attempt, and the log level to say it at; (None, 0) if fine."""
    if caught is not None:
        return str(caught) or type(caught).__name__, logging.INFO
    if not isinstance(response, tuple) or len(response) != 2:
        return None, 0
    status = getattr(response[0], "status_code", 200)
    if status < 400:
        return None, 0
    error = response[1].get("Error", {}) if isinstance(response[1], dict) else {}
    code = error.get("Code") or f"HTTP {status}"
    return str(code), logging.INFO if status >= 500 else logging.DEBUG
