"""Answers are checked whatever carries them: a 200 that is not the operation's document, or a
describe about another job, is retried within botocore's retry loop, then fails its job or scope,
never ends a listing early nor writes one job's data as another's."""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from click.testing import CliRunner

from sagemaker_inventory.aws.answer_checks import (
    ANSWER_ATTEMPTS,
    check_answers,
    expected_of,
)
from sagemaker_inventory.aws.errors import (
    UnexpectedAnswerError,
    describe_failure,
    is_job_failure,
)
from sagemaker_inventory.aws.fetch import ListFilters, iter_job_summaries, iter_tagged_jobs
from sagemaker_inventory.cli import cli
from sagemaker_inventory.exit_codes import ExitCode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from fake_endpoint import (
    FakeConfig,
    FakeServer,
    FakeState,
    Handler,
    Where,
    describe_job,
    job_name,
    where_of,
)
from threaded_server import running

JOBS = 150  # two listing pages of ListTrainingJobs (100 a page), the second from token "100"
EAST, WEST = "us-east-1", "us-west-2"
HTML = b"<html><body>Service Unavailable</body></html>"
Bodies = Callable[[Where], bytes]


class Faults:
    """Bodies to answer with (HTTP 200) instead of the fake's own, by (operation, region, key):
    key is a listing's token ("" for its first page), the job a describe asks for or the ARN
    ListTags asks for. A fault
    given `times=None` answers so for ever. Counts every request by the same key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._left: dict[tuple[str, str, str], tuple[Bodies, int | None]] = {}
        self.asked: Counter[tuple[str, str, str]] = Counter()

    def add(self, operation: str, region: str, key: str, body: Bodies, times: int | None) -> None:
        self._left[(operation, region, key)] = (body, times)

    def take(self, operation: str, where: Where, key: str) -> bytes | None:
        with self._lock:
            self.asked[(operation, where.region, key)] += 1
            body, times = self._left.get((operation, where.region, key), (None, 0))
            if body is None or times == 0:
                return None
            if times is not None:
                self._left[(operation, where.region, key)] = (body, times - 1)
        return body(where)


class FaultyHandler(Handler):
    server: FaultyServer

    def answer_json(self, operation: str, body: dict[str, Any]) -> None:
        names = ("NextToken", "PaginationToken", "TrainingJobName", "ResourceArn")
        key = next((body[name] for name in names if body.get(name)), "")
        where = where_of(self.headers["Authorization"])
        fault = self.server.faults.take(operation, where, str(key))
        if fault is None:
            return super().answer_json(operation, body)
        self.send(200, fault)


class FaultyServer(FakeServer):
    def __init__(self, state: FakeState, faults: Faults) -> None:
        # FakeServer's listen backlog and keep-alive; its handler (TCP_NODELAY) with faults.
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), FaultyHandler)
        self.state = state
        self.faults = faults


@contextmanager
def serving(config: FakeConfig) -> Iterator[tuple[str, Faults]]:
    faults = Faults()
    server = FaultyServer(FakeState(config), faults)
    with running(server):
        yield server.url, faults


@pytest.fixture
def served() -> Iterator[tuple[str, Faults]]:
    with serving(FakeConfig(jobs=JOBS, tagged_every=3)) as served:
        yield served


@pytest.fixture
def served_without_bulk_tags() -> Iterator[tuple[str, Faults]]:
    """Every job's tags come from ListTags (GetResources is denied)."""
    with serving(FakeConfig(jobs=JOBS, tagged_every=3, deny_bulk_tags=True)) as served:
        yield served


def fixed(body: bytes) -> Bodies:
    return lambda where: body


def another_job(index: int) -> Bodies:
    """A describe answer about job `index` of the region asked."""
    return lambda where: json.dumps(describe_job(index, Where(region=where.region))).encode()


def checked_client(url: str, service: str, waits: list[float], attempts: int = 10) -> Any:
    client = botocore.session.get_session().create_client(
        service,
        region_name=EAST,
        endpoint_url=url,
        config=Config(retries={"mode": "standard", "max_attempts": attempts}),
    )
    check_answers(client, waits.append)
    return client


