"""--shard K/N and --shard auto (pure): parsing, bad values named, the stable account hash, and
every account in exactly one shard."""

from __future__ import annotations

import hashlib

import pytest

from sagemaker_inventory.collect.accounts import shard_sources
from sagemaker_inventory.collect.scopes import AccountSource
from sagemaker_inventory.collect.sharding import Shard, ShardError, parse_shard, shard_index

IDS = [f"{n:012d}" for n in range(100000000000, 100000000000 + 1000 * 7919, 7919)]


@pytest.mark.parametrize(
    ("text", "shard"), [("0/4", Shard(0, 4)), ("3/4", Shard(3, 4)), (" 0/1 ", Shard(0, 1))]
)
def test_k_of_n_counts_from_zero(text: str, shard: Shard) -> None:
    assert parse_shard(text, {}) == shard


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("3/3", "K must be in 0..2"),
        ("x/2", "'x/2': K is not a whole number"),
        ("1/y", "'1/y': N is not a whole number"),
        ("-1/2", "'-1/2': K is not a whole number"),
        ("0/0", "'0/0': the number of shards must be at least 1"),
        ("2", "'2' is not K/N"),
        ("", "'' is not K/N"),
    ],
)
def test_bad_values_are_named(text: str, named: str) -> None:
    with pytest.raises(ShardError, match=named):
        parse_shard(text, {})


@pytest.mark.parametrize(
    ("environ", "shard"),
    [
        ({"JOB_COMPLETION_INDEX": "2", "SMI_SHARDS": "5"}, Shard(2, 5)),
        ({"AWS_BATCH_JOB_ARRAY_INDEX": "0", "SMI_SHARDS": "3"}, Shard(0, 3)),
        ({"JOB_COMPLETION_INDEX": "1", "AWS_BATCH_JOB_ARRAY_INDEX": "1", "SMI_SHARDS": "2"}, None),
    ],
)
def test_auto_reads_the_schedulers_index_and_smi_shards(
    environ: dict[str, str], shard: Shard | None
) -> None:
    assert parse_shard("auto", environ) == (shard or Shard(1, 2))


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SMI_SHARDS": "4"}, "needs JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX"),
        ({"JOB_COMPLETION_INDEX": "1"}, "needs SMI_SHARDS"),
        (
            {"JOB_COMPLETION_INDEX": "1", "AWS_BATCH_JOB_ARRAY_INDEX": "2", "SMI_SHARDS": "4"},
            "JOB_COMPLETION_INDEX='1', AWS_BATCH_JOB_ARRAY_INDEX='2'",
        ),
        ({"JOB_COMPLETION_INDEX": "4", "SMI_SHARDS": "4"}, "K must be in 0..3"),
        ({"JOB_COMPLETION_INDEX": "0", "SMI_SHARDS": "0"}, "at least 1"),
        ({"JOB_COMPLETION_INDEX": "0", "SMI_SHARDS": "four"}, "SMI_SHARDS='four'"),
    ],
)
def test_auto_without_a_usable_environment_is_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ShardError, match=named):
        parse_shard("auto", environ)


def test_the_hash_is_sha256_of_the_account_id_and_not_pythons_hash() -> None:
    # Written out independently, so that changing the hash (which would move every account to
    # another shard and break every deployed CronJob's snapshot) fails here.
    for account in IDS[:20]:
        expected = int(hashlib.sha256(account.encode()).hexdigest()[:16], 16) % 7
        assert shard_index(account, 7) == expected
    assert [shard_index("123456789012", n) for n in (1, 2, 3, 4, 5)] == [
        int(hashlib.sha256(b"123456789012").hexdigest()[:16], 16) % n for n in (1, 2, 3, 4, 5)
    ]


def test_every_account_is_in_exactly_one_shard_and_shards_are_balanced() -> None:
    sources = [AccountSource(role_arn=f"arn:aws:iam::{a}:role/R", account_id=a) for a in IDS]
    shards = [shard_sources(sources, Shard(k, 5)) for k in range(5)]
    chosen = [s.account_id for shard in shards for s in shard]
    assert sorted(chosen) == sorted(IDS)  # each once
    assert all(150 <= len(shard) <= 250 for shard in shards), [len(s) for s in shards]
    assert shard_sources(sources, Shard(0, 1)) == sources  # order kept


def test_an_unidentified_profile_is_placed_by_its_name() -> None:
    unknown = AccountSource(profile="prod")
    owners = [k for k in range(3) if shard_sources([unknown], Shard(k, 3))]
    assert owners == [shard_index("profile prod", 3)]
