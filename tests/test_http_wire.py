"""http_wire: one request out in one write, the answer read by HTTP/1.1's framing rules."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from sagemaker_inventory.aws.http_wire import SocketOptions, WireConnection, kernel_timeouts


class _CannedServer:
    """Accepts one connection and answers each request with the next canned bytes; None closes
    the connection at once. Keeps the requests it received."""

    def __init__(self, answers: list[bytes | None], tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.answers = answers
        self.received: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
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


def _connect(
    serve: list[_CannedServer],
    *answers: bytes | None,
    tls: TlsPair | None = None,
    read_timeout: float = 5,
) -> WireConnection:
    server = _CannedServer(list(answers), tls.server if tls else None)
    serve.append(server)
    options = SocketOptions(5, read_timeout, tls=tls.client if tls else None)
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


class TlsPair(NamedTuple):
    server: ssl.SSLContext
    client: ssl.SSLContext  # trusts the server's certificate only, and checks its name


def _tls_pair(directory: Path) -> TlsPair:
    """A self-signed certificate for 127.0.0.1, served by one context and trusted by the other."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smi-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return TlsPair(server, client)


def test_answers_come_back_over_tls(serve: list[_CannedServer], tmp_path: Path) -> None:
    # Real AWS endpoints are HTTPS: the answer is read through the TLS socket's file as well,
    # chunked and plain, one after the other on the same connection.
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    plain = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nplan"
    connection = _connect(serve, chunked, plain, tls=_tls_pair(tmp_path))
    assert isinstance(connection.sock, ssl.SSLSocket)
    assert _post(connection)[::2] == (200, b"ok")
    assert _post(connection)[::2] == (200, b"plan")


def test_a_line_break_in_a_field_is_refused_before_anything_is_sent(
    serve: list[_CannedServer],
) -> None:
    connection = _connect(serve, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(ValueError, match="X-Evil"):
        connection.exchange("POST", "/", [("X-Evil", "a\r\nInjected: 1")], b"")
    assert serve[0].received == []


def _within(seconds: float, action: Callable[[], object]) -> BaseException | None:
    """What `action` raised, or None; fails the test if it is still waiting after `seconds` (a
    read that never times out would otherwise hang the suite)."""
    raised: list[BaseException | None] = [None]

    def run() -> None:
        try:
            action()
        except BaseException as error:
            raised[0] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "still waiting: the read timeout was lost"
    return raised[0]


@pytest.mark.parametrize("over_tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize(
    "answer",
    [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"],
    ids=["no answer", "a body that stops"],
)
def test_an_answer_that_stops_coming_ends_in_a_timeout(
    serve: list[_CannedServer], tmp_path: Path, over_tls: bool, answer: bytes
) -> None:
    tls = _tls_pair(tmp_path) if over_tls else None
    connection = _connect(serve, answer, tls=tls, read_timeout=0.2)
    assert isinstance(_within(10, lambda: _post(connection)), TimeoutError)


def test_a_send_the_server_never_takes_ends_in_a_timeout() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # connections wait in its backlog, unread
    port = listener.getsockname()[1]
    connection = WireConnection("127.0.0.1", port, f"127.0.0.1:{port}", SocketOptions(5, 0.2))
    connection.connect()
    with listener:
        error = _within(30, lambda: _post(connection, b"x" * (64 << 20)))
    assert isinstance(error, TimeoutError)


@pytest.mark.skipif(sys.platform == "win32", reason="SO_RCVTIMEO takes milliseconds on Windows")
def test_plain_connections_wait_by_the_kernels_timeout_and_tls_ones_by_pythons(
    serve: list[_CannedServer], tmp_path: Path
) -> None:
    # Python's timeout polls before every receive; CPython's blocking TLS read would restart a
    # read the kernel's timeout ended, forever, so TLS keeps Python's.
    plain = _connect(serve, b"", read_timeout=2.5)
    assert plain.sock is not None and plain.sock.gettimeout() is None
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        timeval = plain.sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("ll"))
        assert struct.unpack("ll", timeval) == (2, 500000)
    tls = _connect(serve, b"", tls=_tls_pair(tmp_path), read_timeout=2.5)
    assert tls.sock is not None and tls.sock.gettimeout() == 2.5


@pytest.mark.parametrize("seconds", [0.0, 1e-9, 1e12], ids=["zero", "below a microsecond", "huge"])
def test_timeouts_the_kernel_cannot_hold_stay_pythons(seconds: float) -> None:
    # SO_RCVTIMEO of zero means "wait forever", and a struct timeval has its bounds.
    with socket.socket() as sock:
        sock.settimeout(0.0)
        assert not kernel_timeouts(sock, seconds)
        assert sock.gettimeout() == 0.0
