"""Runs one function on a few threads over items that are still arriving, and hands the results
back in the items' order: how a scope describes its listed jobs and emits their records.

A ThreadPoolExecutor with one future per item did the same, but its bookkeeping (a future with
its condition, a work item, the pool's idle semaphore, a condition wait per result) cost more
CPU per job than converting the job's record. Here a worker takes (item, slot) pairs from one
queue and hands each result over in its slot, a lock the worker releases once the result is in:
the reader waits for it with one acquire.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable
from queue import Empty, SimpleQueue
from typing import Generic, TypeVar, cast

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Slot(Generic[Result]):
    """One item's result (or the exception its work raised); `ready` is held until it is in."""

    __slots__ = ("error", "ready", "result")

    def __init__(self) -> None:
        self.ready = threading.Lock()
        self.ready.acquire()
        self.result: Result | None = None
        self.error: BaseException | None = None


_Task = tuple[Item, _Slot[Result]]


def in_order(
    items: Iterable[Item],
    work: Callable[[Item], Result],
    *,
    workers: int,
    window: int,
    thread_name: str,
) -> Generator[tuple[Item, Result], None, None]:
    """(item, work(item)) for each of `items`, in their order, with `work` run on up to `workers`
    threads (named `thread_name`_0, _1, ...) while `items` are still arriving.

    At most `window` items are handed out ahead of the one being read, so memory stays flat
    however many items there are. An exception raised by `work` is raised here at its item's
    turn. Closing the generator drops the items no thread has started and waits for the rest.
    """
    tasks: SimpleQueue[_Task[Item, Result] | None] = SimpleQueue()
    threads: list[threading.Thread] = []
    pending: deque[_Task[Item, Result]] = deque()
    try:
        for item in items:
            if len(threads) < workers:
                threads.append(_start_worker(tasks, work, f"{thread_name}_{len(threads)}"))
            slot: _Slot[Result] = _Slot()
            tasks.put((item, slot))
            pending.append((item, slot))
            if len(pending) >= window:
                yield _take(pending.popleft())
        while pending:
            yield _take(pending.popleft())
    finally:
        _stop(tasks, threads)


def _start_worker(
    tasks: SimpleQueue[_Task[Item, Result] | None], work: Callable[[Item], Result], name: str
) -> threading.Thread:
    thread = threading.Thread(target=_serve, args=(tasks, work), name=name)
    thread.start()
    return thread


def _serve(tasks: SimpleQueue[_Task[Item, Result] | None], work: Callable[[Item], Result]) -> None:
    """A worker: run `work` on each task until the None that says stop."""
    while (task := tasks.get()) is not None:
        item, slot = task
        try:
            slot.result = work(item)
        except BaseException as exc:  # handed to the reader, as a future would
            slot.error = exc
        slot.ready.release()


def _take(task: _Task[Item, Result]) -> tuple[Item, Result]:
    item, slot = task
    slot.ready.acquire()
    if slot.error is not None:
        raise slot.error
    return item, cast("Result", slot.result)  # what the work returned


def _stop(tasks: SimpleQueue[_Task[Item, Result] | None], threads: list[threading.Thread]) -> None:
    """Drop the tasks no worker has taken, then let each worker finish its own and leave."""
    while True:
        try:
            tasks.get_nowait()
        except Empty:
            break
    for _ in threads:
        tasks.put(None)
    for thread in threads:
        thread.join()
