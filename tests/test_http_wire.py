"""http_wire: one request out in one write, the answer read by HTTP/1.1's framing rules."""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Iterator

import pytest

from sagemaker_inventory.aws.http_wire import SocketOptions, WireConnection


class _CannedServer:
    """Accepts one connection and answers each request with the next canned bytes; None closes
    the connection at once. Keeps the requests it received."""

    def __init__(self, answers: list[bytes | None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.answers = answers
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:  # the test ended before the connection was taken
            return
        with conn:
            for answer in self.answers:
                if answer is None:
                    return
                self.received.append(_read_request(conn))
                conn.sendall(answer)
            with contextlib.suppress(OSError):
                conn.recv(1)  # wait for the client to go

    def close(self) -> None:
        self.listener.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            while len(body) < int(line.split(b":")[1]):
                body += conn.recv(65536)
    return data


@pytest.fixture
def serve() -> Iterator[list[_CannedServer]]:
    servers: list[_CannedServer] = []
    yield servers
    for server in servers:
        server.close()


def _connect(serve: list[_CannedServer], *answers: bytes | None) -> WireConnection:
    server = _CannedServer(list(answers))
    serve.append(server)
    options = SocketOptions(connect_timeout=5, read_timeout=5)
    connection = WireConnection("127.0.0.1", server.port, f"127.0.0.1:{server.port}", options)
    connection.connect()
    return connection


def _post(connection: WireConnection, body: bytes = b"{}") -> tuple[int, dict[str, str], bytes]:
    headers: list[tuple[str, str | bytes]] = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("X-Amz-Target", b"SageMaker.DescribeTrainingJob"),
        ("Content-Length", str(len(body))),
    ]
    answer = connection.exchange("POST", "/", headers, body)
    return answer.status, dict(answer.headers), answer.body


def test_a_request_goes_out_as_one_http_1_1_message_with_the_signed_host(
    serve: list[_CannedServer],
) -> None:
    connection = _connect(serve, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    assert _post(connection, b'{"a":1}') == (200, {"Content-Length": "2"}, b"{}")
    port = serve[0].port
    assert serve[0].received == [
        b"POST / HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{port}\r\n".encode()
        + b"Content-Type: application/x-amz-json-1.1\r\n"
        b"X-Amz-Target: SageMaker.DescribeTrainingJob\r\n"
        b"Content-Length: 7\r\n\r\n"
        b'{"a":1}'
    ]


def test_answers_follow_each_other_on_one_connection(serve: list[_CannedServer]) -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
    second = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 6\r\n\r\nsecond"
    connection = _connect(serve, first, second)
    assert _post(connection)[::2] == (200, b"first")
    assert _post(connection)[::2] == (400, b"second")
    assert connection.sock is not None


def test_a_chunked_body_is_joined_and_its_trailer_skipped(serve: list[_CannedServer]) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    connection = _connect(serve, answer, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")
    assert _post(connection)[2] == b"abcdefg"
    assert _post(connection)[2] == b"z"  # the connection is still in step


def test_interim_answers_are_skipped(serve: list[_CannedServer]) -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert _post(_connect(serve, answer))[::2] == (200, b"ok")


def test_folded_and_repeated_fields_are_kept_in_order(serve: list[_CannedServer]) -> None:
    answer = b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nX-B: 1\r\nX-B: 2\r\nContent-Length: 0\r\n\r\n"
    connection = _connect(serve, answer)
    headers = connection.exchange("POST", "/", [], b"").headers
    assert headers == [("X-A", "one two"), ("X-B", "1"), ("X-B", "2"), ("Content-Length", "0")]


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ],
)
def test_an_answer_that_ends_the_connection_closes_it(
    serve: list[_CannedServer], answer: bytes
) -> None:
    connection = _connect(serve, answer)
    assert _post(connection)[2] == b"ok"
    assert connection.sock is None


def test_a_body_without_length_runs_to_the_end_of_the_connection(
    serve: list[_CannedServer],
) -> None:
    connection = _connect(serve, b"HTTP/1.1 200 OK\r\n\r\nall of it", None)
    assert _post(connection)[2] == b"all of it"
    assert connection.sock is None


def test_no_answer_at_all_is_a_remote_disconnect(serve: list[_CannedServer]) -> None:
    # RemoteDisconnected, or a reset if the close overtook the request: both are resets.
    with pytest.raises(ConnectionResetError):
        _post(_connect(serve, None))


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", http.client.IncompleteRead),
        (b"SMTP ready\r\n\r\n", http.client.BadStatusLine),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", http.client.HTTPException),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n", http.client.LineTooLong),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            http.client.IncompleteRead,
        ),
    ],
    ids=["short body", "not http", "negative length", "too many fields", "long line", "bad chunk"],
)
def test_malformed_answers_raise_what_http_client_raises(
    serve: list[_CannedServer], answer: bytes, error: type[Exception]
) -> None:
    connection = _connect(serve, answer, None)  # the server closes after its answer
    with pytest.raises(error):
        _post(connection)


def test_a_line_break_in_a_field_is_refused_before_anything_is_sent(
    serve: list[_CannedServer],
) -> None:
    connection = _connect(serve, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(ValueError, match="X-Evil"):
        connection.exchange("POST", "/", [("X-Evil", "a\r\nInjected: 1")], b"")
    assert serve[0].received == []
