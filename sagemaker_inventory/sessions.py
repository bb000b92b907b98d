"""The one place that builds boto3 sessions and clients: profiles, assumed roles, retries, endpoints.

boto3 Sessions are not thread-safe but clients are, so every client is built here, under a lock,
before it is handed to a worker thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

# botocore's retry modes pace each client; `adaptive` adds a client-side token bucket that backs off
# when throttled and climbs again after, which is what a low per-account API rate needs.
DEFAULT_RETRY_MODE = "adaptive"
DEFAULT_MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class ClientOptions:
    """How every AWS client of a run is configured."""

    endpoint_url: str | None = None
    retry_mode: str = DEFAULT_RETRY_MODE
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_pool_connections: int = 32


class SessionFactory:
    """Builds and caches boto3 sessions per profile, and clients with the run's options."""

    def __init__(self, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        self._lock = threading.Lock()
        self._sessions: dict[str | None, boto3.Session] = {}

    def session(self, profile: str | None = None) -> boto3.Session:
        """The (cached) session for `profile`, or for the default credential chain when None."""
        import boto3

        with self._lock:
            if profile not in self._sessions:
                self._sessions[profile] = boto3.Session(profile_name=profile)
            return self._sessions[profile]

    def client(self, session: boto3.Session, service: str, region: str) -> Any:
        """A client of `service` in `region` built from `session` with the run's retry/endpoint setup."""
        from botocore.config import Config

        opts = self.options
        config = Config(
            retries={"mode": opts.retry_mode, "max_attempts": opts.max_attempts},
            connect_timeout=opts.connect_timeout,
            read_timeout=opts.read_timeout,
            max_pool_connections=opts.max_pool_connections,
            user_agent_extra="smi",
        )
        with self._lock:
            return session.client(
                service, region_name=region, endpoint_url=opts.endpoint_url, config=config
            )
