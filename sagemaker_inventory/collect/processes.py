"""Spreading one run's scopes over worker processes, so that a run of many scopes uses every core
(one Python process is held to about one core by the GIL).

`run_scopes` is the run's entry point; `process_count.choose_processes` says how many processes
it uses. With one process it is `run_inventory`. With more, accounts are resolved here (as
`run_inventory` does), `process_worker` processes are started, and each scope goes to exactly one
worker (so its pace, retries and records stay together) while at most `max_scopes` are in flight
over all of them. What comes back becomes the same emit calls, observer events, log lines and
RunSummary that a single-process run gives: this process stays the only writer of stdout and of
every file. A worker that dies fails only the scopes it had in flight, and a
replacement takes the rest; a cancel (a signal) is relayed to every worker.

Workers are started with `spawn`, a fresh interpreter started the way `subprocess` starts one:
forking this process could copy a lock held by one of its threads (progress, botocore's connection
pools) into a child that would then wait forever. `forkserver` would spare each worker smi's
imports, but its server outlives the run and reaps the workers itself, so
their CPU would be missing from smi's own (`time smi ...`), and they would see the environment of
the server's start, not of this run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Final

from sagemaker_inventory.aws.errors import FailureReason
from sagemaker_inventory.aws.identity import Identities
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.outcome import (
    CANCELLED,
    FAILED,
    RunSummary,
    ScopeResult,
    account_calls_of,
    fail_skips_of_unreachable_accounts,
)
from sagemaker_inventory.collect.plan import CollectOptions, Reuse
from sagemaker_inventory.collect.process_count import choose_processes
from sagemaker_inventory.collect.run import (
    NullObserver,
    Observer,
    OutputError,
    resolve_accounts,
    run_inventory,
)
from sagemaker_inventory.collect.scopes import AccountSource, Scope
from sagemaker_inventory.records.record import MutableRecord

if TYPE_CHECKING:
    # multiprocessing and the workers' side load only when a run starts workers (_ProcessRun).
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from sagemaker_inventory.collect.process_worker import Message, WorkerPlan

START_METHOD: Final = "spawn"
# After a stop, how long workers get to report their scopes cancelled before they are killed
# (every wait of theirs ends at once; a socket read does not): under signals.STOP_GRACE_SECONDS.
STOP_GRACE_SECONDS = 0.5
POLL_SECONDS = 0.1
WORKER_DIED = "WorkerDied"

# (account id, region) -> the snapshot's reuse hook for that scope, picklable, or None.
ReuseFor = Callable[[str, str], Reuse | None]


def run_scopes(
    scopes: Sequence[Scope],
    factory: SessionFactory,
    options: CollectOptions,
    emit: Callable[[MutableRecord], None],
    observer: Observer | None = None,
    cancelled: threading.Event | None = None,
    *,
    reuse_for: ReuseFor | None = None,
) -> RunSummary:
    """Collect every scope as `run_inventory` does, in `options.processes` processes (None:
    automatic, see `choose_processes`).

    With more than one, each worker builds its sessions from `factory.options` (so `factory`'s
    test clock does not travel), and a scope's snapshot reuse comes from `reuse_for` instead of
    `options.reuse`.
    """
    count = choose_processes(options.processes, len(scopes), options.max_scopes)
    if count == 1:
        return run_inventory(scopes, factory, options, emit, observer, cancelled)
    started = datetime.now(timezone.utc)
    cancelled = cancelled or factory.stop.event
    accounts = resolve_accounts({s.source for s in scopes}, factory, scopes)
    if cancelled.is_set():  # stopped while STS was asked: no worker is worth starting
        results = [
            ScopeResult(accounts[s.source], s.region, FAILED, error=CANCELLED) for s in scopes
        ]
        return RunSummary(started, datetime.now(timezone.utc), results)
    from sagemaker_inventory.collect.process_worker import WorkerPlan

    plan = WorkerPlan(
        client_options=factory.options,
        options=replace(options, reuse=None),
        log_level=logging.getLogger("sagemaker_inventory").getEffectiveLevel(),
    )
    run = _ProcessRun(
        scopes=list(scopes),
        accounts=accounts,
        identities=factory.identities,
        plan=plan,
        emit=emit,
        observer=observer or NullObserver(),
        cancelled=cancelled,
        reuse_for=reuse_for,
        max_scopes=max(1, options.max_scopes),
    )
    results = run.collect(count)
    fail_skips_of_unreachable_accounts(scopes, results)
    discovery, account_calls = account_calls_of(factory, scopes, accounts, results)
    return RunSummary(
        started, datetime.now(timezone.utc), results, discovery=discovery, accounts=account_calls
    )


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    orders: Connection
    messages: Connection
    in_flight: set[int] = field(default_factory=set)
    accounts: set[AccountSource] = field(default_factory=set)
    closing: bool = False  # told "close": it exits once its scopes are done


@dataclass(eq=False)
class _ProcessRun:
    """The parent's side of one multi-process run."""

    scopes: list[Scope]
    accounts: dict[AccountSource, str | None]
    identities: Identities  # the parent's: workers' AssumeRole counts are added to it
    plan: WorkerPlan
    emit: Callable[[MutableRecord], None]
    observer: Observer
    cancelled: threading.Event
    reuse_for: ReuseFor | None
    max_scopes: int  # in flight at once, over all workers
    workers: list[_Worker] = field(default_factory=list)
    results: list[ScopeResult | None] = field(default_factory=list)
    pending: deque[int] = field(default_factory=deque)
    dropped: set[int] = field(default_factory=set)  # scopes with records left unwritten (cancel)
    unfinished: int = 0  # scopes without a result yet
    restarts: int = 0
    last_death: FailureReason | None = None
    stop_deadline: float | None = None

    def collect(self, count: int) -> list[ScopeResult]:
        self.results = [None] * len(self.scopes)
        self.pending = deque(range(len(self.scopes)))
        self.unfinished = len(self.scopes)
        self.restarts = count  # workers that die are replaced this many times in all
        finished = False
        try:
            for _ in range(count):
                self._start_worker()
            while self.unfinished:
                self._step()
            finished = True
        finally:
            # A stopped run's workers are killed at once: one may be stuck in a socket read.
            self._shut_down(drain=finished and not self.cancelled.is_set())
        return [r for r in self.results if r is not None]

    def _step(self) -> None:
        if self.cancelled.is_set():
            self._stop()
        else:
            self._dispatch()
        if not self.pending:
            for worker in self.workers:
                self._close(worker)
        self._receive(POLL_SECONDS)
        if self.stop_deadline is not None and time.monotonic() > self.stop_deadline:
            for worker in list(self.workers):
                worker.process.kill()
                self._lost(worker)

    # --- scopes out -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        from sagemaker_inventory.collect.process_worker import ScopeOrder

        while self.pending and sum(len(w.in_flight) for w in self.workers) < self.max_scopes:
            worker = self._pick(self.scopes[self.pending[0]].source)
            if worker is None:
                return
            index = self.pending.popleft()
            scope = self.scopes[index]
            account = self.accounts[scope.source]
            reuse = None
            if self.reuse_for is not None and account is not None:
                reuse = self.reuse_for(account, scope.region)
            try:
                worker.orders.send(ScopeOrder(index, scope, account, reuse))
            except OSError:  # it died: its messages pipe is closed too, _receive will see it
                self.pending.appendleft(index)
                worker.closing = True
                continue
            worker.in_flight.add(index)
            worker.accounts.add(scope.source)

    def _pick(self, source: AccountSource) -> _Worker | None:
        """A worker with room, preferring one that has this account's session already (each
        worker assumes a role once); None when every worker is full. With no worker left (they
        died and replacements ran out), what is pending fails."""
        if not self.workers:
            self._fail_pending()
            return None
        share = math.ceil(self.max_scopes / len(self.workers))
        open_ = [w for w in self.workers if not w.closing and len(w.in_flight) < share]
        if not open_:
            return None
        same = [w for w in open_ if source in w.accounts]
        return min(same or open_, key=lambda w: len(w.in_flight))

    def _start_worker(self) -> None:
        import multiprocessing

        from sagemaker_inventory.collect.process_worker import worker_main

        context = multiprocessing.get_context(START_METHOD)
        orders_in, orders_out = context.Pipe(duplex=False)
        messages_in, messages_out = context.Pipe(duplex=False)
        process = context.Process(
            target=worker_main,
            args=(orders_in, messages_out),
            name=f"smi-worker-{len(self.workers) + 1}",
            daemon=True,  # never outlives this process
        )
        process.start()
        orders_in.close()
        messages_out.close()
        orders_out.send(self.plan)
        self.workers.append(_Worker(process, orders_out, messages_in))

    def _close(self, worker: _Worker) -> None:
        if not worker.closing:
            worker.closing = True
            self._tell(worker, "close")

    def _stop(self) -> None:
        """Once: relay the cancel to every worker; scopes not handed out yet are cancelled."""
        if self.stop_deadline is not None:
            return
        self.stop_deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.workers:
            self._tell(worker, "stop")
        while self.pending:
            self._set_result(self.pending.popleft(), CANCELLED, finished=False)

    def _tell(self, worker: _Worker, order: str) -> None:
        with contextlib.suppress(OSError):  # it died; its messages pipe says so
            worker.orders.send(order)

    def _fail_pending(self) -> None:
        error = self.last_death or FailureReason(WORKER_DIED, "no worker process is left")
        while self.pending:
            self._set_result(self.pending.popleft(), error, finished=False)

    # --- messages in ------------------------------------------------------------------------

    def _receive(self, timeout: float) -> None:
        from multiprocessing.connection import wait

        by_pipe = {w.messages: w for w in self.workers}
        for ready in wait(list(by_pipe), timeout):
            worker = by_pipe[ready]  # type: ignore[index]
            try:
                batch: list[Message] = worker.messages.recv()
            except (EOFError, OSError):
                self._lost(worker)
                continue
            for message in batch:
                self._handle(worker, message)

    def _handle(self, worker: _Worker, message: Message) -> None:
        kind, *rest = message
        if kind == "record":
            self._emit(*rest)
        elif kind == "job":
            self.observer.job_done(self.scopes[rest[0]])
        elif kind == "started":
            self.observer.scope_started(self.scopes[rest[0]])
        elif kind == "done":
            index, result = rest
            worker.in_flight.discard(index)
            if index in self.dropped:  # finished in its worker, but not written here
                result = replace(result, status=FAILED, error=CANCELLED)
            self._finish(index, result)
            self.observer.scope_finished(self.scopes[index], result)
        elif kind == "log":
            _log(*rest)
        elif kind == "meters":
            self.identities.absorb(rest[0])

    def _emit(self, index: int, record: MutableRecord) -> None:
        if self.cancelled.is_set():
            self.dropped.add(index)
            return
        try:
            self.emit(record)
        except Exception as exc:
            self.cancelled.set()
            raise OutputError(str(exc)) from exc

    def _lost(self, worker: _Worker) -> None:
        """A worker's pipe closed: it exited. Scopes it still had fail (cancelled, when the run
        was stopped); if the run goes on, another worker or a replacement takes the rest."""
        self.workers.remove(worker)
        worker.process.join(timeout=5)
        if not worker.in_flight and worker.closing:
            return
        error = CANCELLED
        if not self.cancelled.is_set():
            error = FailureReason(WORKER_DIED, _death_message(worker.process.exitcode))
            self.last_death = error
        for index in sorted(worker.in_flight):
            self._set_result(index, error, finished=True)
        if self.pending and not self.cancelled.is_set() and self.restarts > 0:
            self.restarts -= 1
            self._start_worker()

    def _set_result(self, index: int, error: FailureReason, *, finished: bool) -> None:
        scope = self.scopes[index]
        account = self.accounts[scope.source]
        known = account or scope.source.account_id
        result = ScopeResult(known, scope.region, status=FAILED, error=error)
        self._finish(index, result)
        if finished:
            self.observer.scope_finished(scope, result)

    def _finish(self, index: int, result: ScopeResult) -> None:
        if self.results[index] is None:
            self.unfinished -= 1
        self.results[index] = result

    def _shut_down(self, *, drain: bool) -> None:
        """After the last result, let workers send their last lines and exit; after an error
        (the output failed, a second Ctrl-C), kill them."""
        deadline = time.monotonic() + 5
        while drain and self.workers and time.monotonic() < deadline:
            for worker in self.workers:
                self._close(worker)
            self._receive(POLL_SECONDS)
        for worker in self.workers:
            worker.process.kill()
        for worker in self.workers:
            worker.process.join(timeout=5)
            worker.orders.close()
            worker.messages.close()
        self.workers.clear()


def kill_workers() -> None:
    """Kill every worker process this one started that still runs (a run given up after a stop,
    while a thread of it still waits on them): none may outlive smi."""
    if "multiprocessing" not in sys.modules:
        return  # no worker was ever started
    import multiprocessing

    for child in (children := multiprocessing.active_children()):
        child.kill()
    for child in children:
        child.join(timeout=1)


def _log(name: str, level: int, text: str) -> None:
    """A worker's log line, logged here under its own logger and level (-v as in one process)."""
    logger = logging.getLogger(name)
    if logger.isEnabledFor(level):
        logger.handle(logging.LogRecord(name, level, "", 0, text, None, None))


def _death_message(exitcode: int | None) -> str:
    if exitcode is None:
        how = "stopped answering"
    elif exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        how = f"was killed by {name}{hint}"
    else:
        how = f"exited with code {exitcode}"
    return f"the worker process collecting this scope {how} before it finished"
