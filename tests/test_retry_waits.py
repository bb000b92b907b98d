"""Issue 12.7: SIGTERM/SIGINT under heavy throttling stops the run at once: botocore's own retry
backoff is waited where cancelling the run cuts it short (the endpoint itself never sleeps).
Issue 19.4: so is every other client's (STS, AssumeRole's), and a stop is never retried."""

from __future__ import annotations

import logging
import threading
from typing import Any

import botocore.endpoint
import pytest
from jobs import create_jobs
from test_identity import sts_error
from test_throttling import json_error

from sagemaker_inventory.aws.fetch import ThrottleRetry
from sagemaker_inventory.aws.retry_waits import RunStop, Stopped, wait_retries_with
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.outcome import CANCELLED
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import resolve_accounts, run_inventory
from sagemaker_inventory.collect.scopes import AccountSource, build_scopes

pytestmark = pytest.mark.usefixtures("moto_aws")

# What botocore would sleep between attempts (its backoff, made long and fixed for the test).
BACKOFF = 3600.0


class AlwaysThrottled(SessionFactory):
    """Every SageMaker request answers ThrottlingException; the first one cancels the run, as
    a signal handler would."""

    def __init__(self, cancelled: threading.Event) -> None:
        super().__init__()
        self.cancelled = cancelled
        self.requests = 0

    def client(self, session: Any, service: str, region: str) -> Any:
        client = super().client(session, service, region)
        if service == "sagemaker":
            client.meta.events.register_first("before-send.sagemaker", self.throttle)
        return client

    def throttle(self, **_: Any) -> Any:
        self.requests += 1
        self.cancelled.set()
        return json_error("ThrottlingException", "Rate exceeded")


def test_a_cancelled_run_does_not_sleep_out_botocores_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: SIGTERM during heavy throttling took 60-80 s: botocore's retry sleeps."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: BACKOFF)
    endpoint_sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", endpoint_sleeps.append)
    create_jobs("us-east-1", ["a"])
    cancelled = threading.Event()
    factory = AlwaysThrottled(cancelled)
    summary = run_inventory(
        build_scopes([AccountSource()], ["us-east-1"]),
        factory,
        CollectOptions(with_tags=False),
        lambda record: None,
        cancelled=cancelled,
    )
    assert summary.scopes[0].error == CANCELLED
    # The backoff was waited through the run's cancellable wait, which ended it: botocore's
    # endpoint never slept, and no request was sent after the cancel.
    assert [s for s in endpoint_sleeps if s] == []
    assert factory.requests == 1


@pytest.mark.parametrize(
    ("code", "status", "waited", "mode", "paced"),
    [
        ("ThrottlingException", 400, 0.0, "standard", True),
        ("ThrottlingException", 400, BACKOFF, "standard", False),
        ("InternalFailure", 500, BACKOFF, "standard", True),
        ("InternalFailure", 500, BACKOFF, "adaptive", True),
    ],
)
def test_throttled_answers_are_retried_without_botocores_backoff(
    monkeypatch: pytest.MonkeyPatch, code: str, status: int, waited: float, mode: str, paced: bool
) -> None:
    """Under a sliding or fixed window, botocore's growing backoff on throttles (on top of the
    Pacer, which already slowed down) stretched a run's tail: a throttle waits only for its
    pace; other retryable errors still wait botocore's backoff, and so does a throttle of a
    client no Pacer slows down (STS, Organizations)."""
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: BACKOFF)
    client = (
        SessionFactory()
        .session()
        .create_client("sagemaker", region_name="us-east-1", config=Config(retries={"mode": mode}))
    )
    answers = iter([True, True])

    def refuse_twice(**_: Any) -> Any:
        if next(answers, False):
            body = f'{{"__type": "{code}", "message": "no"}}'.encode()
            return AWSResponse("https://x", status, {}, _Raw(body))
        return None

    client.meta.events.register_first("before-send.sagemaker", refuse_twice)
    waits: list[float] = []
    wait_retries_with(client, waits.append, paced=paced)
    client.list_training_jobs()
    assert waits == [waited, waited]


