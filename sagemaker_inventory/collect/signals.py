"""Turns SIGINT and SIGTERM into a stop that takes effect within a bounded time: a threading.Event
the run watches, a backstop for what cannot watch it, and an exit code.

`stop_signals()` installs handlers that only set the run's `cancelled` event and remember the
signal; every wait smi controls (pace, retry backoff, each request: `aws.retry_waits.RunStop`)
ends at once, `command.run_collect` abandons every atomic writer (so no existing file changes) and
returns 128 + signal number (130 for SIGINT, 143 for SIGTERM) after one line from
`interruption_line`. Some waits no event reaches: a socket read of an endpoint that never answers
(up to the read timeout), botocore's own sleep in the legacy retry mode. So the AWS work runs off
the main thread (`run_stoppable`), which only waits for it: from the stop on, for at most
STOP_GRACE_SECONDS, then it gives the work up where it stands and the run ends as stopped, its
files abandoned. A second signal gets the handler that was there before (the CLI's ends smi at
once). The previous handlers are restored when the block ends. Handlers can only be installed
from the main thread; elsewhere (an embedding application's worker) the block installs nothing.

The handler touches nothing but two attributes and the event, and the main thread never waits
on that event (only `is_set`): a handler runs between two bytecodes of the main thread, and
would deadlock on a lock the main thread held at that instant.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

T = TypeVar("T")

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
# From a stop on, how long the main thread waits for the work to end by itself (every wait smi
# controls ends at once) before giving it up: a stop is a stop within about this long.
STOP_GRACE_SECONDS = 1.0
# How often the main thread looks at the stop while the work runs.
POLL_SECONDS = 0.05
# What signal.getsignal returns and signal.signal takes.
SignalHandler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


class StopRequest:
    """What the handlers saw: `cancelled` is the run's event; `signum` the first signal caught."""

    def __init__(self, cancelled: threading.Event | None = None) -> None:
        self.cancelled = cancelled if cancelled is not None else threading.Event()
        self.signum: int | None = None

    @property
    def stopped(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int | None:
        """128 + the signal number, as shells report a process killed by it (130, 143)."""
        return None if self.signum is None else 128 + self.signum

    @property
    def signal_name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name


@contextmanager
def stop_signals(
    cancelled: threading.Event | None = None, signals: Sequence[signal.Signals] = STOP_SIGNALS
) -> Iterator[StopRequest]:
    """Catch `signals` for the block: the first sets `cancelled`; restore the old handlers after."""
    request = StopRequest(cancelled)
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous: dict[signal.Signals, SignalHandler] = {s: signal.getsignal(s) for s in signals}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def handle(signum: int, frame: FrameType | None) -> None:
        if request.signum is None:
            request.signum = signum
        request.cancelled.set()
        # The next signal, whichever, gets the old behaviour: an escape from a stuck run.
        restore()

    for sig in signals:
        signal.signal(sig, handle)
    try:
        yield request
    finally:
        restore()


def interruption_line(request: StopRequest, unfinished: Sequence[str]) -> str:
    """One line for stderr: which signal, what was not finished, and that no file was changed."""
    name = request.signal_name or "a signal"
    if not unfinished:
        what = "the run was stopped before its files were written"
    elif len(unfinished) <= 3:
        what = "not finished: " + ", ".join(unfinished)
    else:
        what = f"not finished: {', '.join(unfinished[:3])} and {len(unfinished) - 3} more"
    return f"smi: stopped by {name}; {what}; no file was changed"


class RunAbandoned(Exception):
    """The run was stopped and its work did not end within the grace: it was given up.
    `unfinished` names the scopes it left, where the caller knows them."""

    def __init__(self, message: str, unfinished: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.unfinished = list(unfinished)


def run_stoppable(
    request: StopRequest, work: Callable[[], T], grace: float = STOP_GRACE_SECONDS
) -> T:
    """`work()`, run on a daemon thread while this (main) thread watches `request`: its result
    or its exception; RunAbandoned if a signal came and the work did not end within `grace`.

    The thread given up stays blocked where it was (a socket read, a join), harmless: the CLI
    leaves through os._exit, and the run's own checks keep it from writing anything more.
    """
    done = threading.Event()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the main thread, which decides
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, name="run", daemon=True).start()
    deadline: float | None = None
    while not done.wait(POLL_SECONDS):
        if request.stopped and deadline is None:
            deadline = time.monotonic() + grace
        if deadline is not None and time.monotonic() >= deadline:
            raise RunAbandoned(f"stopped by {request.signal_name}")
    if failure:
        raise failure[0]
    return outcome[0]
