"""A snapshot's set in S3 (FILE, FILE.meta.json, --changes), made visible together or not at all.

S3 has no rename and no transaction over several objects, so `S3FileSet` does what
`snapshot.file_set.FileSet` does on a disk with S3's own atomic steps. Each new content streams
into a multipart upload of its target key, left uncompleted (invisible: listings do not show it).
Once every part is sent, the lock is checked one last time and the journal FILE.commit.json is
written with If-None-Match: that object is the commit point. It names each target's upload and
parts; then each upload is completed (CompleteMultipartUpload makes an object appear whole, at
once) and the journal deleted. A run that fails or is stopped before the journal aborts its
uploads: the previous objects stay as they were. `recover_s3_set`, run by the next run under the
lock before anything else, completes the uploads a journal names (an upload already completed is
gone: NoSuchUpload) and deletes it; it refuses (JournalRefused, nothing touched) a journal that
is not smi's exactly or names another bucket or key than the set's. `remove_stale_uploads` then
aborts the uploads of the set's keys that killed runs left.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any, NoReturn, TextIO

from sagemaker_inventory.aws.s3_objects import S3Error, s3_errors
from sagemaker_inventory.aws.s3_upload import Part, S3Upload, abort_upload, writing_s3
from sagemaker_inventory.output.files import WriteFailed
from sagemaker_inventory.output.s3_url import S3Url
from sagemaker_inventory.snapshot.errors import JournalRefused, shown
from sagemaker_inventory.snapshot.journal import journal_document
from sagemaker_inventory.snapshot.set_writer import Step

logger = logging.getLogger(__name__)

JOURNAL_FORMAT = 1
MAX_UPLOADS = 3  # the snapshot, its sidecar, the changes
MAX_PARTS = 10_000  # S3's limit per upload
# Every part is a line of about 60 bytes: room for the largest upload S3 takes.
MAX_JOURNAL_BYTES = MAX_UPLOADS * MAX_PARTS * 100
Upload = tuple[S3Url, str, list[Part]]  # target, upload id, parts


class S3FileSet:
    """New contents for objects of one bucket, completed together by `commit` (a SetWriter).

    `names` maps each name `open` is given to its object; `guard` raises if the run may no longer
    commit (its lock was lost); `extra_args` are the SSE arguments of every object written."""

    def __init__(
        self,
        client: Any,
        journal: S3Url,
        names: Mapping[str, S3Url],
        *,
        extra_args: Mapping[str, str],
        guard: Callable[[], None],
        step: Step | None = None,
    ) -> None:
        self._client, self._journal, self._names = client, journal, names
        self._extra, self._guard = dict(extra_args), guard
        self._step = step or (lambda name: None)
        self._uploads: list[S3Upload] = []
        self._journaled = False

    def __enter__(self) -> S3FileSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def open(self, path: Any, *, follow_symlinks: bool = True) -> TextIO:
        upload = S3Upload(self._client, self._names[str(path)], self._extra)
        self._uploads.append(upload)
        return upload.stream()

    def commit(self) -> None:
        """Send the last parts, check the lock, write the journal (the commit point), complete."""
        uploads = [(u.url, u.upload_id, u.finish()) for u in self._uploads]
        self._step("written")
        self._guard()
        write_journal(self._client, self._journal, uploads, self._extra)
        self._journaled = True  # from here on the uploads belong to the journal: never aborted
        self._step("journal")
        _complete_all(self._client, uploads, self._step)
        self._uploads = []
        with writing_s3(self._journal):
            self._client.delete_object(Bucket=self._journal.bucket, Key=self._journal.key)
        self._step("done")

    def discard(self) -> None:
        """Abort every upload, unless the journal names them (the next run completes them)."""
        if not self._journaled:
            for upload in self._uploads:
                upload.abort()
        self._uploads = []


def write_journal(
    client: Any, journal: S3Url, uploads: list[Upload], extra_args: Mapping[str, str]
) -> None:
    """Write the journal only if none is there (If-None-Match: a journal found means a commit
    not finished, which the lock holder finishes first, never overwrites)."""
    document = {
        "format": JOURNAL_FORMAT,
        "bucket": journal.bucket,
        "uploads": [
            {"key": url.key, "upload_id": upload_id, "parts": parts}
            for url, upload_id, parts in uploads
        ],
    }
    body = (json.dumps(document) + "\n").encode("utf-8")
    with writing_s3(journal):
        client.put_object(
            Bucket=journal.bucket,
            Key=journal.key,
            Body=body,
            IfNoneMatch="*",
            ContentType="application/json",
            **extra_args,
        )


def recover_s3_set(client: Any, journal: S3Url, targets: Collection[S3Url]) -> bool:
    """Finish the commit a killed run left (its journal exists): complete what is left, delete
    the journal. True if there was one. JournalRefused, nothing touched, unless the journal is
    smi's and names only uploads of `targets`."""
    document = _load(client, journal)
    if document is None:
        return False
    uploads = _uploads_of(journal, document, targets)
    logger.warning("%s: finishing the commit of an interrupted run", journal)
    _complete_all(client, uploads, lambda name: None)
    with writing_s3(journal):
        client.delete_object(Bucket=journal.bucket, Key=journal.key)
    return True


