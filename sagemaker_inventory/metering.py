"""Counts the API requests each client sends, by operation, retries included, for the run report.

botocore emits `before-call` once per API call and `request-created` once per HTTP attempt (the
first try and every retry), so attempts minus calls is the number of retries.
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

    def attach(self, client: Any) -> None:
        """Start counting the requests `client` sends."""
        client.meta.events.register("before-call", self._on_call)
        client.meta.events.register("request-created", self._on_request)

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
