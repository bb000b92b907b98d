"""RateCaps parsing and validation, token bucket waits (injected clock), and the pacer hook.

The estimator itself (AdaptiveRate) is tested in test_adaptive_rate.py, and against simulated
services of every limit shape in test_rate_shapes.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from sagemaker_inventory.aws.pacing import (
    BadRateError,
    OperationPace,
    Pacer,
    RateCaps,
    TokenBucket,
)


class FrozenClock:
    """A clock that moves only when told or slept on (one thread); `slept` records each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 9))
        self.now += seconds


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
        ("DescribeTrainingJob=0", "between 0.001 and 10000"),
        ("DescribeTrainingJob=-2", "between 0.001 and 10000"),
        ("DescribeTrainingJob=inf", "between 0.001 and 10000"),
        ("DescribeTrainingJob=nan", "between 0.001 and 10000"),
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
    tickets = [bucket.take() for _ in range(4)]
    assert [bucket.due(t) for t in tickets] == pytest.approx([0.0, 0.1, 0.2, 0.3])


def test_a_caller_sleeps_until_its_slot_looking_again_every_recheck_seconds() -> None:
    clock = FrozenClock()
    bucket = TokenBucket(rate=2, clock=clock, sleep=clock.sleep, recheck=0.2)
    assert bucket.acquire() == 0.0
    assert bucket.acquire() == pytest.approx(0.5)
    assert clock.slept == pytest.approx([0.2, 0.2, 0.1])
    assert bucket.waited == pytest.approx(0.5)


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
    assert [bucket.due(bucket.take()) for _ in range(4)] == pytest.approx([-1.0, -0.5, 0.0, 0.5])
    clock.now = 100.0  # a long pause
    dues = [bucket.due(bucket.take()) - clock.now for _ in range(4)]
    assert dues == pytest.approx([-1.0, -0.5, 0.0, 0.5])


def test_a_rate_change_re_times_the_tickets_already_waiting() -> None:
    """Regression: callers queued at a low rate kept it for a whole queue after a faster one."""
    clock = FrozenClock()
    bucket = TokenBucket(rate=10, clock=clock, sleep=clock.sleep)
    tickets = [bucket.take() for _ in range(5)]  # due at 0, 0.1, 0.2, 0.3, 0.4
    clock.now = 0.05
    bucket.set_rate(20)
    assert [bucket.due(t) for t in tickets] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    clock.now = 0.12  # tickets 0-2 are due by now
    bucket.set_rate(5)
    assert [bucket.due(t) for t in tickets[3:]] == pytest.approx([0.3, 0.5])


def test_concurrent_callers_never_share_a_slot() -> None:
    clock = FrozenClock()
    bucket = TokenBucket(rate=100, clock=clock, sleep=clock.sleep)
    dues: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(25):
            due = bucket.due(bucket.take())
            with lock:
                dues.append(round(due, 6))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(dues) == [round(i * 0.01, 6) for i in range(200)]


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0.5)])
def test_a_bucket_needs_a_positive_rate_and_a_burst_of_one(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)


@pytest.mark.usefixtures("moto_aws")
def test_the_pacer_waits_before_each_request_of_a_capped_operation_only() -> None:
    clock = FrozenClock()
    pacer = Pacer(RateCaps.parse(["ListTrainingJobs=2"]), False, clock, clock.sleep)
    client = boto3.client("sagemaker", region_name="us-east-1")
    pacer.attach(client)
    for _ in range(3):
        client.list_training_jobs()
    client.list_notebook_instances()  # not capped
    assert sum(clock.slept) == pytest.approx(1.0)  # at 0.5 s and 1.0 s, waited in 0.1 s looks
    assert max(clock.slept) == pytest.approx(0.1)
    assert pacer.waited() == pytest.approx(1.0)