# -- a client's calls, against the loopback fake ----------------------------------------------


def test_a_listing_page_answered_empty_once_is_asked_again_from_its_token(
    served: tuple[str, Faults],
) -> None:
    url, faults = served
    faults.add("ListTrainingJobs", EAST, "100", fixed(b"{}"), times=1)
    waits: list[float] = []
    client = checked_client(url, "sagemaker", waits)
    names = [s["TrainingJobName"] for s in iter_job_summaries(client, ListFilters())]
    assert sorted(names) == [job_name(i) for i in range(JOBS)]
    assert faults.asked[("ListTrainingJobs", EAST, "")] == 1  # no page repeated
    assert faults.asked[("ListTrainingJobs", EAST, "100")] == 2
    assert len(waits) == 1 and 0 <= waits[0] <= 1  # botocore's first backoff, through `wait`


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"{}", "without TrainingJobSummaries"),
        (HTML, "not a JSON document"),
        (b"[]", "not a JSON document"),
        (b"null", "not a JSON document"),
        (b"", "not a JSON document"),
        (b'{"TrainingJobSummaries": [{"TrainingJobName": "x"}]}', "without TrainingJobArn"),
    ],
)
def test_a_listing_page_that_stays_wrong_fails_the_listing_after_bounded_attempts(
    served: tuple[str, Faults], body: bytes, said: str
) -> None:
    url, faults = served
    faults.add("ListTrainingJobs", EAST, "100", fixed(body), times=None)
    waits: list[float] = []
    client = checked_client(url, "sagemaker", waits)
    listed = []
    with pytest.raises(UnexpectedAnswerError) as raised:
        listed.extend(iter_job_summaries(client, ListFilters()))
    assert faults.asked[("ListTrainingJobs", EAST, "100")] == ANSWER_ATTEMPTS
    assert len(waits) == ANSWER_ATTEMPTS - 1
    message = str(raised.value)
    assert message.startswith("ListTrainingJobs ") and said in message
    assert f"({ANSWER_ATTEMPTS} attempts)" in message
    assert "UnexpectedAnswerError" not in message and "Error" not in message
    assert describe_failure(raised.value).as_dict() == {
        "code": "UnexpectedAnswer",
        "message": message,
    }


def test_the_clients_own_attempts_bound_the_retries_of_a_bad_answer(
    served: tuple[str, Faults],
) -> None:
    url, faults = served
    faults.add("ListTrainingJobs", EAST, "", fixed(HTML), times=None)
    waits: list[float] = []
    client = checked_client(url, "sagemaker", waits, attempts=0)  # one attempt in all
    with pytest.raises(UnexpectedAnswerError, match=r"\(1 attempt\)"):
        list(iter_job_summaries(client, ListFilters()))
    assert faults.asked[("ListTrainingJobs", EAST, "")] == 1 and waits == []


def test_a_describe_about_another_job_is_asked_again_then_is_right(
    served: tuple[str, Faults],
) -> None:
    url, faults = served
    faults.add("DescribeTrainingJob", EAST, job_name(5), another_job(6), times=1)
    waits: list[float] = []
    client = checked_client(url, "sagemaker", waits)
    answer = client.describe_training_job(TrainingJobName=job_name(5))
    assert answer["TrainingJobName"] == job_name(5)
    assert answer["TrainingJobArn"].endswith(job_name(5))
    assert faults.asked[("DescribeTrainingJob", EAST, job_name(5))] == 2 and len(waits) == 1


def test_a_describe_always_about_another_job_fails_that_job(served: tuple[str, Faults]) -> None:
    url, faults = served
    faults.add("DescribeTrainingJob", EAST, job_name(5), another_job(6), times=None)
    client = checked_client(url, "sagemaker", [])
    with pytest.raises(UnexpectedAnswerError) as raised:
        client.describe_training_job(TrainingJobName=job_name(5))
    assert str(raised.value) == (
        f"DescribeTrainingJob of job {job_name(5)!r} answered for job {job_name(6)!r}"
        f" ({ANSWER_ATTEMPTS} attempts)"
    )
    assert is_job_failure(raised.value)
    # Other jobs of the same client are answered as usual.
    assert client.describe_training_job(TrainingJobName=job_name(7))["TrainingJobName"] == (
        job_name(7)
    )


