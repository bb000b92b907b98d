"""What the transport tests share: a loopback HTTP server's life, the offline keys they sign
with, and the service's check of a SigV4 signature."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """`server` answering on a thread of its own until the block ends."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def offline_keys(
    monkeypatch: pytest.MonkeyPatch, key: str, secret: str, token: str | None = None
) -> None:
    """Keys from the environment only: no profile, no config file, no proxy."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    if token is None:
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    else:
        monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


def signature_holds(headers: dict[str, str], body: bytes, credentials: Credentials) -> bool:
    """What SageMaker checks of a request received with `headers` and `body`: signed again from
    the fields it names as signed, at the host it reached, the signature is the one sent."""
    authorization = headers["Authorization"]
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    if "host" not in signed:
        return False
    received = {name: value for name, value in headers.items() if name.lower() in signed}
    request = AWSRequest("POST", f"http://{headers['Host']}/", received, body)
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(credentials, "sagemaker", "us-east-1")
    string_to_sign = auth.string_to_sign(request, auth.canonical_request(request))
    return authorization.endswith("Signature=" + auth.signature(string_to_sign, request))
