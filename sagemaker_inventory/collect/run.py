"""Runs the scopes of one inventory concurrently, isolates each scope's failure: a RunSummary.

Records flow to a single `emit` callback as soon as they are converted (under a lock, so JSONL
lines never interleave); memory holds at most a bounded window of in-flight describes per scope.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from sagemaker_inventory.aws.errors import (
    NO_CREDENTIALS,
    FailureReason,
    UnexpectedAnswerError,
    describe_failure,
    is_job_failure,
    is_region_not_enabled,
)
from sagemaker_inventory.aws.fetch import (
    ThrottleRetry,
    describe_training_job,
    iter_job_summaries,
)
from sagemaker_inventory.aws.identity import IdentityUnknown
from sagemaker_inventory.aws.metering import ApiMeter
from sagemaker_inventory.aws.scope_clients import make_scope_clients
from sagemaker_inventory.aws.service_models import sagemaker_model
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.aws.tags import TagLookup
from sagemaker_inventory.collect.in_order import in_order
from sagemaker_inventory.collect.outcome import (
    CANCELLED,
    FAILED,
    SKIPPED,
    RunSummary,
    ScopeResult,
    account_calls_of,
    fail_skips_of_unreachable_accounts,
)
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.scopes import AccountSource, Scope
from sagemaker_inventory.records.arns import account_id_from_arn
from sagemaker_inventory.records.record import MutableRecord
from sagemaker_inventory.records.shape import describe_output_shape, to_record

if TYPE_CHECKING:
    from botocore.model import StructureShape
    from mypy_boto3_sagemaker import SageMakerClient

logger = logging.getLogger(__name__)


class _Stopped(Exception):
    """The run was cancelled while a scope waited (throttle backoff or pace): stop it now."""


class OutputError(Exception):
    """Writing a record failed (e.g. the reader of a pipe went away): the whole run stops."""


class Observer(Protocol):
    """Progress hooks; `progress` shows them on a terminal, tests record them."""

    def scope_started(self, scope: Scope) -> None: ...
    def job_done(self, scope: Scope) -> None: ...
    def scope_finished(self, scope: Scope, result: ScopeResult) -> None: ...


class NullObserver:
    def scope_started(self, scope: Scope) -> None:
        pass

    def job_done(self, scope: Scope) -> None:
        pass

    def scope_finished(self, scope: Scope, result: ScopeResult) -> None:
        pass


def run_inventory(
    scopes: Sequence[Scope],
    factory: SessionFactory,
    options: CollectOptions,
    emit: Callable[[MutableRecord], None],
    observer: Observer | None = None,
    cancelled: threading.Event | None = None,
) -> RunSummary:
    """Collect every scope, at most `options.max_scopes` at a time, and summarise.

    Setting `cancelled` (a signal handler does) stops every scope after its current job. An
    exception raised by `emit` is re-raised as OutputError once the other scopes have stopped.
    """
    observer = observer or NullObserver()
    cancelled = cancelled or threading.Event()
    started = datetime.now(timezone.utc)
    lock = threading.Lock()

    def locked_emit(record: MutableRecord) -> None:
        if cancelled.is_set():
            return
        with lock:
            try:
                emit(record)
            except Exception as exc:
                cancelled.set()
                raise OutputError(str(exc)) from exc

    run = ScopeRunner(factory, options, locked_emit, observer, cancelled)
    with ThreadPoolExecutor(
        max_workers=max(1, options.max_scopes) + 1, thread_name_prefix="scope"
    ) as pool:
        # STS names the caller's account beside the first scopes, not before them: records take
        # their account from their ARNs, so only a scope's summary waits for the answer.
        identified = pool.submit(resolve_accounts, {s.source for s in scopes}, factory, scopes)
        futures = [
            pool.submit(
                run.scope,
                scope,
                known_account(scope.source),
                identified_account(identified, scope.source),
            )
            for scope in scopes
        ]
        results = [f.result() for f in futures]
        accounts = identified.result()
    fail_skips_of_unreachable_accounts(scopes, results)
    discovery, account_calls = account_calls_of(factory, scopes, accounts, results)
    return RunSummary(
        started, datetime.now(timezone.utc), results, discovery=discovery, accounts=account_calls
    )


def resolve_account_ids(
    scopes: Sequence[Scope], factory: SessionFactory
) -> dict[AccountSource, str | None]:
    """Each scope's account id as a run would find it (STS where not known), or None."""
    return resolve_accounts({s.source for s in scopes}, factory, scopes)


