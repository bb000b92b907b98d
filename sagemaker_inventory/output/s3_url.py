"""`s3://bucket/key` locations: where `smi collect` and `smi report` read and write in S3.

Pure: nothing here talks to AWS. A location names an object (`s3://bucket/inventory.jsonl`) or a
prefix (`s3://bucket/inventories/`, or a bare `s3://bucket`, whose key is empty). The bucket name
is checked against S3's rules for general purpose buckets, so that a typo is a usage error naming
the URL before any AWS call, not an error from S3 half-way through a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEME = "s3://"
MAX_KEY_BYTES = 1024

# S3's naming rules for general purpose buckets: 3-63 characters of lowercase letters, digits,
# dots and hyphens, beginning and ending with a letter or digit, no two adjacent dots.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+", re.ASCII)


class S3UrlError(ValueError):
    """A value given as an S3 location that names none; `str()` names the value."""


@dataclass(frozen=True, order=True)
class S3Url:
    """An S3 bucket and key; the key of a prefix is empty or ends with '/'."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.key}"

    @property
    def is_prefix(self) -> bool:
        return not self.key or self.key.endswith("/")

    @property
    def name(self) -> str:
        """The last part of the key (a file's name, for messages and temporary names)."""
        return self.key.rstrip("/").rpartition("/")[2]

    def with_suffix(self, suffix: str) -> S3Url:
        """The object whose key is this one's plus `suffix` (FILE.meta.json, FILE.lock)."""
        return S3Url(self.bucket, self.key + suffix)

    def child(self, name: str) -> S3Url:
        """The object `name` under this prefix."""
        return S3Url(self.bucket, self.key + name if self.is_prefix else f"{self.key}/{name}")


def is_s3_url(value: object) -> bool:
    """Whether `value` (a string or path as given on the command line) is meant as S3."""
    return str(value).lower().startswith(SCHEME)


def parse_s3_url(value: str) -> S3Url:
    """The location `value` names; S3UrlError naming it when it names none."""
    if not is_s3_url(value):
        raise S3UrlError(f"{value}: not an S3 URL (s3://BUCKET/KEY)")
    bucket, _, key = value[len(SCHEME) :].partition("/")
    problem = _bucket_problem(bucket) or _key_problem(key)
    if problem:
        raise S3UrlError(f"{value}: {problem}")
    return S3Url(bucket, key)


def parse_s3_object(value: str) -> S3Url:
    """The object `value` names (an output, a snapshot): a prefix is refused."""
    url = parse_s3_url(value)
    if url.is_prefix:
        raise S3UrlError(f"{value}: names a prefix, not an object (s3://BUCKET/KEY)")
    return url


def _bucket_problem(bucket: str) -> str | None:
    if not bucket:
        return "no bucket name (s3://BUCKET/KEY)"
    if not _BUCKET.fullmatch(bucket) or ".." in bucket or _IP_ADDRESS.fullmatch(bucket):
        return f"{bucket!r} is not a valid S3 bucket name"
    return None


def _key_problem(key: str) -> str | None:
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        return f"the key is longer than S3's {MAX_KEY_BYTES} bytes"
    if any(ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF for c in key):
        return "the key holds a control character or an undecodable byte"
    return None
