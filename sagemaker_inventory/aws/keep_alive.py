"""botocore's transport, replaced by one keep-alive connection per thread and host.

A describe-heavy run is CPU-bound, and botocore's urllib3 transport (a pool manager, a pool queue
and its lock, urllib3's response wrapper, header dictionaries copied several times) costs about as
much of a call's CPU as signing and parsing together. smi's calls are small, buffered JSON POSTs to
a handful of hosts, so `KeepAliveTransport` carries them itself, framed by `http_wire` (which says
why not `http.client`): botocore still serialises, signs,
retries (the errors below are botocore's own, so its retry rules apply unchanged), paces and
parses every call; only the bytes travel another way.

It stands in for the client's `http_session` (the object botocore's Endpoint sends with), so
`before-send` handlers (moto's mock, botocore's Stubber) still answer first. What it does not
handle it hands to botocore's own transport: a proxy, a client certificate, a streamed or
file-like body, a streamed response.
"""

from __future__ import annotations

import functools
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import SSLError as BotocoreSSLError
from botocore.httpsession import URLLib3Session, create_urllib3_context, get_cert_path
from urllib3.util.wait import wait_for_read

from sagemaker_inventory.aws.http_wire import Answer, SocketOptions, WireConnection

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest

# The answers that end a connection: the server closed it, or it broke mid-response.
_CLOSED = (
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    http.client.BadStatusLine,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)

Connection = WireConnection
# How long after an answer a connection is taken as still open (servers keep idle connections for
# many seconds, and say so when they close one at once).
TRUSTED_IDLE_S = 1.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


