"""--shard K/N: split an inventory's accounts over N machines by a stable hash of the account id.

Pure: nothing here talks to AWS. Account `A` belongs to shard
`int.from_bytes(sha256(A).digest()[:8], "big") % N`, so every account is in exactly one shard and
in the same one on every run and every machine (unlike Python's `hash()`, which is salted per
process). K is 0-based, as the schedulers' own indexes are: Kubernetes Indexed Jobs set
JOB_COMPLETION_INDEX and AWS Batch array jobs AWS_BATCH_JOB_ARRAY_INDEX to 0..N-1. Neither tells a
task how many siblings it has, so `--shard auto` reads N from SMI_SHARDS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Where `--shard auto` finds K: Kubernetes Indexed Job, AWS Batch array job.
INDEX_VARIABLES = ("JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX")
COUNT_VARIABLE = "SMI_SHARDS"
AUTO = "auto"

_NUMBER = re.compile(r"\d+", re.ASCII)


class ShardError(ValueError):
    """A --shard value (or the environment `--shard auto` reads) that names no shard."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` (0-based) of `count`."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, key: str) -> bool:
        """Whether the account `key` (a 12-digit id) is this shard's."""
        return shard_index(key, self.count) == self.index


def shard_index(key: str, count: int) -> int:
    """The shard, in 0..count-1, of an account id: the first 8 bytes of its SHA-256, mod count."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(text: str, environ: Mapping[str, str]) -> Shard:
    """`K/N` (0 <= K < N), or `auto`: K from the scheduler's index variable, N from SMI_SHARDS."""
    value = text.strip()
    if value.lower() == AUTO:
        return _shard_from(environ)
    index, slash, count = value.partition("/")
    if not slash:
        raise ShardError(f"{text!r} is not K/N (e.g. 0/4; K counts from 0) or 'auto'")
    return _checked(_number(index, f"{text!r}: K"), _number(count, f"{text!r}: N"), repr(text))


def _shard_from(environ: Mapping[str, str]) -> Shard:
    found = {name: environ[name].strip() for name in INDEX_VARIABLES if environ.get(name)}
    if not found:
        raise ShardError(
            f"'auto' needs {' or '.join(INDEX_VARIABLES)} (set by a Kubernetes Indexed Job or an"
            " AWS Batch array job) and none is set"
        )
    if len(set(found.values())) > 1:
        named = ", ".join(f"{name}={value!r}" for name, value in found.items())
        raise ShardError(f"'auto' found two different shard indexes: {named}")
    name, index_text = next(iter(found.items()))
    count_text = environ.get(COUNT_VARIABLE, "").strip()
    if not count_text:
        raise ShardError(
            f"'auto' needs {COUNT_VARIABLE}, the number of shards (the scheduler does not say)"
        )
    index = _number(index_text, f"{name}={index_text!r}")
    count = _number(count_text, f"{COUNT_VARIABLE}={count_text!r}")
    return _checked(index, count, f"{name}={index_text!r} with {COUNT_VARIABLE}={count_text!r}")


def _number(text: str, what: str) -> int:
    if not _NUMBER.fullmatch(text.strip()):
        raise ShardError(f"{what} is not a whole number")
    return int(text)


def _checked(index: int, count: int, what: str) -> Shard:
    if count < 1:
        raise ShardError(f"{what}: the number of shards must be at least 1")
    if index >= count:
        raise ShardError(f"{what}: K must be in 0..{count - 1} (shards count from 0)")
    return Shard(index, count)
