"""Keeps credentials out of every message smi writes: stderr, the --report file, progress.

`scrub` is the one function every sink of text applies (the CLI wraps stderr in `ScrubbedStream`,
the --report run summary is scrubbed as it is written, log lines pass through it too). It masks
the actual secret values of the sessions in use, registered with `remember_secret` as sessions and
their refreshed credentials appear (access key ids, secret keys, session tokens), in their plain,
repr-escaped and JSON-escaped forms, plus anything shaped like an AWS credential (access key ids,
signed-request headers and query parameters, STS session tokens), whatever path the text took:
an exception message echoing a request header, a service error quoting it, a traceback.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, TextIO

from sagemaker_inventory.records.secret_values import REDACTED

# Shorter pieces of a secret are not hunted for: they would mask ordinary words.
MIN_SECRET_PIECE = 8

# Credential-shaped text, secret values unknown. AWS access key ids (gitleaks' aws-access-token
# prefixes), STS session tokens (their base64 prefixes), and the signed-request names whose value
# is a credential: x-amz-security-token, X-Amz-Signature / X-Amz-Credential (query string and
# Authorization header), aws_secret_access_key, aws_session_token.
_CREDENTIAL_SHAPES = re.compile(
    r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"
    r"|\b(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9+/=]*"
)
_CREDENTIAL_NAMES = re.compile(
    r"(?P<name>(?i:x-amz-security-token|x-amz-signature|x-amz-credential|signature"
    r"|aws_secret_access_key|aws_session_token|secretaccesskey|sessiontoken))"
    r"(?P<sep>['\"]?\s*[=:]\s*['\"]?\s*(?:b['\"])?)(?P<value>[^\s'\",&;}<]+)"
)


class _Secrets:
    """The secret values seen this run, found in a text by their first characters.

    One alternation of every value, compiled again for each new one, cost a compile of all the
    values seen so far for every account whose role is assumed (minutes over a large
    organization, and `re`'s cache kept hundreds of ever-larger patterns), then tried every value
    at every character of a text. Here a value is indexed once by its first MIN_SECRET_PIECE
    characters, and a text costs one lookup per character, however many values there are.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # First characters -> the values starting with them, longest first. Lists are replaced,
        # never changed in place, so `sub` reads them without the lock.
        self._by_head: dict[str, list[str]] = {}

    def add(self, value: str) -> None:
        forms = _forms_of(value)
        with self._lock:
            for form in forms:
                head = form[:MIN_SECRET_PIECE]
                known = self._by_head.get(head, [])
                if form not in known:
                    self._by_head[head] = sorted([*known, form], key=len, reverse=True)

    def sub(self, text: str) -> str:
        """`text` with every value masked: at each position the longest value found there, as
        an alternation of them all (longest first) would."""
        by_head = self._by_head
        if not by_head:
            return text
        pieces: list[str] = []
        kept = at = 0  # text before `kept` is in `pieces`
        last = len(text) - MIN_SECRET_PIECE
        while at <= last:
            found = _found_at(text, at, by_head.get(text[at : at + MIN_SECRET_PIECE]))
            if found:
                pieces += [text[kept:at], REDACTED]
                at = kept = at + found
            else:
                at += 1
        return "".join([*pieces, text[kept:]]) if pieces else text


def _found_at(text: str, at: int, values: list[str] | None) -> int:
    """The length of the longest of `values` at `at` in `text`, or 0."""
    for value in values or ():
        if text.startswith(value, at):
            return len(value)
    return 0


def _forms_of(value: str) -> set[str]:
    """The ways a secret appears in a message: as is, escaped by repr() or JSON, and each long
    run of it between characters those escape (a token broken by a newline)."""
    forms = {value, repr(value)[1:-1], json.dumps(value)[1:-1]}
    forms |= set(re.split(r"[\x00-\x1f\x7f\s\\'\"]+", value))
    return {form for form in forms if len(form) >= MIN_SECRET_PIECE}


_SECRETS = _Secrets()


def remember_secret(value: Any) -> None:
    """Mask `value` (an access key id, secret key or session token) in everything scrubbed from
    now on. Values too short to be credentials are ignored."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_PIECE:
        _SECRETS.add(value)


def remember_credentials(credentials: Any) -> None:
    """The access key id, secret key and token of botocore credentials (frozen or not)."""
    if credentials is None:
        return
    frozen = getattr(credentials, "get_frozen_credentials", None)
    keys = frozen() if callable(frozen) else credentials
    for name in ("access_key", "secret_key", "token"):
        remember_secret(getattr(keys, name, None))


def scrub(text: str) -> str:
    """`text` with every known secret value and credential-shaped string replaced."""
    text = _CREDENTIAL_NAMES.sub(rf"\g<name>\g<sep>{REDACTED}", _SECRETS.sub(text))
    return _CREDENTIAL_SHAPES.sub(REDACTED, text)


class ScrubbedStream:
    """A text stream (stderr) that scrubs what is written to it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(scrub(text))
        return len(text)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._stream, attribute)
