"""Writing one S3 object the way smi writes a local file: invisible until the run commits it.

`S3Upload` streams text into an S3 multipart upload: CreateMultipartUpload when it is opened (so
a missing bucket, a denied write or an unusable KMS key fails then, before any collection), a
part each time `PART_BYTES` have gathered (S3 takes parts of 5 MiB or more, save the last), and
CompleteMultipartUpload only when the run commits: until then readers see the previous object, or
none. `abort` (a failed, stopped or abandoned run) throws the parts away; the uploads of a run
killed outright stay invisible and are removed by a bucket lifecycle rule
(AbortIncompleteMultipartUpload) or, for a snapshot's set, by the next run under its lock.
Nothing touches the local disk: one part at a time is held in memory. A failed part or commit is
`WriteFailed` naming the URL (exit 5), as a full disk is for a local file.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any, TextIO, cast

from sagemaker_inventory.aws.retry_waits import Stopped
from sagemaker_inventory.aws.s3_objects import S3Error, s3_errors
from sagemaker_inventory.output.files import WriteFailed
from sagemaker_inventory.output.s3_url import S3Url

# Above S3's 5 MiB minimum: the part count stays within S3's 10,000 for any inventory.
PART_BYTES = 8 * 1024 * 1024

Part = dict[str, Any]  # {"PartNumber": n, "ETag": "..."}, as CompleteMultipartUpload takes it


def sse_arguments(kms_key_id: str | None) -> dict[str, str]:
    """The server-side encryption arguments of every object smi writes: none (the bucket's
    default encryption applies) or SSE-KMS with `kms_key_id`."""
    if kms_key_id is None:
        return {}
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}


class S3Upload:
    """One multipart upload of `url`; `stream()` writes into it, `complete()` makes it visible."""

    def __init__(self, client: Any, url: S3Url, extra_args: Mapping[str, str]) -> None:
        self.client, self.url = client, url
        with s3_errors(url):
            answer = client.create_multipart_upload(Bucket=url.bucket, Key=url.key, **extra_args)
        self.upload_id: str = answer["UploadId"]
        self.parts: list[Part] = []
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._open = True

    def stream(self) -> TextIO:
        """A text stream into the upload (UTF-8; its OS-like failures name the URL)."""
        return cast(TextIO, _UploadStream(self))

    def write(self, data: bytes) -> None:
        with self._lock:
            self._buffer += data
            if len(self._buffer) >= PART_BYTES:
                self._send_part()

    def finish(self) -> list[Part]:
        """Send what is buffered as the last part (an empty object gets one empty part): the
        parts the commit completes the upload with."""
        with self._lock:
            if self._buffer or not self.parts:
                self._send_part()
            return list(self.parts)

    def complete(self) -> None:
        """Make the object visible with everything written (the commit of a lone object)."""
        parts = self.finish()
        complete_upload(self.client, self.url, self.upload_id, parts)
        self._open = False

    def abort(self) -> None:
        """Throw the parts away (best effort: a lifecycle rule cleans what this cannot; a stopped
        run sends no request at all, and leaves its upload to it)."""
        if not self._open:
            return
        self._open = False
        with contextlib.suppress(S3Error, Stopped):
            abort_upload(self.client, self.url, self.upload_id)

    def _send_part(self) -> None:
        number = len(self.parts) + 1
        body = bytes(self._buffer)
        with writing_s3(self.url):
            answer = self.client.upload_part(
                Bucket=self.url.bucket,
                Key=self.url.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=body,
            )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self._buffer.clear()


def complete_upload(client: Any, url: S3Url, upload_id: str, parts: list[Part]) -> None:
    """CompleteMultipartUpload: the object becomes `parts`, at once; WriteFailed if refused."""
    with writing_s3(url):
        client.complete_multipart_upload(
            Bucket=url.bucket, Key=url.key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )


def abort_upload(client: Any, url: S3Url, upload_id: str) -> None:
    """AbortMultipartUpload; one already gone (NoSuchUpload) is fine."""
    try:
        with s3_errors(url):
            client.abort_multipart_upload(Bucket=url.bucket, Key=url.key, UploadId=upload_id)
    except S3Error as error:
        if error.code != "NoSuchUpload":
            raise


@contextlib.contextmanager
def writing_s3(url: S3Url) -> Iterator[None]:
    """Turn a failed S3 call of the block into WriteFailed naming `url` (exit 5)."""
    try:
        with s3_errors(url):
            yield
    except S3Error as error:
        raise WriteFailed(str(url), error.reason) from None


class _UploadStream:
    """The text side of an S3Upload, with the methods the sinks call."""

    def __init__(self, upload: S3Upload) -> None:
        self._upload = upload
        self.name = str(upload.url)

    def write(self, text: str) -> int:
        self._upload.write(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        pass  # parts leave as they fill; the last at the commit

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True
