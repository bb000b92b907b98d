"""RateCaps parsing and validation, token bucket waits (injected clock), and the pacer hook."""

from __future__ import annotations

import threading
from collections.abc import Callable

import boto3
import pytest

from sagemaker_inventory.pacing import BadRateError, Pacer, RateCaps, TokenBucket, attach_pacer


class FrozenClock:
    """A clock that moves only when told; `sleep` records what the caller would have slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 9))


def test_caps_are_parsed_into_operation_rates() -> None:
    caps = RateCaps.parse(["DescribeTrainingJob=20", "GetResources=1.5", "ListTrainingJobs=2"])
    assert caps.rates == {"DescribeTrainingJob": 20.0, "GetResources": 1.5, "ListTrainingJobs": 2.0}
    assert caps


def test_operation_names_are_matched_in_any_case_and_the_last_value_wins() -> None:
    caps = RateCaps.parse(["describetrainingjob=5", " ListTags = 3 ", "DescribeTrainingJob=7"])
    assert caps.rates == {"DescribeTrainingJob": 7.0, "ListTags": 3.0}


def test_no_caps_is_falsy() -> None:
    assert not RateCaps.parse([])
    assert not RateCaps()


@pytest.mark.parametrize(
    ("value", "mentions"),
    [
        ("DescribeTrainingJob", "expected OPERATION=N"),
        ("=5", "expected OPERATION=N"),
        ("DescribeTrainingJob=", "expected OPERATION=N"),
        ("DescribeTrainingJobs=5", "unknown operation 'DescribeTrainingJobs'"),
        ("ListBuckets=5", "unknown operation 'ListBuckets'"),
        ("DescribeTrainingJob=fast", "'fast' is not a number"),
        ("DescribeTrainingJob=0", "positive"),
        ("DescribeTrainingJob=-2", "positive"),
        ("DescribeTrainingJob=inf", "positive"),
        ("DescribeTrainingJob=nan", "positive"),
    ],
)
def test_bad_caps_are_refused_naming_the_value(value: str, mentions: str) -> None:
    with pytest.raises(BadRateError) as raised:
        RateCaps.parse(["ListTags=1", value])
    assert repr(value) in str(raised.value)
    assert mentions in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_callers_at_one_instant_get_successive_slots() -> None:
    clock = FrozenClock()
    bucket = TokenBucket(rate=10, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(4)]
    assert [round(w, 9) for w in waits] == [0.0, 0.1, 0.2, 0.3]
    assert clock.slept == [0.1, 0.2, 0.3]  # the first token was free: no sleep at all
    assert bucket.waited == pytest.approx(0.6)


def test_a_caller_after_the_interval_does_not_wait() -> None:
    clock = FrozenClock()
    bucket = TokenBucket(rate=4, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now = 0.25
    assert bucket.acquire() == 0.0
    clock.now = 0.3
    assert bucket.acquire() == pytest.approx(0.2)


def test_burst_tokens_are_free_and_idle_time_saves_no_more_than_the_burst() -> None:
    clock = FrozenClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, pytest.approx(0.5)]
    clock.now = 100.0  # a long pause
    waits = [bucket.acquire() for _ in range(4)]
    assert waits == [0.0, 0.0, 0.0, pytest.approx(0.5)]


def test_concurrent_callers_never_share_a_slot() -> None:
    clock = FrozenClock()
    bucket = TokenBucket(rate=100, clock=clock, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(25):
            wait = bucket.acquire()
            with lock:
                waits.append(round(wait, 6))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [round(i * 0.01, 6) for i in range(200)]


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_a_bucket_needs_a_positive_rate_and_a_burst_of_one(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


@pytest.mark.usefixtures("moto_aws")
def test_the_pacer_waits_before_each_request_of_a_capped_operation_only() -> None:
    clock = FrozenClock()
    pacer = Pacer(RateCaps.parse(["ListTrainingJobs=2"]), clock=clock, sleep=clock.sleep)
    client = boto3.client("sagemaker", region_name="us-east-1")
    pacer.attach(client)
    for _ in range(3):
        client.list_training_jobs()
    client.list_notebook_instances()  # not capped
    assert clock.slept == [0.5, 1.0]
    assert pacer.waited() == pytest.approx(1.5)


def test_one_pacer_shares_an_operation_budget_across_clients_and_services() -> None:
    """Every attempt takes a token, sent or not: here each one fails to connect (port 9, closed)."""
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    clock = FrozenClock()
    pacer = Pacer(RateCaps.parse(["DescribeTrainingJob=4", "GetResources=1"]), clock, clock.sleep)
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=1)
    endpoint = "http://127.0.0.1:9"
    sagemakers = [
        boto3.client("sagemaker", region_name="us-east-1", endpoint_url=endpoint, config=config)
        for _ in range(2)
    ]
    tagging = boto3.client(
        "resourcegroupstaggingapi", region_name="us-east-1", endpoint_url=endpoint, config=config
    )
    for client in (*sagemakers, tagging):
        pacer.attach(client)
    calls: list[Callable[[], object]] = [
        lambda: sagemakers[0].describe_training_job(TrainingJobName="a"),
        lambda: sagemakers[1].describe_training_job(TrainingJobName="b"),
        tagging.get_resources,
        tagging.get_resources,
    ]
    for call in calls:
        with pytest.raises(EndpointConnectionError):
            call()
    assert clock.slept == [0.25, 1.0]


def test_attach_pacer_builds_a_pacer_only_when_there_are_caps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attached: list[tuple[dict[str, TokenBucket], object]] = []
    monkeypatch.setattr(
        Pacer, "attach", lambda self, client: attached.append((self.buckets, client))
    )
    client = object()
    attach_pacer(client, RateCaps())
    assert attached == []
    attach_pacer(client, RateCaps.parse(["ListTags=3"]))
    assert [(list(buckets), c) for buckets, c in attached] == [(["ListTags"], client)]