def remove_stale_uploads(client: Any, targets: Collection[S3Url]) -> int:
    """Abort the uploads of `targets` that runs killed before their commit point left (under the
    snapshot's lock, no other run writes them). The number aborted."""
    aborted = 0
    for target in targets:
        paginator = client.get_paginator("list_multipart_uploads")
        with s3_errors(target):
            pages = list(paginator.paginate(Bucket=target.bucket, Prefix=target.key))
        for page in pages:
            for upload in page.get("Uploads", ()):
                if upload.get("Key") == target.key:  # the prefix also matches longer keys
                    abort_upload(client, target, upload["UploadId"])
                    aborted += 1
    return aborted


def _complete_all(client: Any, uploads: list[Upload], step: Step) -> None:
    for url, upload_id, parts in uploads:
        try:
            with s3_errors(url):
                client.complete_multipart_upload(
                    Bucket=url.bucket,
                    Key=url.key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
        except S3Error as error:
            if error.code != "NoSuchUpload":  # completed before a crash
                raise WriteFailed(str(url), error.reason) from None
        step(f"completed {url.name}")


def _load(client: Any, journal: S3Url) -> object:
    try:
        with s3_errors(journal):
            body = client.get_object(Bucket=journal.bucket, Key=journal.key)["Body"]
            data = body.read(MAX_JOURNAL_BYTES + 1)
    except S3Error as error:
        if error.code in ("NoSuchKey", "404"):
            return None
        raise
    try:
        return journal_document(data, MAX_JOURNAL_BYTES)
    except ValueError as error:
        _refuse(journal, str(error))


def _uploads_of(journal: S3Url, document: object, targets: Collection[S3Url]) -> list[Upload]:
    """The uploads the journal names, if it has smi's shape exactly and names only `targets`."""
    if not isinstance(document, dict) or set(document) != {"format", "bucket", "uploads"}:
        _refuse(journal, 'not an object with exactly "format", "bucket" and "uploads"')
    if type(document["format"]) is not int or document["format"] != JOURNAL_FORMAT:
        _refuse(journal, f"format {shown(document['format'])} is not {JOURNAL_FORMAT}")
    if document["bucket"] != journal.bucket:
        _refuse(journal, f"names bucket {shown(document['bucket'])}, not {journal.bucket}")
    entries = document["uploads"]
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_UPLOADS:
        _refuse(journal, f'"uploads" is not a list of 1 to {MAX_UPLOADS} uploads')
    allowed = {t.key: t for t in targets if t.bucket == journal.bucket}
    uploads: list[Upload] = []
    for entry in entries:
        key, upload_id, parts = _entry_of(journal, entry)
        if key not in allowed:
            _refuse(
                journal,
                f"{shown(key)} is not the snapshot, its sidecar or this run's --changes"
                " (after a crash, run again with the same --changes to finish that commit)",
            )
        if any(url.key == key for url, _, _ in uploads):
            _refuse(journal, f"names {shown(key)} twice")
        uploads.append((allowed[key], upload_id, parts))
    return uploads


def _entry_of(journal: S3Url, entry: object) -> tuple[str, str, list[Part]]:
    if not isinstance(entry, dict) or set(entry) != {"key", "upload_id", "parts"}:
        _refuse(journal, f"upload {shown(entry)} is not a key, an upload id and parts")
    key, upload_id, parts = entry["key"], entry["upload_id"], entry["parts"]
    if not isinstance(key, str) or not isinstance(upload_id, str) or not upload_id.isprintable():
        _refuse(journal, f"upload {shown(entry)} is not a key and an upload id")
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
        _refuse(journal, f"upload of {shown(key)} has not 1 to {MAX_PARTS} parts")
    for number, part in enumerate(parts, start=1):
        if (
            not isinstance(part, dict)
            or set(part) != {"PartNumber", "ETag"}
            or type(part["PartNumber"]) is not int
            or part["PartNumber"] != number
            or not isinstance(part["ETag"], str)
        ):
            _refuse(journal, f"part {shown(part)} of {shown(key)} is not smi's")
    return key, upload_id, parts


def _refuse(journal: S3Url, reason: str) -> NoReturn:
    raise JournalRefused(
        f"{journal}: refused: {reason}; nothing was completed or removed (smi writes this "
        "object only between two steps of a commit: delete it if no smi run of yours left it)"
    )
