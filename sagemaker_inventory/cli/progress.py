"""Progress on stderr while collecting, shown only when stderr is a terminal."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from sagemaker_inventory.inventory import NullObserver, Observer, ScopeResult

if TYPE_CHECKING:
    from sagemaker_inventory.scopes import Scope


class ProgressObserver:
    """Counts scopes done and jobs described on a rich Progress display."""

    def __init__(self, progress: Progress, scopes: int) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self._jobs = 0
        self._scopes = progress.add_task("scopes", total=scopes)
        self._job_task = progress.add_task("jobs described", total=None)

    def scope_started(self, scope: Scope) -> None:
        pass

    def job_done(self, scope: Scope) -> None:
        with self._lock:
            self._jobs += 1
            self._progress.update(self._job_task, completed=self._jobs)

    def scope_finished(self, scope: Scope, result: ScopeResult) -> None:
        self._progress.advance(self._scopes)


@contextlib.contextmanager
def progress_observer(console: Console, scopes: int) -> Iterator[Observer]:
    if not console.is_terminal or console.quiet:
        yield NullObserver()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield ProgressObserver(progress, scopes)