def test_a_tagging_page_that_is_not_a_document_is_asked_again(served: tuple[str, Faults]) -> None:
    url, faults = served
    faults.add("GetResources", EAST, "", fixed(HTML), times=1)
    client = checked_client(url, "resourcegroupstaggingapi", [])
    tagged = dict(iter_tagged_jobs(client))
    assert len(tagged) == len(range(0, JOBS, 3))
    assert faults.asked[("GetResources", EAST, "")] == 2


def test_a_stop_during_the_backoff_of_a_bad_answer_ends_the_call(
    served: tuple[str, Faults],
) -> None:
    url, faults = served
    faults.add("ListTrainingJobs", EAST, "", fixed(b"{}"), times=None)

    class Stop(Exception):
        pass

    def stop(seconds: float) -> None:
        raise Stop

    client = botocore.session.get_session().create_client(
        "sagemaker", region_name=EAST, endpoint_url=url
    )
    check_answers(client, stop)
    with pytest.raises(Stop):
        client.list_training_jobs()
    assert faults.asked[("ListTrainingJobs", EAST, "")] == 1


def test_a_describe_naming_its_job_in_another_case_is_that_job(served: tuple[str, Faults]) -> None:
    url, faults = served

    def shouted(where: Where) -> bytes:
        answer = describe_job(5, Where(region=where.region))
        return json.dumps({**answer, "TrainingJobName": job_name(5).upper()}).encode()

    faults.add("DescribeTrainingJob", EAST, job_name(5), shouted, times=None)
    client = checked_client(url, "sagemaker", [])
    # SageMaker names are unique whatever their case (its ARNs are lower-case).
    answer = client.describe_training_job(TrainingJobName=job_name(5))
    assert answer["TrainingJobName"] == job_name(5).upper()
    assert faults.asked[("DescribeTrainingJob", EAST, job_name(5))] == 1


def test_a_describe_without_model_artifacts_is_the_jobs_as_sagemaker_sends_nova_jobs(
    served: tuple[str, Faults],
) -> None:
    url, faults = served

    def nova(where: Where) -> bytes:
        answer = describe_job(5, Where(region=where.region))
        return json.dumps({**answer, "ModelArtifacts": None}).encode()

    faults.add("DescribeTrainingJob", EAST, job_name(5), nova, times=None)
    client = checked_client(url, "sagemaker", [])
    answer = client.describe_training_job(TrainingJobName=job_name(5))
    assert answer["TrainingJobName"] == job_name(5) and "ModelArtifacts" not in answer
    assert faults.asked[("DescribeTrainingJob", EAST, job_name(5))] == 1


# -- the model, and clients the checks leave alone ---------------------------------------------


def test_required_members_come_from_the_model_once_per_operation() -> None:
    session = botocore.session.get_session()
    first = session.create_client("sagemaker", region_name=EAST).meta.service_model
    second = session.create_client("sagemaker", region_name=WEST).meta.service_model
    expected = expected_of(first.operation_model("DescribeTrainingJob"))
    assert expected is expected_of(second.operation_model("DescribeTrainingJob"))
    assert {"TrainingJobName", "TrainingJobArn"} <= set(expected.required)
    assert "ModelArtifacts" not in expected.required  # the model requires it; Nova jobs lack it
    listing = expected_of(first.operation_model("ListTrainingJobs"))
    assert listing.required == ("TrainingJobSummaries",)
    assert dict(listing.item_required)["TrainingJobSummaries"]


def test_clients_of_other_services_are_left_alone() -> None:
    client = botocore.session.get_session().create_client("sts", region_name=EAST)
    before = client.meta.events
    check_answers(client, lambda seconds: None)
    assert client.meta.events is before
    with Stubber(client) as stub:
        stub.add_response("get_caller_identity", {})
        assert "Account" not in client.get_caller_identity()


