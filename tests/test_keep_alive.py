"""KeepAliveTransport: botocore's calls carried over one keep-alive connection per thread."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.credentials import Credentials
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from loopback import offline_keys, serving, signature_holds

from sagemaker_inventory.aws import keep_alive
from sagemaker_inventory.aws.keep_alive import KeepAliveTransport
from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory

EMPTY_PAGE = json.dumps({"TrainingJobSummaries": []}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[int, dict[str, str], bytes]] = []  # (connection, headers, body)
        self.connections = 0
        self.plan: list[
            str
        ] = []  # what to do with the next requests: "ok", "drop", "close", "quiet close", "hang"
        self.lock = threading.Lock()
        self.closed = threading.Event()  # set when a connection has ended

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_action(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else "ok"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1
            self.number = self.server.connections

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests.append((self.number, dict(self.headers), body))
        action = self.server.next_action()
        if action == "drop":  # the connection breaks before any answer
            self.close_connection = True
            return
        if action == "hang":
            threading.Event().wait(2)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(EMPTY_PAGE)))
        self.send_header("x-amzn-RequestId", "req-1")
        if action == "close":
            self.send_header("Connection", "close")
        if action in ("close", "quiet close"):
            self.close_connection = True
        self.end_headers()
        self.wfile.write(EMPTY_PAGE)

    def finish(self) -> None:
        super().finish()
        self.server.closed.set()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    server = _Server()
    with serving(server):
        yield server


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    offline_keys(monkeypatch, "AKIDTESTKEEPALIVE", "secret")


def _client(url: str, **options: Any) -> Any:
    factory = SessionFactory(ClientOptions(endpoint_url=url, **options))
    return factory.client(factory.session(None), "sagemaker", "us-east-1")


def test_clients_send_with_the_keep_alive_transport(server: _Server) -> None:
    client = _client(server.url)
    assert isinstance(client._endpoint.http_session, KeepAliveTransport)
    assert client.list_training_jobs()["TrainingJobSummaries"] == []


def test_one_connection_carries_a_threads_calls_signed_as_botocore_signed_them(
    server: _Server,
) -> None:
    client = _client(server.url)
    for _ in range(5):
        client.list_training_jobs(MaxResults=7)
    assert server.connections == 1
    assert len(server.requests) == 5
    _, headers, body = server.requests[-1]
    assert headers["X-Amz-Target"] == "SageMaker.ListTrainingJobs"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDTESTKEEPALIVE/")
    assert json.loads(body) == {"MaxResults": 7}


def test_each_thread_has_its_own_connection(server: _Server) -> None:
    client = _client(server.url)
    barrier = threading.Barrier(3)

    def call(_: int) -> None:
        barrier.wait()
        for _ in range(3):
            client.list_training_jobs()

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(call, range(3)))
    assert server.connections == 3
    assert len(server.requests) == 9


def test_a_connection_the_server_closed_is_replaced(server: _Server) -> None:
    client = _client(server.url)
    server.plan = ["close"]
    client.list_training_jobs()  # answered, then the server closes the connection
    client.list_training_jobs()
    assert server.connections == 2
    assert len(server.requests) == 2


def test_a_connection_the_server_closed_while_idle_is_replaced_before_it_is_used(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keep_alive, "TRUSTED_IDLE_S", 0.0)
    client = _client(server.url, max_attempts=0)
    server.plan = ["quiet close"]  # answered, then closed without a word
    client.list_training_jobs()
    assert server.closed.wait(5)
    client.list_training_jobs()
    assert (server.connections, len(server.requests)) == (2, 2)


def test_a_connection_that_just_answered_is_used_again_without_a_poll(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    polls: list[object] = []
    monkeypatch.setattr(keep_alive, "wait_for_read", lambda sock, timeout: polls.append(sock))
    client = _client(server.url)
    for _ in range(5):
        client.list_training_jobs()
    assert (server.connections, polls) == (1, [])


def test_a_quiet_close_right_after_an_answer_is_retried_by_botocore(server: _Server) -> None:
    client = _client(server.url, max_attempts=3)
    server.plan = ["quiet close"]
    client.list_training_jobs()
    assert server.closed.wait(5)
    assert client.list_training_jobs()["TrainingJobSummaries"] == []
    assert server.connections == 2


def test_a_connection_dropped_before_the_answer_is_retried_by_botocore(server: _Server) -> None:
    client = _client(server.url, max_attempts=3)
    server.plan = ["drop"]
    assert client.list_training_jobs()["TrainingJobSummaries"] == []
    assert len(server.requests) == 2  # the dropped attempt, then botocore's retry
    assert server.connections == 2


def test_an_answer_slower_than_the_read_timeout_is_botocores_read_timeout(
    server: _Server,
) -> None:
    client = _client(server.url, max_attempts=0, read_timeout=0.2)
    server.plan = ["hang"]
    with pytest.raises(ReadTimeoutError):
        client.list_training_jobs()


def test_a_refused_connection_is_botocores_endpoint_connection_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    client = _client(f"http://127.0.0.1:{port}", max_attempts=0)
    with pytest.raises(EndpointConnectionError):
        client.list_training_jobs()


def test_requests_through_a_proxy_are_left_to_botocore(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "")
    client = _client(server.url)
    transport = client._endpoint.http_session
    sent: list[str] = []
    monkeypatch.setattr(transport._fallback, "send", lambda request: sent.append(request.url))
    with pytest.raises(AttributeError):  # the stub answers None, which botocore cannot read
        client.list_training_jobs()
    assert sent == [server.url + "/"]
    assert server.requests == []


@pytest.mark.parametrize("verify", [True, False, "bundle"])
def test_tls_follows_botocores_verify_setting(verify: Any, tmp_path: Any) -> None:
    import certifi

    bundle = certifi.where()
    transport = _client("https://sagemaker.example.com")._endpoint.http_session
    settings = replace(transport._settings, verify=bundle if verify == "bundle" else verify)
    context = KeepAliveTransport(transport._fallback, settings)._context()
    if verify is False:
        assert (context.verify_mode, context.check_hostname) == (ssl.CERT_NONE, False)
    else:
        assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
        assert context.cert_store_stats()["x509_ca"] > 0


def test_the_host_field_sent_is_the_host_botocore_signed(server: _Server) -> None:
    _client(server.url).list_training_jobs(MaxResults=7)
    _, headers, body = server.requests[-1]
    assert signature_holds(headers, body, Credentials("AKIDTESTKEEPALIVE", "secret"))


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://api.sagemaker.us-east-1.amazonaws.com/", "api.sagemaker.us-east-1.amazonaws.com"),
        ("https://Example.COM:443/", "example.com"),
        ("http://example.com:80/", "example.com"),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("https://[::1]:8443/", "[::1]:8443"),
        ("https://[::1]/", "[::1]"),
    ],
)
def test_the_host_field_is_botocores_signed_host(url: str, host: str) -> None:
    from urllib.parse import urlsplit

    from botocore.auth import _host_from_url

    from sagemaker_inventory.aws.keep_alive import _host_header

    assert _host_header(urlsplit(url)) == host == _host_from_url(url)
