"""A loopback test server on a daemon thread for the length of a `with` block."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from socketserver import BaseServer
from typing import TypeVar

Server = TypeVar("Server", bound=BaseServer)

# Seconds a stopped server's thread may take to end; a daemon thread, so a stuck one cannot hold
# the test run.
JOIN_SECONDS = 5.0


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """`server` serving on a daemon thread; shut down and closed when the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(JOIN_SECONDS)