def resolve_accounts(
    sources: Iterable[AccountSource], factory: SessionFactory, scopes: Sequence[Scope]
) -> dict[AccountSource, str | None]:
    """Each source's account id: known up front (roles), else from STS in the first region that
    answers, else None: the scopes still run, and their records carry their ARNs' account."""
    resolved: dict[AccountSource, str | None] = {}
    for source in sources:
        if known_account(source) is not None:
            resolved[source] = known_account(source)
            continue
        regions = [s.region for s in scopes if s.source == source]
        try:
            caller = factory.identities.caller(factory, source.profile, regions, source.label)
            resolved[source] = caller.account_id
        except IdentityUnknown as exc:
            if exc.error.code != NO_CREDENTIALS:  # the run's failure says it, with the fix
                logger.warning(
                    "cannot identify the account of %s: %s; records take it from their ARNs",
                    source.label,
                    exc,
                )
            resolved[source] = None
    return resolved


def known_account(source: AccountSource) -> str | None:
    """The account id of `source` where it is known without asking STS (a role's)."""
    if source.account_id or source.role_arn:
        return source.account_id or account_id_from_arn(str(source.role_arn))
    return None


def identified_account(
    identified: Future[dict[AccountSource, str | None]], source: AccountSource
) -> Callable[[], str | None]:
    """`source`'s account from `resolve_accounts` running in the background, waited for when
    asked."""
    return lambda: identified.result()[source]


@dataclass
class ScopeRunner:
    """What every scope of one run shares."""

    factory: SessionFactory
    options: CollectOptions
    emit: Callable[[MutableRecord], None]
    observer: Observer
    cancelled: threading.Event

    def scope(
        self, scope: Scope, account: str | None, identify: Callable[[], str | None] | None = None
    ) -> ScopeResult:
        """Collect one scope; any AWS failure becomes its ScopeResult, never the run's.

        With `account` unknown, the first record's ARN tells it, or else `identify` (STS, asked
        in the background) once the scope is done."""
        if self.cancelled.is_set():
            known = account or (identify() if identify else None)
            return ScopeResult(known, scope.region, status=FAILED, error=CANCELLED)
        self.observer.scope_started(scope)
        # The account may not be known yet (STS is asked beside the first scopes): the source's
        # label names it, and the scope's last line gives its id.
        where = f"{account} {scope.region}" if account else scope.region
        logger.info("%s: collecting (%s)", where, scope.source.label)
        result = ScopeResult(account, scope.region)
        began = time.monotonic()
        meter = ApiMeter()
        try:
            self._collect(scope, meter, result)
        except OutputError:
            raise
        except _Stopped:
            result.status, result.error = FAILED, CANCELLED
        except Exception as exc:
            skip = self.options.skip_unenabled_regions and is_region_not_enabled(exc)
            result.status = SKIPPED if skip else FAILED
            result.error = describe_failure(exc)
        if result.account_id is None and identify is not None:
            result.account_id = identify()
        known = result.account_id
        result.seconds = round(time.monotonic() - began, 3)
        result.api_calls, result.retries = meter.requests(), meter.retries()
        logger.info(
            "%s %s: %s, %d jobs, %d requests, %d retries, %.1fs%s",
            known or "?",
            scope.region,
            result.status,
            result.jobs,
            sum(result.api_calls.values()),
            result.retries,
            result.seconds,
            f" ({result.error.code})" if result.error else "",
        )
        self.observer.scope_finished(scope, result)
        return result

    def _sleep(self, seconds: float) -> None:
        if self.cancelled.wait(seconds):
            raise _Stopped

    def _collect(self, scope: Scope, meter: ApiMeter, result: ScopeResult) -> None:
        # Waits (each API's pace, smi's and botocore's throttle backoff) end as soon as the run
        # is cancelled, so a signal stops a throttled run.
        clients = make_scope_clients(
            self.factory,
            scope.source,
            scope.region,
            meter=meter,
            rate_caps=self.options.rate_caps,
            sleep=self._sleep,
            with_tags=self.options.with_tags,
        )
        # The model the clients parse responses with, one object per process (one plan).
        shape = describe_output_shape(sagemaker_model())
        convert = _Converter(clients.sagemaker, clients.tags, clients.retry, self.options, shape)
        try:
            self._convert_all(scope, clients.sagemaker, convert, clients.retry, result)
            result.tag_path = clients.tags.path if clients.tags else None
        finally:
            result.reused = convert.reused

    def _convert_all(
        self,
        scope: Scope,
        sagemaker: SageMakerClient,
        convert: _Converter,
        retry: ThrottleRetry,
        result: ScopeResult,
    ) -> None:
        workers = max(1, self.options.max_workers)
        summaries = iter_job_summaries(sagemaker, self.options.filters, retry)
        if convert.tags is not None:
            summaries = _before_first(summaries, convert.tags.start)
        described = in_order(
            summaries, convert, workers=workers, window=4 * workers, thread_name="describe"
        )
        failed: list[str] = []
        with closing(described) as converted:
            for summary, record in converted:
                if self.cancelled.is_set():
                    result.status, result.error = FAILED, CANCELLED
                    return
                if isinstance(record, _JobFailed):
                    failed.append(record.message)
                elif record is None:
                    result.skipped += 1
                    result.skipped_jobs.append(summary["TrainingJobName"])
                else:
                    self.emit(record)
                    result.jobs += 1
                    if result.account_id is None:
                        result.account_id = record.get("account_id")
                self.observer.job_done(scope)
        if failed:
            result.status, result.error = FAILED, jobs_failure(failed)


