"""Finding each job's tags: in bulk through the Resource Groups Tagging API, or job by job.

GetResources returns the tags of every tagged training job of a region, 100 per call, instead of
one ListTags call per job. When that API is denied, smi falls back to ListTags per job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sagemaker_inventory.aws.errors import error_code
from sagemaker_inventory.aws.fetch import ThrottleRetry, iter_tagged_jobs, list_job_tags
from sagemaker_inventory.records.shape import format_tags
from sagemaker_inventory.records.timestamps import as_utc

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sagemaker import SageMakerClient

DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


class TagLookup:
    """Tags for the jobs of one scope; `path` says which API served them ("bulk" or "per-job", None
    when no job needed tags).

    The bulk read starts with the first job listed (`start`), so a region without jobs costs no
    tagging call and no tagging client, and runs on a thread of its own, so describing goes on
    meanwhile (a large account's GetResources pages take seconds); the first job that needs tags
    waits for it. `make_tagging` builds the tagging client; without it every job's tags come from
    ListTags.
    """

    def __init__(
        self,
        sagemaker: SageMakerClient,
        make_tagging: Callable[[], ResourceGroupsTaggingAPIClient] | None,
        retry: ThrottleRetry,
    ) -> None:
        self._sagemaker = sagemaker
        self._retry = retry
        self._make_tagging = make_tagging
        self._as_of = datetime.now(timezone.utc)
        self._bulk: Future[dict[str, list[str]] | None] | None = None
        self._lock = threading.Lock()
        self._started = False

    def start(self) -> None:
        """Start the bulk read, once; later calls do nothing."""
        with self._lock:
            if self._started:
                return
            self._started = True
            if self._make_tagging is None:
                return
            self._as_of = datetime.now(timezone.utc)
            self._bulk = Future()
        threading.Thread(target=self._read_bulk, name="bulk-tags", daemon=True).start()

    @property
    def path(self) -> str | None:
        """Which API serves the tags, "bulk" or "per-job", or None if no job needed any (waits
        for the bulk read; raises its failure)."""
        if not self._started:
            return None
        return "per-job" if self._bulk_tags() is None else "bulk"

    def _bulk_tags(self) -> dict[str, list[str]] | None:
        return None if self._bulk is None else self._bulk.result()

    def _read_bulk(self) -> None:
        assert self._bulk is not None and self._make_tagging is not None
        try:
            self._bulk.set_result(self._load_bulk(self._make_tagging()))
        except BaseException as exc:  # handed to whoever asks for tags
            self._bulk.set_exception(exc)

    def _load_bulk(self, tagging: ResourceGroupsTaggingAPIClient) -> dict[str, list[str]] | None:
        try:
            # SageMaker writes names lower-case in ARNs; compare case-insensitively all the same.
            return {
                arn.lower(): format_tags(tags)
                for arn, tags in iter_tagged_jobs(tagging, self._retry)
            }
        except Exception as exc:
            if error_code(exc) in DENIED_CODES:
                return None
            raise

    def tags_for(self, response: dict[str, Any]) -> list[str]:
        self.start()
        arn = str(response["TrainingJobArn"])
        created = response.get("CreationTime")
        bulk = self._bulk_tags()
        # A job created after the bulk read cannot be in it: ask for its tags directly.
        if bulk is not None and not _is_after(created, self._as_of):
            return list(bulk.get(arn.lower(), []))
        return format_tags(list_job_tags(self._sagemaker, arn, self._retry))


def _is_after(moment: Any, reference: datetime) -> bool:
    try:
        return as_utc(moment) > reference  # a datetime from botocore (epoch seconds read too)
    except TypeError:  # no CreationTime
        return False
