"""Turns SIGINT and SIGTERM into a clean stop: a threading.Event the run watches, and an exit code.

`stop_signals()` installs handlers that only set the run's `cancelled` event and remember the
signal; the collection threads finish their current job and stop, `command.run_collect` abandons
every atomic writer (so no existing file changes) and returns 128 + signal number (130 for SIGINT,
143 for SIGTERM) after one line from `interruption_line`. A second signal gets the handler that
was there before (Ctrl-C twice raises KeyboardInterrupt, a second SIGTERM kills), for a run stuck
in a slow call. The previous handlers are restored when the block ends. Handlers can only be
installed from the main thread; elsewhere (an embedding application's worker) the block installs
nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
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
