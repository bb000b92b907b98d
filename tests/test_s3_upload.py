"""aws/s3_upload: an object written through a multipart upload appears whole at `complete` and
not before; `abort` leaves the previous object; parts leave as they fill (moto in-process)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from sagemaker_inventory.aws import s3_upload
from sagemaker_inventory.aws.s3_upload import S3Upload, sse_arguments
from sagemaker_inventory.output.files import WriteFailed
from sagemaker_inventory.output.s3_url import S3Url

pytestmark = pytest.mark.usefixtures("moto_aws")

URL = S3Url("smi-out", "inv.jsonl")


@pytest.fixture
def client() -> Any:
    made = boto3.client("s3", region_name="us-east-1")
    made.create_bucket(Bucket=URL.bucket)
    return made


def content(client: Any) -> bytes:
    body: bytes = client.get_object(Bucket=URL.bucket, Key=URL.key)["Body"].read()
    return body


def test_a_large_object_leaves_in_parts_and_appears_only_when_completed(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_upload, "PART_BYTES", 5 * 1024 * 1024)  # S3's smallest
    client.put_object(Bucket=URL.bucket, Key=URL.key, Body=b"previous\n")
    upload = S3Upload(client, URL, {})
    stream = upload.stream()
    line = "x" * 1023 + "\n"
    for _ in range(12 * 1024):  # 12 MiB: two full parts and a last one
        stream.write(line)
    assert len(upload.parts) == 2
    assert content(client) == b"previous\n"  # nothing visible yet
    upload.complete()
    assert content(client) == line.encode() * 12 * 1024
    assert client.list_multipart_uploads(Bucket=URL.bucket).get("Uploads", []) == []


def test_an_empty_object_is_one_empty_part(client: Any) -> None:
    upload = S3Upload(client, URL, {})
    upload.complete()
    assert content(client) == b""


def test_abort_leaves_the_previous_object(client: Any) -> None:
    client.put_object(Bucket=URL.bucket, Key=URL.key, Body=b"previous\n")
    upload = S3Upload(client, URL, {})
    upload.stream().write("new\n")
    upload.abort()
    upload.abort()  # once is enough; again is harmless
    assert content(client) == b"previous\n"
    assert client.list_multipart_uploads(Bucket=URL.bucket).get("Uploads", []) == []


def test_text_is_utf8(client: Any) -> None:
    upload = S3Upload(client, URL, {})
    upload.stream().write("café ✓\n")
    upload.complete()
    assert content(client).decode("utf-8") == "café ✓\n"


def test_a_refused_completion_is_a_write_failure_naming_the_url(client: Any) -> None:
    upload = S3Upload(client, URL, {})
    upload.stream().write("x\n")

    def refused(**kwargs: Any) -> tuple[Any, dict[str, Any]]:
        answer = type("Answer", (), {"status_code": 400, "headers": {}, "content": b""})()
        error = {"Code": "InvalidPart", "Message": "One or more parts could not be found"}
        return answer, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    client.meta.events.register("before-call.s3.CompleteMultipartUpload", refused)
    with pytest.raises(WriteFailed, match=r"^cannot write s3://smi-out/inv\.jsonl: .*InvalidPart"):
        upload.complete()


def test_sse_arguments_are_kms_with_the_key_or_none() -> None:
    assert sse_arguments(None) == {}
    assert sse_arguments("alias/k") == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/k"}
