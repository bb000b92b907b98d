"""Reading smi's files in S3: one object as a byte stream, or the objects under a prefix.

The client is one of the run's (`SessionFactory`: the same retries, timeouts, stop and endpoint
as every other call) made from the base profile's session, never from a member account's role:
the bucket belongs to whoever runs smi. Its region is the profile's (botocore follows S3's
redirect to a bucket elsewhere). A failure is an `S3Error` whose message names the URL and says
what S3 answered, so callers print it as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import error_code
from sagemaker_inventory.output.s3_url import S3Url

if TYPE_CHECKING:
    from sagemaker_inventory.aws.sessions import SessionFactory

# What S3 answers, in the words a message uses.
_MEANINGS = {
    "NoSuchBucket": "no such bucket",
    "NoSuchKey": "no such object",
    "404": "no such bucket or object",  # HEAD: S3 sends no body, so no code to tell them apart
    "AccessDenied": "access denied",
    "403": "access denied",
    "AllAccessDisabled": "access denied",
    "InvalidObjectState": "the object is archived (restore it first)",
}


class S3Error(RuntimeError):
    """A call on `url` failed; `code` is S3's error code (None for a network failure)."""

    def __init__(self, url: S3Url, reason: str, code: str | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason, self.code = url, reason, code


def s3_client(factory: SessionFactory, profile: str | None = None) -> Any:
    """An S3 client of `profile`'s own credentials (the default chain when None)."""
    return factory.client(factory.session(profile), "s3", factory.home_region(profile))


class S3Objects:
    """Read access to S3 through one client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def open(self, url: S3Url) -> IO[bytes]:
        """The object's bytes, streamed (botocore's StreamingBody)."""
        return self.get(url)[0]

    def get(self, url: S3Url, *, if_match: str | None = None) -> tuple[IO[bytes], str]:
        """The object's bytes, streamed, and its ETag. With `if_match`, only while the object
        still has that ETag (else an S3Error of code PreconditionFailed): a reader that reads
        an object twice reads the same version twice."""
        condition = {} if if_match is None else {"IfMatch": if_match}
        with s3_errors(url):
            response = self.client.get_object(Bucket=url.bucket, Key=url.key, **condition)
        body: IO[bytes] = response["Body"]
        return body, str(response.get("ETag", ""))

    def etag(self, url: S3Url) -> str:
        """The object's ETag (HEAD): the object exists and this client may read it."""
        with s3_errors(url):
            return str(self.client.head_object(Bucket=url.bucket, Key=url.key).get("ETag", ""))

    def keys_under(self, prefix: S3Url, *, recursive: bool = True) -> Iterator[S3Url]:
        """Every object under `prefix`, in S3's order (by key, UTF-8 binary); not `recursive`:
        only those directly under it (no further '/' after the prefix), as in a directory."""
        paginator = self.client.get_paginator("list_objects_v2")
        shape = {} if recursive else {"Delimiter": "/"}
        with s3_errors(prefix):
            for page in paginator.paginate(Bucket=prefix.bucket, Prefix=prefix.key, **shape):
                for item in page.get("Contents", ()):
                    yield S3Url(prefix.bucket, item["Key"])


@contextlib.contextmanager
def s3_errors(url: S3Url) -> Iterator[None]:
    """Turn botocore's failures inside the block into an S3Error naming `url`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        code = error_code(error) or "Unknown"
        reason = _MEANINGS.get(code) or str(error.response.get("Error", {}).get("Message"))
        raise S3Error(url, f"{reason} ({code})", code) from None
    except BotoCoreError as error:
        raise S3Error(url, str(error)) from None
