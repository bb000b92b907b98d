"""Finding each job's tags: in bulk through the Resource Groups Tagging API, or job by job.

GetResources returns the tags of every tagged training job of a region, 100 per call, instead of
one ListTags call per job. When that API is denied, smi falls back to ListTags per job.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import Any

from sagemaker_inventory.errors import error_code
from sagemaker_inventory.fetch import ThrottleRetry, iter_tagged_jobs, list_job_tags
from sagemaker_inventory.shape import format_tags

DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


class TagLookup:
    """Tags for the jobs of one scope; `path` says which API served them ("bulk" or "per-job").

    The bulk read runs on a thread of its own, so listing and describing start at once (at 20,000
    jobs its 100 GetResources pages took 4 s); the first job that needs tags waits for it.
    """

    def __init__(self, sagemaker: Any, tagging: Any | None, retry: ThrottleRetry) -> None:
        self._sagemaker = sagemaker
        self._retry = retry
        self._as_of = datetime.now(timezone.utc)
        self._bulk: Future[dict[str, list[str]] | None] | None = None
        if tagging is not None:
            self._bulk = Future()
            threading.Thread(
                target=self._read_bulk, args=(tagging,), name="bulk-tags", daemon=True
            ).start()

    @property
    def path(self) -> str:
        """Which API serves the tags, "bulk" or "per-job" (waits for the bulk read; raises its
        failure)."""
        return "per-job" if self._bulk_tags() is None else "bulk"

    def _bulk_tags(self) -> dict[str, list[str]] | None:
        return None if self._bulk is None else self._bulk.result()

    def _read_bulk(self, tagging: Any) -> None:
        assert self._bulk is not None
        try:
            self._bulk.set_result(self._load_bulk(tagging))
        except BaseException as exc:  # handed to whoever asks for tags
            self._bulk.set_exception(exc)

    def _load_bulk(self, tagging: Any) -> dict[str, list[str]] | None:
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
        arn = str(response["TrainingJobArn"])
        created = response.get("CreationTime")
        bulk = self._bulk_tags()
        # A job created after the bulk read cannot be in it: ask for its tags directly.
        if bulk is not None and not _is_after(created, self._as_of):
            return list(bulk.get(arn.lower(), []))
        return format_tags(list_job_tags(self._sagemaker, arn, self._retry))


def _is_after(moment: Any, reference: datetime) -> bool:
    if not isinstance(moment, datetime):
        return False
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware > reference
