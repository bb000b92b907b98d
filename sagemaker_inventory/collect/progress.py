"""Progress on stderr while collecting, shown only when stderr is a terminal.

One line, with its totals from the first frame: scopes done of the run's total, jobs described so
far (a scope's job count is unknown until its listing ends), scopes failed, time elapsed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sagemaker_inventory.collect.outcome import FAILED, ScopeResult
from sagemaker_inventory.collect.run import NullObserver, Observer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, ProgressColumn

    from sagemaker_inventory.collect.scopes import Scope


class ProgressObserver:
    """Counts scopes done and jobs described on a rich Progress display."""

    def __init__(self, progress: Progress, scopes: int) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._task = progress.add_task("collecting", total=scopes, jobs=0, failed="")
        self._jobs = 0
        self._failed = 0

    def scope_started(self, scope: Scope) -> None:
        pass

    def job_done(self, scope: Scope) -> None:
        with self._lock:
            self._jobs += 1
            self._progress.update(self._task, jobs=self._jobs)

    def scope_finished(self, scope: Scope, result: ScopeResult) -> None:
        with self._lock:
            self._failed += result.status == FAILED
            failed = f", {self._failed} failed" if self._failed else ""
            self._progress.update(self._task, advance=1, failed=failed)


def progress_columns() -> tuple[ProgressColumn, ...]:
    from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    return (
        SpinnerColumn(),
        TextColumn("scopes {task.completed:.0f}/{task.total:.0f}{task.fields[failed]}"),
        BarColumn(),
        TextColumn("jobs described: {task.fields[jobs]}"),
        TimeElapsedColumn(),
    )


@contextlib.contextmanager
def progress_observer(console: Console, scopes: int) -> Iterator[Observer]:
    # `quiet` first: a quiet console (-q) need not make rich's Console to answer is_terminal.
    if console.quiet or not console.is_terminal:
        yield NullObserver()
        return
    from rich.progress import Progress

    with Progress(*progress_columns(), console=console, transient=True) as progress:
        yield ProgressObserver(progress, scopes)