def jobs_failure(messages: Sequence[str], shown: int = 3) -> FailureReason:
    """Why a scope failed whose other jobs were written: the first of its failed jobs' messages."""
    more = len(messages) - shown
    told = "; ".join(messages[:shown]) + (f"; and {more} more" if more > 0 else "")
    count = "1 job" if len(messages) == 1 else f"{len(messages)} jobs"
    return FailureReason(UnexpectedAnswerError.code, f"{count} not collected: {told}")


@dataclass(frozen=True)
class _JobFailed:
    """A job that could not be collected (its answers stayed wrong); the others go on."""

    message: str


@dataclass
class _Converter:
    """One listed job -> its record: reused when still current, else described; None if vanished."""

    sagemaker: SageMakerClient
    tags: TagLookup | None
    retry: ThrottleRetry
    options: CollectOptions
    shape: StructureShape
    reused: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, summary: dict[str, Any]) -> MutableRecord | _JobFailed | None:
        try:
            return self._convert(summary)
        except Exception as exc:
            if not is_job_failure(exc):
                raise
            named = getattr(exc, "job", None) is not None
            return _JobFailed(str(exc) if named else f"job {summary['TrainingJobName']!r}: {exc}")

    def _convert(self, summary: dict[str, Any]) -> MutableRecord | None:
        kept = self.options.reuse(summary) if self.options.reuse else None
        if kept is not None:
            with self._lock:  # called from every describe worker
                self.reused += 1
            return {**kept, "tags": self._tags(summary)}
        name = summary["TrainingJobName"]
        response = describe_training_job(self.sagemaker, name, self.retry)
        if response is None:
            return None
        return to_record(
            response,
            account_id=account_id_from_arn(str(response["TrainingJobArn"])),
            tags=self._tags(response),
            all_fields=self.options.all_fields,
            shape=self.shape,
        )

    def _tags(self, job: dict[str, Any]) -> list[str]:
        return self.tags.tags_for(job) if self.tags else []


def _before_first(
    items: Iterator[dict[str, Any]], hook: Callable[[], None]
) -> Iterator[dict[str, Any]]:
    """`items`, calling `hook` just before the first one is handed on (never if there is none)."""
    for item in items:
        hook()
        yield item
        yield from items
        return
