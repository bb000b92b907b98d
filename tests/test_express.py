"""Express describes: once botocore has sent a describe over the keep-alive transport, smi sends
the next ones itself, signed as botocore signs them, paced and counted; anything but a 200 answer
is botocore's full call to handle."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials
from loopback import offline_keys, serving, signature_holds

from sagemaker_inventory.aws.express import OPERATION, Template, _invocation_id, _is_throttle
from sagemaker_inventory.aws.fetch import describe_training_job
from sagemaker_inventory.aws.metering import ApiMeter
from sagemaker_inventory.aws.pacing import RateCaps
from sagemaker_inventory.aws.scope_clients import ScopeClients, make_scope_clients
from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory
from sagemaker_inventory.collect.scopes import AccountSource

KEY, SECRET, TOKEN = "AKIDEXPRESSTEST", "express-secret", "express-token"


def _document(name: str) -> dict[str, Any]:
    # As SageMaker sends it: epoch-second timestamps, and a member botocore's model lacks.
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}",
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": f"s3://bucket/{name}/model.tar.gz"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": 1700000000.125,
        "NotYetModelled": {"x": [1, 2]},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each describe
        self.plan: list[str] = []  # the next describes' fate: "throttle", "vanish", "drop"
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def describes(self) -> list[tuple[dict[str, str], bytes]]:
        return [r for r in self.requests if r[0]["X-Amz-Target"].endswith(OPERATION)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests.append((dict(self.headers), body))
            if self.headers["X-Amz-Target"].endswith(OPERATION):
                self.server.arrivals.append(time.monotonic())
            action = self.server.plan.pop(0) if self.server.plan else "ok"
        if not self.headers["X-Amz-Target"].endswith(OPERATION):
            self._answer(200, {"TrainingJobSummaries": []})
        elif action == "garble":
            self._answer(200, None)
        elif action == "drop":
            self.close_connection = True
        elif action == "throttle":
            self._answer(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        elif action == "vanish":
            message = "Requested resource not found."
            self._answer(400, {"__type": "ValidationException", "message": message})
        else:
            self._answer(200, _document(json.loads(body)["TrainingJobName"]))

    def _answer(self, status: int, document: dict[str, Any] | None) -> None:
        payload = json.dumps(document).encode() if document is not None else b"<html>proxy"
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", "req-1")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    server = _Server()
    with serving(server):
        yield server


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    offline_keys(monkeypatch, KEY, SECRET, TOKEN)


def _scope(
    url: str, caps: RateCaps | None = None, sleep: Callable[[float], None] = lambda _: None
) -> tuple[ScopeClients, ApiMeter]:
    meter = ApiMeter()
    clients = make_scope_clients(
        SessionFactory(ClientOptions(endpoint_url=url, max_attempts=3)),
        AccountSource(),
        "us-east-1",
        meter=meter,
        rate_caps=caps or RateCaps(),
        sleep=sleep,
        with_tags=False,
    )
    return clients, meter


def _describe(clients: ScopeClients, name: str) -> dict[str, Any] | None:
    return describe_training_job(clients.sagemaker, name, clients.retry, clients.express)


def _template(clients: ScopeClients) -> Template | None:
    return clients.express.template if clients.express else None


def test_describes_after_botocores_first_go_direct_signed_and_as_sent(server: _Server) -> None:
    clients, meter = _scope(server.url)
    assert clients.express is not None and _template(clients) is None
    first = _describe(clients, "job-a")  # botocore's: it shows the way
    assert _template(clients) is not None
    later = [_describe(clients, name) for name in ("job-b", "job-c")]
    assert first == _document("job-a")
    assert later == [_document("job-b"), _document("job-c")]
    botocores, *directs = server.describes()
    for headers, body in directs:
        assert signature_holds(headers, body, Credentials(KEY, SECRET, TOKEN))
        assert headers["X-Amz-Security-Token"] == TOKEN
        for name in ("User-Agent", "X-Amz-Target", "Content-Type", "Host"):
            assert headers[name] == botocores[0][name]
        assert headers["amz-sdk-invocation-id"] != botocores[0]["amz-sdk-invocation-id"]
    assert [json.loads(body) for _, body in directs] == [
        {"TrainingJobName": "job-b"},
        {"TrainingJobName": "job-c"},
    ]
    assert meter.requests() == {OPERATION: 3} and meter.retries() == 0


def test_a_throttled_direct_describe_is_learnt_and_asked_again_by_botocore(
    server: _Server,
) -> None:
    clients, meter = _scope(server.url)
    _describe(clients, "job-a")
    server.plan = ["throttle"]
    assert _describe(clients, "job-b") == _document("job-b")
    assert [json.loads(b)["TrainingJobName"] for _, b in server.describes()] == [
        "job-a",
        "job-b",
        "job-b",
    ]
    pace = clients.express._pace if clients.express else None
    assert pace is not None and pace.throttles == 1 and pace.limit() is not None
    assert meter.requests() == {OPERATION: 3} and meter.retries() == 1


def test_a_job_that_vanished_is_none_as_botocore_reports_it(server: _Server) -> None:
    clients, _ = _scope(server.url)
    _describe(clients, "job-a")
    server.plan = ["vanish", "vanish"]
    assert _describe(clients, "job-gone") is None
    assert len(server.describes()) == 3  # the direct attempt, then botocore's one call


@pytest.mark.parametrize(
    "fault", ["drop", "garble"], ids=["a dropped connection", "a 200 that is not a document"]
)
def test_a_direct_describe_that_fails_is_botocores_to_ask_again(
    server: _Server, fault: str
) -> None:
    clients, meter = _scope(server.url)
    _describe(clients, "job-a")
    server.plan = [fault]
    assert _describe(clients, "job-b") == _document("job-b")
    assert meter.requests() == {OPERATION: 3} and meter.retries() == 1


@pytest.mark.parametrize(
    ("headers", "body", "throttle"),
    [
        ([], b'{"__type": "ThrottlingException", "message": "Rate exceeded"}', True),
        ([], b'{"__type": "com.amazon.coral#ThrottlingException"}', True),
        ([("x-amzn-ErrorType", "ThrottlingException:http://internal/")], b"{}", True),
        ([], b'{"__type": "ValidationException"}', False),
        ([], b"<html>bad gateway</html>", False),
        ([], b"[]", False),
    ],
)
def test_throttles_are_told_by_their_code(
    headers: list[tuple[str, str]], body: bytes, throttle: bool
) -> None:
    assert _is_throttle(body, headers) is throttle


@pytest.mark.parametrize(
    "random",
    [bytes(16), b"\xff" * 16, bytes(range(16)), bytes.fromhex("7f3c9ae01b2d4c5e8f6a0b1c2d3e4f50")],
)
def test_the_invocation_id_is_botocores_uuid4_of_the_same_random_bytes(
    monkeypatch: pytest.MonkeyPatch, random: bytes
) -> None:
    """Rule: a direct describe's amz-sdk-invocation-id is what botocore's str(uuid.uuid4()) makes
    of the same 16 random bytes (version and variant bits set, lower-case, dashed)."""
    monkeypatch.setattr(os, "urandom", lambda size: random[:size])
    assert _invocation_id() == str(uuid.uuid4())


def test_direct_describes_keep_to_the_rate_cap(server: _Server) -> None:
    clients, _ = _scope(server.url, RateCaps({OPERATION: 20.0}), time.sleep)
    for name in ("job-a", "job-b", "job-c", "job-d", "job-e"):
        _describe(clients, name)
    assert _template(clients) is not None
    # At 20 a second, five requests span at least four intervals (a busy machine only widens
    # the gaps), the direct ones as much as botocore's.
    arrivals = server.arrivals
    assert len(arrivals) == 5 and arrivals[-1] - arrivals[0] >= 4 / 20 - 0.02


def test_describes_answered_inside_botocore_never_go_direct() -> None:
    from moto import mock_aws

    with mock_aws():
        clients, meter = _scope("https://api.sagemaker.us-east-1.amazonaws.com")
        boto3.client("sagemaker", region_name="us-east-1").create_training_job(
            TrainingJobName="job-moto",
            AlgorithmSpecification={"TrainingImage": "img:1", "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/sm",
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 5},
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
        for _ in range(2):  # moto answers in botocore's before-send event: nothing goes out
            assert (_describe(clients, "job-moto") or {})["TrainingJobName"] == "job-moto"
        assert clients.express is not None and _template(clients) is None
        assert meter.requests()[OPERATION] == 2
