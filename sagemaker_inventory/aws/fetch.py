"""AWS calls only: page ListTrainingJobs with filters pushed down, describe each job, fetch tags.

Every function takes a ready client and yields or returns raw API dicts; nothing here converts,
prints or decides what a failure means for the run (see `errors` and `collect.run`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sagemaker_inventory.aws.errors import is_throttling, is_vanished_job

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sagemaker import SageMakerClient

# ListTrainingJobs answers 10 jobs a page unless asked; 100 is its maximum.
PAGE_SIZE = 100
TRAINING_JOB_RESOURCE_TYPE = "sagemaker:training-job"

T = TypeVar("T")

# Newest first within an account x region: ListTrainingJobs sorts ascending unless asked.
LIST_ORDER = {"SortBy": "CreationTime", "SortOrder": "Descending"}


@dataclass(frozen=True)
class ListFilters:
    """Filters on ListTrainingJobs, pushed down to the API where it can apply them.

    The API takes one StatusEquals per call, and applies it after the page is cut (a filtered
    listing costs as many pages as an unfiltered one). So one status is pushed down, while several
    are one unfiltered listing kept client-side: k listings, one per status, would cost k times
    the ListTrainingJobs calls, on the API with the lowest rate limit, and lose the newest-first
    order across statuses.
    """

    statuses: tuple[str, ...] = ()
    name_contains: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    modified_after: datetime | None = None

    def to_params(self) -> dict[str, Any]:
        pairs = {
            "StatusEquals": self.statuses[0] if len(self.statuses) == 1 else None,
            "NameContains": self.name_contains,
            "CreationTimeAfter": self.created_after,
            "CreationTimeBefore": self.created_before,
            "LastModifiedTimeAfter": self.modified_after,
        }
        return {key: value for key, value in pairs.items() if value is not None}

    @property
    def given(self) -> bool:
        """True when any filter is set (a listing narrower than the whole scope)."""
        return bool(self.statuses) or bool(self.to_params())

    def keeps(self, summary: dict[str, Any]) -> bool:
        """Whether a listed job passes the filters the API could not apply (several statuses)."""
        return len(self.statuses) < 2 or summary.get("TrainingJobStatus") in self.statuses


@dataclass
class ThrottleRetry:
    """Retries a call still throttled after botocore's own retries, with full-jitter delays, for
    up to `max_seconds`: layer 3 of the throttling design in `adaptive_rate`'s docstring."""

    max_seconds: float = 600.0
    base_delay: float = 0.5
    max_delay: float = 20.0
    on_retry: Callable[[], None] | None = None
    sleep: Callable[[float], None] = time.sleep

    def call(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.max_seconds
        attempt = 0
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_throttling(exc) or time.monotonic() >= deadline:
                    raise
                self.wait(attempt)
                attempt += 1

    def wait(self, attempt: int) -> None:
        if self.on_retry is not None:
            self.on_retry()
        # Full jitter keeps many workers from retrying in lockstep.
        self.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt)))


def iter_job_summaries(
    client: SageMakerClient, filters: ListFilters, retry: ThrottleRetry | None = None
) -> Iterator[dict[str, Any]]:
    """Every TrainingJobSummary matching `filters`, page by page, newest first.

    StatusEquals is applied after a page is cut, so pages can be empty while NextToken goes on;
    the paginator keeps following NextToken.
    """
    params = {**filters.to_params(), **LIST_ORDER}
    pages = resumable_pages(client, "list_training_jobs", params, "NextToken", retry)
    for page in pages:
        for summary in page.get("TrainingJobSummaries", []):
            if filters.keeps(summary):
                yield summary


def resumable_pages(
    client: Any,
    operation: str,
    params: dict[str, Any],
    token_key: str,
    retry: ThrottleRetry | None,
    page_size: int = PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """botocore's pages of `operation`, `page_size` items each. A page still throttled after
    botocore's retries is asked again from the last token received, so no page is skipped or
    repeated."""
    retry = retry or ThrottleRetry()
    paginator = client.get_paginator(operation)
    token: str | None = None
    attempt = 0
    while True:
        config: dict[str, Any] = {"PageSize": page_size}
        if token:
            config["StartingToken"] = token
        try:
            for page in paginator.paginate(**params, PaginationConfig=config):
                attempt = 0
                token = page.get(token_key)
                yield page
            return
        except Exception as exc:
            if not is_throttling(exc):
                raise
            retry.wait(attempt)
            attempt += 1


def describe_training_job(
    client: SageMakerClient,
    name: str,
    retry: ThrottleRetry | None = None,
) -> dict[str, Any] | None:
    """The DescribeTrainingJob response as botocore parsed it, or None when the job vanished
    since it was listed. From a SessionFactory client, timestamps are UTC datetimes."""
    retry = retry or ThrottleRetry()

    def describe() -> dict[str, Any]:
        return cast("dict[str, Any]", client.describe_training_job(TrainingJobName=name))

    try:
        response = retry.call(describe)
    except Exception as exc:
        if is_vanished_job(exc):
            return None
        raise
    response.pop("ResponseMetadata", None)
    return response


def list_job_tags(
    client: SageMakerClient, arn: str, retry: ThrottleRetry | None = None
) -> list[dict[str, str]]:
    """The job's tags through SageMaker ListTags (one job at a time)."""
    retry = retry or ThrottleRetry()

    def fetch() -> list[dict[str, str]]:
        tags: list[dict[str, str]] = []
        for page in client.get_paginator("list_tags").paginate(
            ResourceArn=arn, PaginationConfig={"PageSize": PAGE_SIZE}
        ):
            tags.extend(cast("list[dict[str, str]]", page.get("Tags", [])))
        return tags

    return retry.call(fetch)


def iter_tagged_jobs(
    tagging_client: ResourceGroupsTaggingAPIClient, retry: ThrottleRetry | None = None
) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """(ARN, tags) of every tagged training job of the region, 100 per GetResources call.

    Jobs that were never tagged do not appear at all.
    """
    params = {"ResourceTypeFilters": [TRAINING_JOB_RESOURCE_TYPE]}
    pages = resumable_pages(tagging_client, "get_resources", params, "PaginationToken", retry)
    for page in pages:
        for mapping in page.get("ResourceTagMappingList", []):
            yield mapping["ResourceARN"], mapping.get("Tags", [])
