"""One worker process of a multi-process run: collects the scopes the parent hands it.

The parent (`collect.processes`) sends `WorkerPlan` once, then one `ScopeOrder` per
scope, and finally "close"; "stop" cancels. The worker builds its own sessions and clients from the
plan (an assumed role's credentials are fetched and refreshed here, never shipped), collects each
scope on a thread with the same `ScopeRunner` a single-process run uses, and sends back batches of
messages in the order they happened: scope started, records, jobs done, the scope's result, log
lines. Records leave in one pipe, so a scope's records keep their order. The worker never writes
to stdout (fd 1 points at stderr here): the parent is the run's only writer.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from types import FrameType
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import describe_failure
from sagemaker_inventory.aws.retry_waits import RunStop, Stopped
from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory
from sagemaker_inventory.collect.collections_pace import collect_less_often
from sagemaker_inventory.collect.outcome import CANCELLED, FAILED, ScopeResult
from sagemaker_inventory.collect.plan import CollectOptions, Reuse
from sagemaker_inventory.collect.run import ScopeRunner
from sagemaker_inventory.collect.scopes import Scope
from sagemaker_inventory.records.record import MutableRecord
from sagemaker_inventory.scrubbing import scrub

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

# A worker's messages wait here while the pipe is busy; past this many, scopes wait for the parent
# (who may be writing to a slow reader) instead of piling records up in memory.
MAX_UNSENT = 2000
# How often a worker whose last scopes are running looks whether its parent is still there.
POLL_SECONDS = 0.2

Message = tuple[Any, ...]


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker needs besides its scopes; everything here is plain data (picklable)."""

    client_options: ClientOptions
    options: CollectOptions  # its `reuse` is None: each scope brings its own
    log_level: int


@dataclass(frozen=True)
class ScopeOrder:
    """Collect scope number `index`; `reuse` is the snapshot's reuse hook for it (picklable)."""

    index: int
    scope: Scope
    account: str | None
    reuse: Reuse | None = None


class Outbox:
    """Messages to the parent, sent in batches by one thread, in the order they were put."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._items: list[Message] = []
        self._closed = False
        self.broken = False
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._send_loop, name="outbox", daemon=True)
        self._thread.start()

    def put(self, message: Message) -> None:
        with self._ready:
            while len(self._items) >= MAX_UNSENT and not self.broken:
                self._ready.wait()
            self._items.append(message)
            self._ready.notify_all()

    def close(self) -> None:
        """Send what is left, then stop."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._thread.join()

    def _send_loop(self) -> None:
        while True:
            with self._ready:
                while not self._items and not self._closed:
                    self._ready.wait()
                batch, self._items = self._items, []
                self._ready.notify_all()
            if not batch:
                return
            try:
                self._conn.send(batch)
            except OSError:  # the parent is gone: nobody is left to read
                with self._ready:
                    self.broken = True
                    self._ready.notify_all()
                os._exit(1)


class _ForwardHandler(logging.Handler):
    """Sends each log line to the parent, which logs it under the same logger and level."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__()
        self._outbox = outbox

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        # Scrubbed here: the keys of this worker's sessions are known to this process only.
        self._outbox.put(("log", record.name, record.levelno, scrub(text)))


class _ScopeObserver:
    """Progress events of one scope, for the parent's observer."""

    def __init__(self, outbox: Outbox, index: int) -> None:
        self._outbox = outbox
        self._index = index

    def scope_started(self, scope: Scope) -> None:
        self._outbox.put(("started", self._index))

    def job_done(self, scope: Scope) -> None:
        self._outbox.put(("job", self._index))

    def scope_finished(self, scope: Scope, result: ScopeResult) -> None:
        pass  # the "done" message carries the result


def worker_main(orders: Connection, messages: Connection) -> None:
    """The worker's whole life: read the plan, collect scopes until "close", send everything."""
    cancelled = threading.Event()
    _stop_on_signals(cancelled)
    os.dup2(2, 1)  # a stray print must never reach the run's stdout
    outbox = Outbox(messages)
    try:
        plan: WorkerPlan = orders.recv()
    except EOFError:
        os._exit(0)
    _forward_logs(outbox, plan.log_level)
    collect_less_often()  # for the worker's whole life: it only collects
    factory = SessionFactory(plan.client_options, stop=RunStop(cancelled))
    # The parent never has more than --max-scopes scopes in flight, over all workers.
    pool = ThreadPoolExecutor(
        max_workers=max(1, plan.options.max_scopes), thread_name_prefix="scope"
    )
    futures: list[Future[None]] = []
    while True:
        order = _next_order(orders, cancelled)
        if order == "close":
            break
        if order == "stop":
            cancelled.set()
            continue
        futures.append(pool.submit(_collect_one, order, factory, plan.options, outbox, cancelled))
    # The last scopes finish while the parent is still watched: a parent that died leaves no
    # worker behind, even one whose scope is stuck in a slow call.
    while not all(f.done() for f in futures):
        if orders.poll(POLL_SECONDS) and _next_order(orders, cancelled) == "stop":
            cancelled.set()
    pool.shutdown()
    # AssumeRole and its renewals count for the account in the run summary.
    outbox.put(("meters", factory.identities.counts()))
    outbox.close()


def _next_order(orders: Connection, cancelled: threading.Event) -> Any:
    """The parent's next order; a parent gone without a word (its pipe closed) ends this worker."""
    try:
        return orders.recv()
    except EOFError:
        cancelled.set()
        os._exit(1)


def _collect_one(
    order: ScopeOrder,
    factory: SessionFactory,
    options: CollectOptions,
    outbox: Outbox,
    cancelled: threading.Event,
) -> None:
    index = order.index

    def emit(record: MutableRecord) -> None:
        outbox.put(("record", index, record))

    runner = ScopeRunner(
        factory,
        replace(options, reuse=order.reuse),
        emit,
        _ScopeObserver(outbox, index),
        cancelled,
    )
    try:
        result = runner.scope(order.scope, order.account)
    except Stopped:
        known = order.account or order.scope.source.account_id
        result = ScopeResult(known, order.scope.region, FAILED, error=CANCELLED)
    except Exception as exc:  # a bug, not AWS: still only this scope's failure
        known = order.account or order.scope.source.account_id
        result = ScopeResult(known, order.scope.region, FAILED, error=describe_failure(exc))
    outbox.put(("done", index, scrubbed(result)))


def scrubbed(result: ScopeResult) -> ScopeResult:
    """`result` with its error message scrubbed of this worker's credentials (the parent, which
    prints it and writes it to --report, never saw the keys of the worker's sessions)."""
    if result.error is not None:
        result.error = replace(result.error, message=scrub(result.error.message))
    return result


def _stop_on_signals(cancelled: threading.Event) -> None:
    """SIGINT (Ctrl-C reaches the whole process group) and SIGTERM stop this worker's scopes after
    their current job, as they do in the parent; the parent decides the run's exit code."""

    def handle(signum: int, frame: FrameType | None) -> None:
        cancelled.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)


def _forward_logs(outbox: Outbox, level: int) -> None:
    handler = _ForwardHandler(outbox)
    package = logging.getLogger("sagemaker_inventory")
    package.handlers[:] = [handler]
    package.setLevel(level)
    package.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