def test_a_stop_during_sts_backoff_ends_the_identity_at_once_and_is_never_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Regression: SIGTERM under heavy throttling left GetCallerIdentity in botocore's backoff
    (its client had no cancellable wait) while scopes logged `attempt 1 of 11 failed (_Stopped);
    retrying`: the stop, raised as an ordinary exception, was one more failed attempt."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: BACKOFF)
    endpoint_sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", endpoint_sleeps.append)
    stop = RunStop()
    factory = SessionFactory(stop=stop)
    sent: list[str] = []

    def throttle_and_stop(**_: Any) -> Any:
        sent.append("GetCallerIdentity")
        stop.event.set()  # a signal arrives while this request is answered
        return sts_error("Throttling", 400)

    original = factory.client

    def client(session: Any, service: str, region: str) -> Any:
        made = original(session, service, region)
        made.meta.events.register_first("before-send.sts.GetCallerIdentity", throttle_and_stop)
        return made

    factory.client = client  # type: ignore[method-assign]
    scopes = build_scopes([AccountSource()], ["us-east-1", "eu-west-1"])
    with caplog.at_level(logging.DEBUG, logger="sagemaker_inventory"):
        accounts = resolve_accounts({AccountSource()}, factory, scopes)
    assert accounts == {AccountSource(): None}  # nobody waits for an answer any more
    assert sent == ["GetCallerIdentity"]  # no retry, no other region asked
    assert [s for s in endpoint_sleeps if s] == []
    assert "attempt" not in caplog.text and "Stopped" not in caplog.text


def test_no_retry_loop_takes_a_stop_for_a_failure() -> None:
    calls: list[int] = []

    def stopped() -> None:
        calls.append(1)
        raise Stopped

    with pytest.raises(Stopped):
        ThrottleRetry(sleep=lambda seconds: None).call(stopped)
    assert calls == [1]
    assert not isinstance(Stopped(), Exception)  # `except Exception` never swallows it
    assert str(Stopped()) == "the run was stopped"


def test_a_stopped_client_sends_nothing() -> None:
    stop = RunStop()
    client = SessionFactory(stop=stop).client(SessionFactory().session(), "sts", "us-east-1")
    stop.event.set()
    with pytest.raises(Stopped):
        client.get_caller_identity()


def test_a_legacy_client_keeps_botocores_own_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The legacy mode's delay is computed where no public hook reaches it: its sleep stays
    botocore's (the run's backstop gives up such a wait), and the retry still happens."""
    from botocore.config import Config

    endpoint_sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", endpoint_sleeps.append)
    config = Config(retries={"mode": "legacy"})
    client = SessionFactory().session().create_client("sts", "us-east-1", config=config)
    failures = iter([sts_error("InternalFailure", 500)])
    client.meta.events.register_first("before-send.sts", lambda **_: next(failures, None))
    waits: list[float] = []
    wait_retries_with(client, waits.append)
    assert client.get_caller_identity()["Account"]
    assert waits == [] and len(endpoint_sleeps) == 1


def test_a_second_wait_replaces_the_first_on_the_same_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The factory attaches the run's stop to every client, then a scope its own wait: the
    scope's is the one waited, and botocore's handler is not registered a third time."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: BACKOFF)
    client = SessionFactory().client(SessionFactory().session(), "sts", "us-east-1")
    failures = iter([sts_error("InternalFailure", 500)])
    client.meta.events.register_first("before-send.sts", lambda **_: next(failures, None))
    first: list[float] = []
    second: list[float] = []
    wait_retries_with(client, first.append)
    registered = standard.register_retry_handler
    monkeypatch.setattr(standard, "register_retry_handler", pytest.fail)
    wait_retries_with(client, second.append)
    monkeypatch.setattr(standard, "register_retry_handler", registered)
    assert client.get_caller_identity()["Account"]
    assert (first, second) == ([], [BACKOFF])


class _Raw:
    """A urllib3-like body for an AWSResponse built by hand."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body
