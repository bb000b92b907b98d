"""`smi report`'s inputs read into one answer, and its `s3://` inputs: an `ObjectStore` on S3.

`read_answer` turns any failure to read an input into one line naming it and exit 2, before any
output. The S3 store is built only when an input names S3; its client is one of a
`SessionFactory`'s, from `--profile`'s credentials (the default chain without it) and
`--endpoint-url`, made on the first S3 call, so a report of local files loads nothing of `aws/`
and needs no credentials. Each object is read at the version (ETag) first seen: a report reads its
inputs twice when a job repeats across them, and an object replaced between the two reads would
mix two versions; the second read fails instead, naming the object.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING

import click

from sagemaker_inventory.output.s3_url import S3Url, S3UrlError
from sagemaker_inventory.report.answer import Answer, answer
from sagemaker_inventory.report.demo_prices import DemoWatch
from sagemaker_inventory.report.inputs import (
    Duplicates,
    InventoryError,
    ObjectStore,
    open_inventory,
)

if TYPE_CHECKING:
    from sagemaker_inventory.aws.s3_objects import S3Objects

CHANGED = "the object changed while the report read it; run the report again"
MISSING = ("NoSuchKey", "404")  # a HEAD's 404 has no body, so no code


class InputError(click.ClickException):
    """Unreadable or malformed inventory: one line on stderr, exit status 2 (like a usage error)."""

    exit_code = 2


def read_answer(
    inputs: tuple[str, ...],
    view: str,
    by: tuple[str, ...],
    now: datetime,
    *,
    cost: bool,
    sort: str,
    quiet: bool = False,
    watch: DemoWatch | None = None,
    store: ObjectStore | None = None,
) -> Answer:
    """Read the inputs into one view's answer; its warnings and a duplicates note go to stderr.

    Several inputs may overlap: every job is noted while answering, and the view is answered
    again without the extra copies only if some job was met twice. `watch` notes whether every
    record is demo data (for --cost); `store` reads the s3:// inputs.
    """
    try:
        with open_inventory(inputs, sys.stdin.buffer, store) as inventory:
            duplicates = Duplicates() if len(inventory.inputs) > 1 else None
            records = inventory.records(duplicates=duplicates)
            if watch is not None:
                records = watch.watch(records)
            result = answer(view, records, by, now, cost=cost, sort=sort)
            if duplicates is not None and duplicates.losers:
                records = inventory.records(skip=duplicates.losers)
                result = answer(view, records, by, now, cost=cost, sort=sort)
                if not quiet:
                    click.echo(duplicate_note(len(duplicates.losers)), err=True)
    except (InventoryError, S3UrlError) as error:
        raise InputError(str(error)) from None
    for warning in [] if quiet else result.warnings:
        click.echo(f"smi: {warning}", err=True)
    return result


def duplicate_note(extra: int) -> str:
    """The stderr line saying how many extra copies of jobs were left out."""
    copies = "copy" if extra == 1 else "copies"
    return (
        f"smi: {extra} extra {copies} of jobs found in more than one input; each job is "
        "counted once (the copy with the latest last_modified_time)"
    )


class S3Inventories:
    """The report's ObjectStore (report.inputs) on S3 through aws.s3_objects."""

    def __init__(self, profile: str | None = None, endpoint_url: str | None = None) -> None:
        self.profile, self.endpoint_url = profile, endpoint_url
        self._objects: S3Objects | None = None
        self._etags: dict[S3Url, str] = {}

    def check(self, url: S3Url) -> None:
        from sagemaker_inventory.aws.s3_objects import S3Error

        with _named(url):
            try:
                self._etags[url] = self._s3(url).etag(url)
            except S3Error as error:
                folder = S3Url(url.bucket, url.key + "/")
                if error.code not in MISSING or not self._holds_objects(folder):
                    raise
                hint = f"{error.reason}; {folder} is a prefix: end the URL with '/' to read it"
                raise S3Error(url, hint, error.code) from None

    def keys_in(self, prefix: S3Url) -> list[S3Url]:
        with _named(prefix):
            keys = self._s3(prefix).keys_under(prefix, recursive=False)
            # A "folder" object (a key ending in '/', as consoles create) is no inventory.
            return [key for key in keys if not key.is_prefix]

    def open(self, url: S3Url) -> NamedBody:
        with _named(url):
            body, etag = self._s3(url).get(url, if_match=self._etags.get(url))
        self._etags.setdefault(url, etag)
        return NamedBody(url, body)

    def _holds_objects(self, prefix: S3Url) -> bool:
        return next(iter(self._s3(prefix).keys_under(prefix)), None) is not None

    def _s3(self, url: S3Url) -> S3Objects:
        if self._objects is None:
            from sagemaker_inventory.aws.retry_settings import RetrySettingError
            from sagemaker_inventory.aws.s3_objects import S3Objects, s3_client, s3_errors
            from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory

            factory = SessionFactory(ClientOptions(endpoint_url=self.endpoint_url))
            try:
                with s3_errors(url):  # an unknown profile, say
                    self._objects = S3Objects(s3_client(factory, self.profile))
            except RetrySettingError as error:
                raise InventoryError(str(url), None, str(error)) from None
        return self._objects


class NamedBody:
    """An object's streamed body whose read failures (a connection cut mid-object, a checksum
    that does not match) name the URL like any other S3 failure."""

    def __init__(self, url: S3Url, body: IO[bytes]) -> None:
        self.url, self.body = url, body

    def read(self, size: int = -1, /) -> bytes:
        from sagemaker_inventory.aws.s3_objects import s3_errors

        with _named(self.url), s3_errors(self.url):
            return self.body.read(size)

    def close(self) -> None:
        self.body.close()


@contextlib.contextmanager
def _named(url: S3Url) -> Iterator[None]:
    """S3's failures inside the block as an InventoryError naming the URL."""
    from sagemaker_inventory.aws.s3_objects import S3Error

    try:
        yield
    except S3Error as error:
        reason = f"{CHANGED} ({error.code})" if error.code == "PreconditionFailed" else error.reason
        raise InventoryError(str(error.url), None, reason) from None
