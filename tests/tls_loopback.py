"""HTTPS on loopback for the tests, as real AWS is reached: a test CA and a certificate for
127.0.0.1 / localhost made with `cryptography` (a requirement of moto), moto's API served over TLS
with that certificate, and a CONNECT proxy that records the targets it tunnels to."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import select
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from threaded_server import running

TIMEOUT = 10.0  # seconds any socket of these helpers waits before giving up


@dataclass(frozen=True)
class LoopbackCertificates:
    """PEM files: the CA a client may be told to trust, and the server's certificate and key."""

    ca: Path
    certificate: Path
    key: Path


def make_certificates(directory: Path) -> LoopbackCertificates:
    """A fresh CA and a server certificate it signed, valid for 127.0.0.1 and localhost."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smi test CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(certificate_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    server = (
        _builder(server_name, ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(certificate_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = LoopbackCertificates(
        directory / "ca.pem", directory / "server.pem", directory / "key.pem"
    )
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _key_usage(*, certificate_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=certificate_sign,
        crl_sign=certificate_sign,
        encipher_only=False,
        decipher_only=False,
    )


@contextlib.contextmanager
def moto_over_tls(certificates: LoopbackCertificates) -> Iterator[str]:
    """moto's whole API (the one `moto.server.ThreadedMotoServer` serves) over TLS on 127.0.0.1,
    a free port; yields its https:// URL."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.certificate, certificates.key)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    with running(server):
        yield f"https://127.0.0.1:{server.server_port}"


@dataclass
class ConnectProxy:
    """A forward proxy for HTTPS: answers CONNECT host:port by opening a tunnel (to loopback only)
    and records each target it tunnelled to."""

    url: str
    tunnelled: list[str] = field(default_factory=list)


@contextlib.contextmanager
def connect_proxy() -> Iterator[ConnectProxy]:
    """A CONNECT proxy on 127.0.0.1 (a free port) until the block ends."""
    proxy = ConnectProxy("")
    lock = threading.Lock()

    class Tunnel(socketserver.StreamRequestHandler):
        timeout = TIMEOUT

        def handle(self) -> None:
            request = self.rfile.readline(8192).decode("latin-1").split()
            while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                pass  # the request's headers (Host, Proxy-Connection...)
            if len(request) != 3 or request[0] != "CONNECT":
                self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            host, _, port = request[1].rpartition(":")
            if host not in ("127.0.0.1", "localhost"):
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            with lock:
                proxy.tunnelled.append(request[1])
            with socket.create_connection((host, int(port)), timeout=TIMEOUT) as upstream:
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                _pipe(self.connection, upstream)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Tunnel)
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    with running(server):
        yield proxy


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until one side closes or both stay silent for TIMEOUT."""
    sockets = [client, upstream]
    while True:
        readable, _, _ = select.select(sockets, [], [], TIMEOUT)
        if not readable:
            return
        for source in readable:
            data = source.recv(65536)
            if not data:
                return
            (upstream if source is client else client).sendall(data)
