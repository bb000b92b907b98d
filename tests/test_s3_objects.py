"""Reading S3 through the run's own client: objects as streams, prefixes as sorted keys, and
failures as one message naming the URL."""

from __future__ import annotations

from typing import Any

import pytest

from sagemaker_inventory.aws.s3_objects import S3Error, S3Objects, s3_client
from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory
from sagemaker_inventory.output.s3_url import S3Url

BUCKET = "smi-inventory"


@pytest.fixture
def objects(moto_aws: None) -> S3Objects:
    client = s3_client(SessionFactory())
    client.create_bucket(Bucket=BUCKET)
    for key in ("inv/b.jsonl", "inv/a.jsonl", "inv/sub/c.json", "other/d.jsonl"):
        client.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    return S3Objects(client)


def test_an_object_is_read_as_a_stream(objects: S3Objects) -> None:
    assert objects.open(S3Url(BUCKET, "inv/a.jsonl")).read() == b"inv/a.jsonl"


def test_a_prefix_lists_its_objects_by_key(objects: S3Objects) -> None:
    keys = [url.key for url in objects.keys_under(S3Url(BUCKET, "inv/"))]
    assert keys == ["inv/a.jsonl", "inv/b.jsonl", "inv/sub/c.json"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (S3Url(BUCKET, "inv/missing.jsonl"), "no such object (NoSuchKey)"),
        (S3Url("no-such-bucket-here", "x.jsonl"), "no such bucket (NoSuchBucket)"),
    ],
)
def test_a_failure_names_the_url(objects: S3Objects, url: S3Url, reason: str) -> None:
    with pytest.raises(S3Error) as caught:
        objects.open(url)
    assert str(caught.value) == f"{url}: {reason}"


def test_listing_a_missing_bucket_names_it(objects: S3Objects) -> None:
    with pytest.raises(S3Error, match=r"^s3://no-such-bucket-here/inv/: no such bucket"):
        list(objects.keys_under(S3Url("no-such-bucket-here", "inv/")))


def test_an_s3_compatible_endpoint_is_addressed_by_path() -> None:
    client: Any = s3_client(SessionFactory(ClientOptions(endpoint_url="http://127.0.0.1:9")))
    assert client.meta.config.s3 == {"addressing_style": "path"}
    assert s3_client(SessionFactory()).meta.config.s3 is None


def test_a_prefix_lists_only_its_own_level_unless_recursive(objects: S3Objects) -> None:
    keys = [url.key for url in objects.keys_under(S3Url(BUCKET, "inv/"), recursive=False)]
    assert keys == ["inv/a.jsonl", "inv/b.jsonl"]


def test_an_object_is_read_again_only_at_the_version_first_read(objects: S3Objects) -> None:
    url = S3Url(BUCKET, "inv/a.jsonl")
    body, etag = objects.get(url)
    assert (body.read(), objects.etag(url)) == (b"inv/a.jsonl", etag)
    assert objects.get(url, if_match=etag)[0].read() == b"inv/a.jsonl"
    objects.client.put_object(Bucket=BUCKET, Key=url.key, Body=b"replaced")
    with pytest.raises(S3Error) as caught:
        objects.get(url, if_match=etag)
    assert caught.value.code == "PreconditionFailed" and str(caught.value).startswith(str(url))
