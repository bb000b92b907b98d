"""Finding each job's tags: in bulk through the Resource Groups Tagging API, or job by job.

GetResources returns the tags of every tagged training job of a region, 100 per call, instead of
one ListTags call per job. When that API is denied, smi falls back to ListTags per job.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sagemaker_inventory.errors import error_code
from sagemaker_inventory.fetch import ThrottleRetry, iter_tagged_jobs, list_job_tags
from sagemaker_inventory.shape import format_tags

DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})


class TagLookup:
    """Tags for the jobs of one scope; `path` says which API served them ("bulk" or "per-job")."""

    def __init__(self, sagemaker: Any, tagging: Any | None, retry: ThrottleRetry) -> None:
        self._sagemaker = sagemaker
        self._retry = retry
        self._bulk: dict[str, list[str]] | None = None
        self._as_of = datetime.now(timezone.utc)
        self.path = "per-job"
        if tagging is not None:
            self._bulk = self._load_bulk(tagging)
            if self._bulk is not None:
                self.path = "bulk"

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
        # A job created after the bulk read cannot be in it: ask for its tags directly.
        if self._bulk is not None and not _is_after(created, self._as_of):
            return list(self._bulk.get(arn.lower(), []))
        return format_tags(list_job_tags(self._sagemaker, arn, self._retry))


def _is_after(moment: Any, reference: datetime) -> bool:
    if not isinstance(moment, datetime):
        return False
    aware = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return aware > reference
