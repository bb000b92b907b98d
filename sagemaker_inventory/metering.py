"""Counts the API requests each client sends, by operation, retries included, for the run report.

botocore emits `before-call` once per API call and `request-created` once per HTTP attempt (the
first try and every retry), so attempts minus calls is the number of retries.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


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
