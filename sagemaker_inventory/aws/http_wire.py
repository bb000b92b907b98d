"""HTTP/1.1 on one keep-alive socket: a request out in one write, a response in, nothing else.

`http.client` sends a request header by header and reads every response's headers through the
`email` package's parser, which together cost several times what the socket itself does on a
fully populated DescribeTrainingJob answer. smi's requests are small, buffered POSTs whose
headers botocore has already built and signed, so `WireConnection` frames them itself: the
request as one buffer, the response read by RFC 9112's rules (status line, header fields, then a
body delimited by Transfer-Encoding: chunked, Content-Length, or the connection's end). It raises
what http.client raises for the same faults, so `keep_alive` maps them to botocore's errors.

Timeouts on a plain connection are the kernel's (SO_RCVTIMEO, SO_SNDTIMEO) on a blocking socket.
Python's own socket timeout polls the socket before every send and receive: a second system call,
and a second release and retake of the GIL, which a run's describe threads contend for. A TLS
connection keeps Python's timeout: CPython's blocking TLS read starts the read again when the
kernel's timeout ends it, so it would wait forever.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

# http.client's own bounds: no answer may make smi read an unbounded header section.
MAX_LINE = 65536
MAX_HEADERS = 100
_NO_BODY_STATUSES = frozenset({204, 304})
# Bytes a connection takes from its socket at once: room for a fully populated
# DescribeTrainingJob answer in one receive, where io's default buffer took two, each a system
# call and a turn of the GIL.
READ_BUFFER = 64 * 1024
# Seconds a struct timeval's fields hold on every platform (longer waits keep Python's timeout).
_LONGEST_KERNEL_TIMEOUT = 2**31 - 1


@dataclass(frozen=True)
class SocketOptions:
    """How to open a connection: timeouts, extra socket options, and TLS (None: plain HTTP)."""

    connect_timeout: float
    read_timeout: float
    socket_options: tuple[tuple[int, int, int], ...] = ()
    tls: ssl.SSLContext | None = None


@dataclass(frozen=True)
class Answer:
    """One response: status, header fields in the order received, and the whole body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class WireConnection:
    """One connection to `host`:`port`, opened by `connect` (again after the server ends it).

    `host_header` is the Host field to send: the URL's host, and its port unless it is the
    scheme's default, the form botocore signs (SigV4 signs the host).
    """

    def __init__(self, host: str, port: int, host_header: str, options: SocketOptions) -> None:
        self.host, self.port, self.options = host, port, options
        self._host_line = f"Host: {host_header}\r\n".encode("latin-1")
        self.sock: socket.socket | None = None
        self._reader: BinaryIO | None = None
        self.answered_at = 0.0  # time.monotonic() of the last whole answer

    def connect(self) -> None:
        options = self.options
        sock = socket.create_connection((self.host, self.port), options.connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for option in options.socket_options:
                sock.setsockopt(*option)
            if options.tls is not None:
                sock = options.tls.wrap_socket(sock, server_hostname=self.host)
                sock.settimeout(options.read_timeout)
            elif not kernel_timeouts(sock, options.read_timeout):
                sock.settimeout(options.read_timeout)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._reader = io.BufferedReader(_Receiver(sock), READ_BUFFER)

    def close(self) -> None:
        reader, sock = self._reader, self.sock
        self._reader = self.sock = None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()

    def exchange(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str | bytes]],
        body: bytes | bytearray | None,
    ) -> Answer:
        """Send one request and read its whole answer (connected already: see `connect`)."""
        assert self.sock is not None and self._reader is not None
        try:
            self.sock.sendall(_request_bytes(method, target, self._host_line, headers, body))
        except BlockingIOError:  # the kernel's send timeout ran out
            raise TimeoutError("timed out") from None
        answer, keep_open = _read_answer(self._reader, method)
        if not keep_open:
            self.close()
        self.answered_at = time.monotonic()
        return answer


