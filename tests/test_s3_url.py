"""S3 locations as given on the command line: what names an object, a prefix, or nothing."""

from __future__ import annotations

import pytest

from sagemaker_inventory.output.s3_url import (
    S3Url,
    S3UrlError,
    is_s3_url,
    parse_s3_object,
    parse_s3_url,
)


@pytest.mark.parametrize(
    ("text", "bucket", "key", "prefix"),
    [
        ("s3://inventory-bucket/smi/jobs.jsonl", "inventory-bucket", "smi/jobs.jsonl", False),
        ("s3://inventory-bucket/smi/", "inventory-bucket", "smi/", True),
        ("s3://inventory-bucket", "inventory-bucket", "", True),
        ("s3://inventory-bucket/", "inventory-bucket", "", True),
        ("S3://my.bucket.1/a b/ü.json", "my.bucket.1", "a b/ü.json", False),
    ],
)
def test_locations_parse_into_bucket_and_key(
    text: str, bucket: str, key: str, prefix: bool
) -> None:
    url = parse_s3_url(text)
    assert (url.bucket, url.key, url.is_prefix) == (bucket, key, prefix)
    assert str(url) == f"s3://{bucket}/{key}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("s3://", "no bucket name"),
        ("s3:///key", "no bucket name"),
        ("s3://Upper/key", "'Upper' is not a valid S3 bucket name"),
        ("s3://ab/key", "'ab' is not a valid S3 bucket name"),
        ("s3://bad..dots/key", "not a valid S3 bucket name"),
        ("s3://192.168.1.1/key", "not a valid S3 bucket name"),
        ("s3://under_score/key", "not a valid S3 bucket name"),
        ("s3://ok-bucket/" + "k" * 1025, "longer than S3's 1024 bytes"),
        ("s3://ok-bucket/a\nb", "control character"),
        ("/tmp/file.jsonl", "not an S3 URL"),
    ],
)
def test_a_bad_location_is_refused_naming_it(text: str, problem: str) -> None:
    with pytest.raises(S3UrlError) as caught:
        parse_s3_url(text)
    assert str(caught.value).startswith(f"{text}: ")
    assert problem in str(caught.value)


def test_an_object_location_refuses_a_prefix() -> None:
    assert parse_s3_object("s3://ok-bucket/a/b.jsonl") == S3Url("ok-bucket", "a/b.jsonl")
    with pytest.raises(S3UrlError, match="names a prefix, not an object"):
        parse_s3_object("s3://ok-bucket/a/")


def test_siblings_and_children_keep_the_bucket() -> None:
    snapshot = S3Url("ok-bucket", "smi/snap.jsonl")
    assert str(snapshot.with_suffix(".meta.json")) == "s3://ok-bucket/smi/snap.jsonl.meta.json"
    assert snapshot.name == "snap.jsonl"
    assert str(S3Url("ok-bucket", "smi/").child("x.jsonl")) == "s3://ok-bucket/smi/x.jsonl"
    assert str(S3Url("ok-bucket", "smi").child("x.jsonl")) == "s3://ok-bucket/smi/x.jsonl"
    assert str(S3Url("ok-bucket", "").child("x.jsonl")) == "s3://ok-bucket/x.jsonl"


@pytest.mark.parametrize(
    ("value", "expected"), [("s3://b/k", True), ("S3://b", True), ("./s3:/x", False), ("-", False)]
)
def test_is_s3_url(value: str, expected: bool) -> None:
    assert is_s3_url(value) is expected
