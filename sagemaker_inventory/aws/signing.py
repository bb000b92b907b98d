"""SigV4 for requests smi builds itself: botocore's SigV4Auth, reading a plain field map.

botocore's AWSRequest keeps its header fields in an `email` package message, and SigV4Auth's
`headers_to_sign` copies them into another one, twice per request: filling and reading those cost
more than the signature itself. Here the fields live in `Fields`, a small case-insensitive map;
`FieldMapSigV4Auth` gathers the signed ones into a dict once per signing (botocore: twice) and
writes their canonical lines and names from it as botocore writes them. Three things botocore
redoes for every request are kept instead:
- signing keys: botocore derives one with four HMACs, though it depends only on the secret key,
  the UTC date, the region and the service. Up to `_SIGNING_KEYS_KEPT` keys are kept, in this
  process's memory only, by those four (the oldest goes first): a new secret (a refresh) or a new
  day derives its own;
- the request's time as SigV4 writes it (X-Amz-Date), formatted once a second;
- the URL's path as the canonical request states it (botocore's normalisation, by path).
Everything else (add_auth's steps, the canonical request's other parts and its assembly, the
string to sign, the key's derivation, the signature's HMAC, the date, token and Authorization
fields) is botocore's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, ItemsView, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple, cast

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

from sagemaker_inventory.aws.keep_alive import host_field


class Fields:
    """Header fields by case-insensitive name, in the order first set; the operations SigV4Auth
    applies to a request's fields (`in`, `[]`, `[]=`, `del`, `items()`)."""

    __slots__ = ("_by_name",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._by_name = {name.lower(): (name, value) for name, value in pairs}

    def copy(self) -> Fields:
        fields = Fields()
        fields._by_name = self._by_name.copy()
        return fields

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name

    def __getitem__(self, name: str) -> str:
        return self._by_name[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        self._by_name[name.lower()] = (name, value)

    def __delitem__(self, name: str) -> None:
        del self._by_name[name.lower()]

    def items(self) -> list[tuple[str, str]]:
        """(name, value) of every field, names as first given."""
        return list(self._by_name.values())

    def by_lower_name(self) -> ItemsView[str, tuple[str, str]]:
        """(lower-case name, (name, value)) of every field."""
        return self._by_name.items()


class _SignedFields(NamedTuple):
    """The fields SigV4 signs, as botocore's canonical request states them."""

    lines: str  # "name:value" by name: names lower-case, each value's runs of whitespace one space
    names: str  # the names by name, joined by ";"


# botocore's SIGNED_HEADERS_BLACKLIST (a list, looked through for every field), as a set.
_UNSIGNED = frozenset(SIGNED_HEADERS_BLACKLIST)
# URL paths as SigV4's canonical request states them, by path (one per endpoint in practice).
_normalized_paths: dict[str, str] = {}
_PATHS_KEPT = 64
# request.context's entry for the fields being signed: gathered once per signing, read twice.
_SIGNED_FIELDS = "smi_signed_fields"
# Signing keys kept at once: one per scope a run signs for (a day's, and a secret's), with room
# for the runs that sign for many scopes at once.
_SIGNING_KEYS_KEPT = 64


class FieldMapSigV4Auth(SigV4Auth):
    """botocore's SigV4Auth over a request whose `headers` are `Fields`."""

    # (secret key, date stamp, region, service) -> the signing key derived from them, shared by
    # every signer: dict reads and writes are atomic, so threads read it without a lock.
    _signing_keys: ClassVar[dict[tuple[str, str, str, str], bytes]] = {}
    _signing_keys_lock: ClassVar[threading.Lock] = threading.Lock()

    def add_auth(self, request: AWSRequest) -> None:
        # botocore's add_auth step for step (bar its debug logs: smi keeps botocore's loggers at
        # WARNING), but for the time, formatted once a second rather than for every request, and
        # the signed fields, gathered once rather than twice.
        if self.credentials is None:
            raise NoCredentialsError()
        request.context["timestamp"] = sigv4_timestamp()
        self._modify_request_before_signing(request)  # type: ignore[attr-defined]
        request.context[_SIGNED_FIELDS] = _signed_fields(request)
        string_to_sign = self.string_to_sign(request, self.canonical_request(request))
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)  # type: ignore[attr-defined]

    def _normalize_url_path(self, path: str) -> str:
        # botocore's, remembered: a pure function of the path, which every describe shares.
        normalized = _normalized_paths.get(path)
        if normalized is None:
            if len(_normalized_paths) >= _PATHS_KEPT:
                _normalized_paths.clear()
            normalized = super()._normalize_url_path(path)  # type: ignore[misc]
            _normalized_paths[path] = normalized
        return cast("str", normalized)

    def headers_to_sign(self, request: AWSRequest) -> Any:
        return request.context.get(_SIGNED_FIELDS) or _signed_fields(request)

    def canonical_headers(self, headers_to_sign: Any) -> str:
        return cast("_SignedFields", headers_to_sign).lines

    def signed_headers(self, headers_to_sign: Any) -> str:
        return cast("_SignedFields", headers_to_sign).names

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        # botocore derives the key anew for every request; it depends on these four alone.
        scope = (
            cast("str", self.credentials.secret_key),
            request.context["timestamp"][0:8],
            self._region_name,  # type: ignore[attr-defined]  # botocore-stubs omit it
            self._service_name,  # type: ignore[attr-defined]
        )
        key = self._signing_keys.get(scope) or self._signing_key(scope)
        sign = self._sign  # type: ignore[attr-defined]
        return cast("str", sign(key, string_to_sign, hex=True))

    def _signing_key(self, scope: tuple[str, str, str, str]) -> bytes:
        """SigV4's signing key for `scope`, derived as botocore derives it, and kept (the oldest
        kept goes first)."""
        secret, date, region, service = scope
        hmac = self._sign  # type: ignore[attr-defined]  # botocore-stubs omit it
        key: bytes = hmac(f"AWS4{secret}".encode(), date)
        for part in (region, service, "aws4_request"):
            key = hmac(key, part)
        with self._signing_keys_lock:
            if scope not in self._signing_keys and len(self._signing_keys) >= _SIGNING_KEYS_KEPT:
                del self._signing_keys[next(iter(self._signing_keys))]
            self._signing_keys[scope] = key
        return key


class _Timestamps:
    """UTC now as SigV4 dates a request (botocore's SIGV4_TIMESTAMP of its clock), formatted once
    a second: botocore builds a datetime and formats it for each request."""

    def __init__(self) -> None:
        self.now: Callable[[], float] = time.time  # what tests freeze
        self._last = (-1, "")  # (second, its timestamp), replaced whole: threads share it

    def __call__(self) -> str:
        second = int(self.now())
        last = self._last
        if last[0] != second:
            last = self._last = (second, time.strftime(SIGV4_TIMESTAMP, time.gmtime(second)))
        return last[1]


sigv4_timestamp = _Timestamps()


def _signed_fields(request: AWSRequest) -> _SignedFields:
    """The request's fields SigV4 signs (with Host as botocore signs it if none is set), stated
    as botocore's canonical_headers and signed_headers state them. (A name in `Fields` has one
    value: botocore's joining of a name's several values with "," has nothing to join.)"""
    fields = cast("Fields", request.headers)
    values = {
        lname: " ".join(value.split())
        for lname, (_, value) in fields.by_lower_name()
        if lname not in _UNSIGNED
    }
    if "host" not in values:
        values["host"] = " ".join(host_field(request.url).split())
    names = sorted(values)
    return _SignedFields(
        "\n".join([f"{name}:{values[name]}" for name in names]),
        ";".join(sorted([name.strip() for name in names])),  # botocore strips them here only
    )


@dataclass
class _Request:
    """What SigV4Auth reads of a request. (botocore's AWSRequest prepares a whole new request,
    fields copied, each time its `body` is read, and SigV4Auth reads it for the payload hash.)"""

    url: str
    headers: Fields
    body: bytes
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)


def sign(
    url: str,
    fields: Fields,
    body: bytes,
    credentials: ReadOnlyCredentials,
    scope: tuple[str, str],
) -> None:
    """Sign a POST of `body` to `url` for `scope` (region, signing name) the way botocore signs
    it: the date, token and Authorization fields are set in `fields`."""
    region, signing_name = scope
    request = cast("AWSRequest", _Request(url, fields, body))
    FieldMapSigV4Auth(credentials, signing_name, region).add_auth(request)