def kernel_timeouts(sock: socket.socket, seconds: float) -> bool:
    """Have the kernel end each send and receive of `sock` that waits longer than `seconds`, and
    make the socket blocking; False (nothing changed) where the platform cannot."""
    if sys.platform == "win32" or not 0 < seconds < _LONGEST_KERNEL_TIMEOUT:
        return False  # Windows takes milliseconds; 0 would mean "wait forever" to the kernel
    whole = int(seconds)
    micro = round((seconds - whole) * 1_000_000)
    if whole == 0 and micro == 0:
        return False
    timeval = struct.pack("ll", whole, micro)  # struct timeval; setsockopt checks its size
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
    except OSError:
        return False
    sock.settimeout(None)
    return True


class _Receiver(io.RawIOBase):
    """A socket's receiving side for a buffered reader. A receive the kernel's timeout ended
    raises TimeoutError, as one that Python's timeout ended does (`makefile`'s reader would
    take it for a non-blocking socket with nothing to read yet)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self._sock.recv_into(buffer)
        except BlockingIOError:
            raise TimeoutError("timed out") from None


def _request_bytes(
    method: str,
    target: str,
    host_line: bytes,
    headers: Sequence[tuple[str, str | bytes]],
    body: bytes | bytearray | None,
) -> bytes:
    parts = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), host_line]
    for name, value in headers:
        raw = value if isinstance(value, bytes) else value.encode("latin-1")
        if b"\r" in raw or b"\n" in raw or not name.isascii() or ":" in name:
            # As http.client refuses them: a line break in a field would split the request.
            raise ValueError(f"invalid HTTP header {name!r}")
        parts += (name.encode("ascii"), b": ", raw, b"\r\n")
    parts.append(b"\r\n")
    if body:
        parts.append(body if isinstance(body, bytes) else bytes(body))
    return b"".join(parts)


def _read_answer(reader: BinaryIO, method: str) -> tuple[Answer, bool]:
    """The answer, and whether the connection may carry another request."""
    version, status = _read_status(reader)
    while 100 <= status < 200:  # interim answers (100 Continue) come before the real one
        _read_fields(reader)
        version, status = _read_status(reader)
    fields = _read_fields(reader)
    lookup = {name.lower(): value for name, value in fields}
    tokens = lookup.get("connection", "").lower()
    keep_open = "close" not in tokens and (version == "HTTP/1.1" or "keep-alive" in tokens)
    if method == "HEAD" or status in _NO_BODY_STATUSES:
        return Answer(status, fields, b""), keep_open
    if "chunked" in lookup.get("transfer-encoding", "").lower():
        return Answer(status, fields, _read_chunked(reader)), keep_open
    length = lookup.get("content-length")
    if length is None:  # the body ends where the connection does
        return Answer(status, fields, reader.read()), False
    return Answer(status, fields, _read_exactly(reader, _content_length(length))), keep_open


def _read_status(reader: BinaryIO) -> tuple[str, int]:
    line = _read_line(reader)
    if not line:
        # The server closed the connection without answering (an idle keep-alive timeout).
        raise http.client.RemoteDisconnected("Remote end closed connection without response")
    version, _, rest = line.decode("latin-1").partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise http.client.BadStatusLine(line.decode("latin-1"))
    return version, int(code)


def _read_fields(reader: BinaryIO) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    while True:
        line = _read_line(reader)
        if line in (b"\r\n", b"\n", b""):
            return fields
        if len(fields) >= MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        text = line.decode("latin-1")
        if text[0] in " \t" and fields:  # an obsolete folded continuation of the last field
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {text.strip()}")
            continue
        name, _, value = text.partition(":")
        fields.append((name.strip(), value.strip()))


def _read_line(reader: BinaryIO) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong("header line")
    return line


def _content_length(value: str) -> int:
    try:
        length = int(value)
    except ValueError:
        raise http.client.HTTPException(f"invalid Content-Length {value!r}") from None
    if length < 0:
        raise http.client.HTTPException(f"invalid Content-Length {value!r}")
    return length


def _read_exactly(reader: BinaryIO, length: int) -> bytes:
    data = reader.read(length)
    if len(data) < length:
        raise http.client.IncompleteRead(data, length - len(data))
    return data


def _read_chunked(reader: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = _read_line(reader).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(chunks)) from None
        if size == 0:
            _read_fields(reader)  # trailer fields, which smi has no use for
            return b"".join(chunks)
        chunks.append(_read_exactly(reader, size))
        _read_exactly(reader, 2)  # the CRLF after each chunk
