"""SigV4 for requests smi builds itself: botocore's SigV4Auth, reading a plain field map.

botocore's AWSRequest keeps its header fields in an `email` package message, and SigV4Auth's
`headers_to_sign` copies them into another one, twice per request: filling and reading those cost
more than the signature itself. Here the fields live in `Fields`, a small case-insensitive map,
and `FieldMapSigV4Auth` gathers the signed ones into a dict. Everything else (the canonical
request, the string to sign, key derivation, the HMACs, the Authorization field) is botocore's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

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


class _SignedFields(dict[str, list[str]]):
    """The fields SigV4 signs as botocore's HTTPHeaders holds them: lower-case names, each with
    its values (`get_all`)."""

    def get_all(self, name: str) -> list[str]:
        return self[name]


class FieldMapSigV4Auth(SigV4Auth):
    """botocore's SigV4Auth over a request whose `headers` are `Fields`."""

    def headers_to_sign(self, request: AWSRequest) -> Any:
        signed = _SignedFields()
        for name, value in request.headers.items():
            lname = name.lower()
            if lname not in SIGNED_HEADERS_BLACKLIST:
                signed.setdefault(lname, []).append(value)
        if "host" not in signed:
            signed["host"] = [host_field(request.url)]
        return signed


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
