"""Copying an object of a snapshot's set from S3 to a local temporary file, where the snapshot's
index reads it (it re-reads reused records by offset, from this process and worker processes).
The copy streams in blocks; an object that does not exist yet (NoSuchKey) is a first run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from sagemaker_inventory.aws.s3_objects import S3Error, s3_errors
from sagemaker_inventory.output.files import writing
from sagemaker_inventory.output.s3_url import S3Url

_BLOCK = 1 << 20


def download_object(client: Any, url: S3Url, path: Path) -> bool:
    """Copy `url` to `path` (created with mode 0600); False, and no file, when there is no such
    object. S3Error for any other failure (AccessDenied, NoSuchBucket), naming the URL."""
    try:
        with s3_errors(url):
            body = client.get_object(Bucket=url.bucket, Key=url.key)["Body"]
    except S3Error as error:
        if error.code in ("NoSuchKey", "404"):
            return False
        raise
    try:
        with writing(str(path)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as stream, s3_errors(url):
                shutil.copyfileobj(body, stream, _BLOCK)
    finally:
        body.close()
    return True