class KeepAliveTransport:
    """Sends botocore's prepared requests; a drop-in for a client's URLLib3Session."""

    def __init__(self, fallback: URLLib3Session, settings: TransportSettings) -> None:
        self._fallback = fallback
        self._settings = settings
        self._ssl_context: ssl.SSLContext | None = None
        self._ssl_lock = threading.Lock()
        self._local = threading.local()
        # Told of every request this transport carried and its status (see `express`).
        self.on_answer: Callable[[AWSPreparedRequest, int], None] | None = None

    def send(self, request: AWSPreparedRequest) -> AWSResponse:
        parts = urlsplit(request.url)
        if not self._carries(request, parts.scheme):
            return self._fallback.send(request)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        assert body is None or isinstance(body, (bytes, bytearray))  # see _carries
        fields = request_fields(request.headers)
        answer = self._exchange(parts, request.method, fields, body, request)
        if self.on_answer is not None:
            self.on_answer(request, answer.status)
        headers_received: Any = answer.headers  # AWSResponse copies them into HeadersDict
        return AWSResponse(request.url, answer.status, headers_received, _Body(answer.body))

    def post(self, url: str, fields: Sequence[tuple[str, str | bytes]], body: bytes) -> Answer:
        """POST a request signed already to a URL this transport has carried a request to."""
        return self._exchange(urlsplit(url), "POST", fields, body, None)

    def close(self) -> None:
        for connection in getattr(self._local, "connections", {}).values():
            connection.close()
        self._fallback.close()

    def _carries(self, request: AWSPreparedRequest, scheme: str) -> bool:
        return (
            not request.stream_output
            and isinstance(request.body, (bytes, str, type(None)))
            and scheme in _DEFAULT_PORTS
            and scheme not in self._settings.proxied_schemes
            and not self._settings.client_cert
            and "expect" not in request.headers
            and "host" not in request.headers  # the connection sends the Host field itself
        )

    def _connection_for(self, parts: SplitResult, url: str) -> Connection:
        connections = getattr(self._local, "connections", None)
        if connections is None:
            connections = self._local.connections = _Connections()
        key = (parts.scheme, parts.netloc)
        connection = connections.get(key)
        if (
            connection is not None
            and connection.sock is not None
            and _dropped(connection, connection.sock)
        ):
            connection.close()  # the server closed it while idle: reconnect below
        if connection is None:
            connection = connections[key] = self._new_connection(parts)
        if connection.sock is None:
            self._connect(connection, url)
        return connection

    def _new_connection(self, parts: SplitResult) -> Connection:
        settings = self._settings
        options = SocketOptions(
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            socket_options=settings.socket_options,
            tls=self._context() if parts.scheme == "https" else None,
        )
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        return WireConnection(parts.hostname or "", port, _host_header(parts), options)

    def _context(self) -> ssl.SSLContext:
        """botocore's own TLS settings: its context, and its CA bundle unless verify is off."""
        with self._ssl_lock:
            if self._ssl_context is None:
                context = create_urllib3_context()
                verify = self._settings.verify
                if verify:
                    context.check_hostname = True
                    context.verify_mode = ssl.CERT_REQUIRED
                    bundle = str(get_cert_path(verify))  # type: ignore[arg-type]  # True or a path
                    if Path(bundle).is_dir():
                        context.load_verify_locations(capath=bundle)
                    else:
                        context.load_verify_locations(cafile=bundle)
                else:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                self._ssl_context = context
            return self._ssl_context

    def _connect(self, connection: Connection, url: str) -> None:
        try:
            connection.connect()
        except ssl.SSLError as error:
            connection.close()
            raise BotocoreSSLError(endpoint_url=url, error=error) from error
        except TimeoutError as error:
            connection.close()
            raise ConnectTimeoutError(endpoint_url=url, error=error) from error
        except OSError as error:
            connection.close()
            raise EndpointConnectionError(endpoint_url=url, error=error) from error

    def _exchange(
        self,
        parts: SplitResult,
        method: str,
        fields: Sequence[tuple[str, str | bytes]],
        body: bytes | bytearray | None,
        request: AWSPreparedRequest | None,
    ) -> Answer:
        url = parts.geturl()
        connection = self._connection_for(parts, url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            return connection.exchange(method, target, fields, body)
        except BaseException as error:
            connection.close()  # never reuse a connection in an unknown state
            mapped = _botocore_error(error, url, request)
            if mapped is error:
                raise
            raise mapped from error


def _botocore_error(
    error: BaseException, url: str, request: AWSPreparedRequest | None
) -> BaseException:
    """The botocore exception for a failed exchange (botocore's retry rules read these); any
    other exception as it is."""
    if isinstance(error, TimeoutError):
        return ReadTimeoutError(endpoint_url=url, error=error)
    if isinstance(error, _CLOSED):
        return ConnectionClosedError(endpoint_url=url, request=request, error=error)
    if isinstance(error, ssl.SSLError):
        return BotocoreSSLError(endpoint_url=url, error=error)
    if isinstance(error, OSError):
        return ConnectionClosedError(endpoint_url=url, request=request, error=error)
    if isinstance(error, http.client.HTTPException):
        return HTTPClientError(error=error)
    return error


class _Connections(dict[tuple[str, str], Connection]):
    """One thread's connections, closed when the thread ends (its thread-local goes away)."""

    def __del__(self) -> None:
        for connection in self.values():
            connection.close()


class _Body:
    """A response body already read, in the form AWSResponse reads it."""

    __slots__ = ("_payload",)

    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._payload

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        return self._payload

    def close(self) -> None:
        pass


def request_fields(headers: Any) -> list[tuple[str, str | bytes]]:
    """A request's header fields. botocore's HeadersDict yields them through the Mapping
    protocol, a lookup per field; its own dict (of keys whose str() is the name as given)
    gives them at once."""
    fields = getattr(headers, "_dict", None)  # no public accessor
    if isinstance(fields, dict):
        return [(str(name), value) for name, value in fields.items()]
    return list(headers.items())


@functools.lru_cache(maxsize=64)
def host_field(url: str) -> str:
    """The Host field of a request to `url`, as botocore signs it (and this transport sends it)."""
    return _host_header(urlsplit(url))


def _host_header(parts: SplitResult) -> str:
    """The Host field botocore signs: the host, with its port unless the scheme's default."""
    host = (parts.hostname or "").encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{parts.port}"
    return host


def _dropped(connection: Connection, sock: socket.socket) -> bool:
    """Whether the server closed (or broke) a connection while it was idle: its socket is
    readable. A connection that answered less than `TRUSTED_IDLE_S` ago is taken as open, without
    a poll that costs a system call and a turn of the GIL per request: a server that ends a
    connection so soon without saying so (Connection: close) breaks the next exchange, which
    botocore retries like any connection it finds closed."""
    if time.monotonic() - connection.answered_at < TRUSTED_IDLE_S:
        return False
    try:
        return bool(wait_for_read(sock, timeout=0.0))
    except OSError:
        return True


def use_keep_alive(client: Any) -> None:
    """Send `client`'s requests with a KeepAliveTransport (botocore's transport stays the
    fallback). Leaves the client alone if its endpoint is not the shape this botocore has."""
    endpoint = getattr(client, "_endpoint", None)  # botocore has no public accessor
    current = getattr(endpoint, "http_session", None)
    settings = settings_of(current) if isinstance(current, URLLib3Session) else None
    if current is not None and settings is not None:
        endpoint.http_session = KeepAliveTransport(current, settings)  # type: ignore[union-attr]


@dataclass(frozen=True)
class TransportSettings:
    """What botocore resolved for a client's transport when it made the client."""

    verify: bool | str  # False, True (botocore's CA bundle) or a bundle file or directory
    connect_timeout: float
    read_timeout: float
    socket_options: tuple[tuple[int, int, int], ...]
    proxied_schemes: frozenset[str]  # botocore applied NO_PROXY to the endpoint already
    client_cert: bool


def settings_of(session: Any) -> TransportSettings | None:
    """`session`'s settings (private attributes of URLLib3Session), or None if it lacks one."""
    names = ("_verify", "_timeout", "_socket_options", "_proxy_config", "_cert_file")
    if not all(hasattr(session, name) for name in names):
        return None
    timeout = session._timeout
    if isinstance(timeout, (int, float)):
        connect = read = float(timeout)
    else:  # urllib3's Timeout(connect=, read=)
        connect, read = timeout.connect_timeout, timeout.read_timeout
    proxies = session._proxy_config
    return TransportSettings(
        verify=session._verify,
        connect_timeout=connect,
        read_timeout=read,
        socket_options=tuple(session._socket_options or ()),
        proxied_schemes=frozenset(
            scheme for scheme in ("http", "https") if proxies.proxy_url_for(f"{scheme}://host/")
        ),
        client_cert=session._cert_file is not None,
    )
