"""Throttling storms lose nothing: run_inventory against moto with most requests throttled.

A `before-send` hook answers ThrottlingException (HTTP 400, JSON protocol) in place of moto for a
share of the requests -- at first for every request, long enough to exhaust botocore's attempts so
that smi's own ThrottleRetry takes over -- and every job must still come out once, with the retries
counted. Backoffs are made instant (botocore's delay, the adaptive bucket's wait, ThrottleRetry's
jitter, the per-operation pacer's slots), so the storm costs no wall time.
"""

from __future__ import annotations

import json
import threading
import types
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from jobs import create_jobs

import sagemaker_inventory.aws.fetch
import sagemaker_inventory.aws.pacing
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.outcome import RunSummary
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import run_inventory
from sagemaker_inventory.collect.scopes import AccountSource, build_scopes

pytestmark = pytest.mark.usefixtures("moto_aws")

STORMED_SERVICES = {"sagemaker", "resource-groups-tagging-api"}


class Body:
    """The `raw` of a botocore AWSResponse: something with stream()."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def json_error(code: str, message: str) -> Any:
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"__type": code, "message": message}).encode()
    headers: Any = {"Content-Type": "application/x-amz-json-1.1"}
    return AWSResponse("http://storm.invalid", 400, headers, Body(body))


class Storm:
    """Throttles the first `onset` requests of each operation, then all but every `calm`-th one."""

    def __init__(self, onset: int, calm: int, deny_bulk_tags: bool = False) -> None:
        self.onset, self.calm, self.deny_bulk_tags = onset, calm, deny_bulk_tags
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()

    def __call__(self, event_name: str, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]  # before-send.<service>.<Operation>
        if operation == "GetResources" and self.deny_bulk_tags:
            return json_error("AccessDeniedException", "not authorized to call GetResources")
        with self.lock:
            self.seen[operation] += 1
            n = self.seen[operation]
            if n > self.onset and n % self.calm == 0:
                return None  # let moto answer
            self.throttled[operation] += 1
        return json_error("ThrottlingException", "Rate exceeded")


class StormFactory(SessionFactory):
    def __init__(self, storm: Storm) -> None:
        super().__init__()
        self.storm = storm

    def client(self, session: Any, service: str, region: str) -> Any:
        client = super().client(session, service, region)
        service_id = client.meta.service_model.service_id.hyphenize()
        if service_id in STORMED_SERVICES:
            # First, so that its answer wins over moto's (both run; the first response is used).
            client.meta.events.register_first(f"before-send.{service_id}", self.storm)
        return client


@pytest.fixture(autouse=True)
def instant_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.retries import bucket, standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    # Adaptive mode's client bucket would drop to 0.5 requests/s under a storm.
    monkeypatch.setattr(bucket.TokenBucket, "_sleep_amount", lambda self, amount: 0.0)
    # ThrottleRetry's full jitter: random.uniform(0, cap) -> 0.
    no_jitter = types.SimpleNamespace(uniform=lambda low, high: 0.0)
    monkeypatch.setattr(sagemaker_inventory.aws.fetch, "random", no_jitter)
    # The per-operation pacer still learns from every answer, but grants each slot at once.
    monkeypatch.setattr(sagemaker_inventory.aws.pacing.OperationPace, "acquire", lambda self: 0.0)


def collect(storm: Storm) -> tuple[list[dict[str, Any]], RunSummary]:
    records: list[dict[str, Any]] = []
    scopes = build_scopes([AccountSource()], ["us-east-1"])
    options = CollectOptions(max_workers=8)
    summary = run_inventory(scopes, StormFactory(storm), options, records.append)
    return records, summary


def seed() -> list[str]:
    tagged = [f"tagged-{i:02d}" for i in range(20)]
    plain = [f"plain-{i:02d}" for i in range(20)]
    create_jobs("us-east-1", tagged, tags={"team": "vision"})
    create_jobs("us-east-1", plain)
    return tagged + plain


def test_a_storm_loses_no_job_and_every_throttled_answer_is_a_counted_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outer_waits: list[int] = []
    wait = sagemaker_inventory.aws.fetch.ThrottleRetry.wait

    def counted_wait(self: sagemaker_inventory.aws.fetch.ThrottleRetry, attempt: int) -> None:
        outer_waits.append(attempt)
        wait(self, attempt)

    monkeypatch.setattr(sagemaker_inventory.aws.fetch.ThrottleRetry, "wait", counted_wait)
    names = seed()
    # 25 in a row exhaust botocore's 10 attempts; then every other request is throttled.
    storm = Storm(onset=25, calm=2)
    records, summary = collect(storm)
    assert sorted(r["training_job_name"] for r in records) == sorted(names)
    scope = summary.scopes[0]
    assert (summary.exit_code, scope.status, scope.jobs, scope.skipped) == (0, "ok", 40, 0)
    assert scope.tag_path == "bulk"
    assert storm.throttled["DescribeTrainingJob"] >= 25 + 40 - 1
    assert storm.throttled["ListTrainingJobs"] >= 25
    assert outer_waits  # botocore gave up (10 attempts) and smi's ThrottleRetry went on
    assert scope.retries == sum(storm.throttled.values())
    assert scope.api_calls["DescribeTrainingJob"] == 40 + storm.throttled["DescribeTrainingJob"]


def test_the_bulk_and_per_job_tag_paths_give_the_same_records_under_a_storm() -> None:
    seed()
    bulk_records, bulk = collect(Storm(onset=12, calm=2))
    per_job_records, per_job = collect(Storm(onset=12, calm=2, deny_bulk_tags=True))
    assert (bulk.scopes[0].tag_path, per_job.scopes[0].tag_path) == ("bulk", "per-job")
    assert per_job_records == bulk_records
    assert {tuple(r["tags"]) for r in bulk_records} == {("team:vision",), ()}
    assert per_job.scopes[0].api_calls["ListTags"] >= 40