@pytest.mark.parametrize(("caps", "expected"), [((), 2), (("GetResources=1",), 0)])
def test_the_pacer_registers_per_service_not_per_operation(
    caps: tuple[str, ...], expected: int
) -> None:
    """Registering for each of SageMaker's ~400 operations on every client was most of a scope's
    CPU (botocore inspects each handler's signature)."""
    client = boto3.client("sagemaker", region_name="us-east-1")
    registered: list[str] = []
    register = client.meta.events.register

    def counting(event_name: str, handler: Any, *args: Any, **kwargs: Any) -> None:
        registered.append(event_name)
        register(event_name, handler, *args, **kwargs)

    client.meta.events.register = counting
    Pacer(RateCaps.parse(caps), adaptive=not caps).attach(client)
    assert len(registered) == expected
    assert all(name.count(".") == 1 for name in registered)  # "<event>.sagemaker"


def test_one_pacer_shares_an_operation_budget_across_clients_and_services() -> None:
    """Every attempt takes a token, sent or not: here each one fails to connect (port 9, closed)."""
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    clock = FrozenClock()
    caps = RateCaps.parse(["DescribeTrainingJob=4", "GetResources=1"])
    pacer = Pacer(caps, False, clock, clock.sleep)
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
    assert pacer.operations["DescribeTrainingJob"].waited == pytest.approx(0.25)
    assert pacer.operations["GetResources"].waited == pytest.approx(1.0)


def test_an_operation_pace_takes_the_lower_of_its_cap_and_what_it_learnt() -> None:
    clock = FrozenClock()
    pace = OperationPace(cap=30.0, adaptive=True, clock=clock, sleep=clock.sleep)
    assert pace.limit() == 30.0
    for i in range(40):
        clock.now = i * 0.05
        pace.answered(throttled=False)  # 20 a second for 2 s
    pace.answered(throttled=True)
    assert pace.limit() == pytest.approx(20.0)
    assert pace.throttles == 1


def test_a_throttle_cuts_once_for_the_requests_sent_before_it() -> None:
    """The answer to a request sent before the last cut cuts no further; one sent after it does."""
    clock = FrozenClock()
    pace = OperationPace(cap=None, adaptive=True, clock=clock, sleep=clock.sleep)
    for i in range(100):
        clock.now = i * 0.02  # 50 a second for 2 s
        pace.answered(throttled=False)
    pace.acquire()  # this thread's request leaves at 1.98, before the cut below
    clock.now = 2.0
    pace.answered(throttled=True, sent=1.99)
    learnt = pace.limit()
    assert learnt == pytest.approx(49.0)  # accepted within the last second
    pace.answered(throttled=True)  # sent at 1.98, by this thread's last acquire
    assert pace.limit() == learnt
    clock.now = 3.0  # a second later, with nothing accepted since
    pace.acquire()  # sent after the cut
    pace.answered(throttled=True)
    # 0.7 x the limit at 3.0 s (the curve probing 20% above 49 after 1 s).
    assert pace.limit() == pytest.approx(0.7 * 49 * 1.2)
    assert pace.throttles == 3


def test_an_unpaced_operation_never_sleeps() -> None:
    clock = FrozenClock()
    pace = OperationPace(cap=None, adaptive=True, clock=clock, sleep=clock.sleep)
    assert [pace.acquire() for _ in range(50)] == [0.0] * 50
    assert clock.slept == []


@pytest.mark.usefixtures("moto_aws")
def test_each_operation_learns_its_own_rate_from_throttling_answers() -> None:
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    class Body:
        def stream(self, **_: object) -> Iterator[bytes]:
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    def throttle(**_: object) -> Any:
        headers: Any = {}
        return AWSResponse("http://throttle.invalid", 400, headers, Body())

    clock = FrozenClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    config = Config(retries={"total_max_attempts": 1})
    client = boto3.client("sagemaker", region_name="us-east-1", config=config)
    pacer.attach(client)
    client.list_training_jobs()
    client.meta.events.register_first("before-send.sagemaker.ListTrainingJobs", throttle)
    with pytest.raises(client.exceptions.ClientError, match="ThrottlingException"):
        client.list_training_jobs()
    with pytest.raises(client.exceptions.ClientError, match="ValidationException"):
        client.describe_training_job(TrainingJobName="absent")
    assert pacer.operations["ListTrainingJobs"].limit() is not None
    assert pacer.operations["ListTrainingJobs"].throttles == 1
    assert pacer.operations["DescribeTrainingJob"].limit() is None  # not slowed down