# -- smi collect, end to end -------------------------------------------------------------------


def collect(url: str, *options: str) -> tuple[int, list[dict[str, Any]], str]:
    arguments = ["collect", "-r", EAST, "-r", WEST, "--endpoint-url", url, *options]
    result = CliRunner().invoke(cli, arguments)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, records, result.stderr


def names_in(records: list[dict[str, Any]], region: str) -> list[str]:
    return sorted(
        r["training_job_name"] for r in records if r["training_job_arn"].split(":")[3] == region
    )


def every_job() -> list[str]:
    return [job_name(i) for i in range(JOBS)]


def test_collect_writes_every_job_once_when_a_page_was_empty_once(
    served: tuple[str, Faults],
) -> None:
    url, faults = served
    faults.add("ListTrainingJobs", EAST, "100", fixed(b"{}"), times=1)
    faults.add("DescribeTrainingJob", WEST, job_name(3), another_job(4), times=1)
    code, records, stderr = collect(url)
    assert code == ExitCode.OK, stderr
    assert names_in(records, EAST) == every_job() and names_in(records, WEST) == every_job()
    assert all(r["training_job_arn"].endswith(r["training_job_name"]) for r in records)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_collect_fails_the_scope_whose_page_stays_wrong_and_keeps_the_others(
    served: tuple[str, Faults], processes: str
) -> None:
    url, faults = served
    faults.add("ListTrainingJobs", EAST, "100", fixed(HTML), times=None)
    code, records, stderr = collect(url, "--processes", processes)
    assert code == ExitCode.PARTIAL
    assert names_in(records, WEST) == every_job()
    # Whatever the failed scope wrote before it stopped is its first page's, each job once.
    east = names_in(records, EAST)
    assert len(set(east)) == len(east) and set(east) <= set(every_job()[:100])
    assert f"{EAST}: UnexpectedAnswer: ListTrainingJobs answered with a body" in stderr
    assert "Traceback" not in stderr


def test_collect_reports_a_job_whose_describe_stays_about_another_and_writes_the_rest(
    served: tuple[str, Faults],
) -> None:
    url, faults = served
    faults.add("DescribeTrainingJob", EAST, job_name(5), another_job(6), times=None)
    code, records, stderr = collect(url)
    assert code == ExitCode.PARTIAL
    assert names_in(records, EAST) == [n for n in every_job() if n != job_name(5)]
    assert names_in(records, WEST) == every_job()
    assert f"1 job not collected: DescribeTrainingJob of job {job_name(5)!r}" in stderr


def test_collect_reports_a_job_whose_tags_stay_unreadable_and_writes_the_rest(
    served_without_bulk_tags: tuple[str, Faults],
) -> None:
    url, faults = served_without_bulk_tags
    arn = f"arn:aws:sagemaker:{WEST}:123456789012:training-job/{job_name(9)}"
    faults.add("ListTags", WEST, arn, fixed(b"[]"), times=None)
    code, records, stderr = collect(url)
    assert code == ExitCode.PARTIAL
    assert names_in(records, WEST) == [n for n in every_job() if n != job_name(9)]
    assert names_in(records, EAST) == every_job()
    assert f"1 job not collected: job {job_name(9)!r}: ListTags answered with a body" in stderr


def test_a_snapshot_keeps_the_jobs_of_a_scope_whose_page_stays_wrong(
    served: tuple[str, Faults], tmp_path: Path
) -> None:
    url, faults = served
    snapshot = tmp_path / "inventory.jsonl"
    first = collect(url, "--snapshot", str(snapshot))
    assert first[0] == ExitCode.OK, first[2]
    faults.add("ListTrainingJobs", EAST, "100", fixed(b"{}"), times=None)
    code, _, stderr = collect(url, "--snapshot", str(snapshot))
    assert code == ExitCode.PARTIAL
    assert "0 removed" in stderr  # the 50 jobs of the page never read are no news
    kept = [json.loads(line) for line in snapshot.read_text().splitlines()]
    assert names_in(kept, EAST) == every_job() and names_in(kept, WEST) == every_job()
