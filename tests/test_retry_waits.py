"""Issue 12.7: SIGTERM/SIGINT under heavy throttling stops the run at once: botocore's own retry
backoff is waited where cancelling the run cuts it short (the endpoint itself never sleeps)."""

from __future__ import annotations

import threading
from typing import Any

import botocore.endpoint
import pytest
from jobs import create_jobs
from test_throttling import json_error

from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.outcome import CANCELLED
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import run_inventory
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
    ("code", "status", "waited"),
    [("ThrottlingException", 400, 0.0), ("InternalFailure", 500, BACKOFF)],
)
def test_throttled_answers_are_retried_without_botocores_backoff(
    monkeypatch: pytest.MonkeyPatch, code: str, status: int, waited: float
) -> None:
    """Under a sliding or fixed window, botocore's growing backoff on throttles (on top of the
    Pacer, which already slowed down) stretched a run's tail: a throttle waits only for its
    pace; other retryable errors still wait botocore's backoff."""
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config
    from botocore.retries import standard

    from sagemaker_inventory.aws.retry_waits import wait_retries_with

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: BACKOFF)
    client = (
        SessionFactory()
        .session()
        .create_client(
            "sagemaker", region_name="us-east-1", config=Config(retries={"mode": "standard"})
        )
    )
    answers = iter([True, True])

    def refuse_twice(**_: Any) -> Any:
        if next(answers, False):
            body = f'{{"__type": "{code}", "message": "no"}}'.encode()
            return AWSResponse("https://x", status, {}, _Raw(body))
        return None

    client.meta.events.register_first("before-send.sagemaker", refuse_twice)
    waits: list[float] = []
    wait_retries_with(client, waits.append)
    client.list_training_jobs()
    assert waits == [waited, waited]


class _Raw:
    """A urllib3-like body for an AWSResponse built by hand."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body
