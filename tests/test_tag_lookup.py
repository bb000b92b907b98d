"""TagLookup: a job created after the bulk tag read gets its tags job by job."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sagemaker_inventory.aws.fetch import ThrottleRetry
from sagemaker_inventory.aws.tags import TagLookup

ARN = "arn:aws:sagemaker:us-east-1:111111111111:training-job/"


class _Client:
    """A client whose paginators answer one page: GetResources in bulk, ListTags per job."""

    def __init__(self, pages: dict[str, dict[str, Any]]) -> None:
        self.pages, self.calls = pages, []  # type: ignore[var-annotated]

    def get_paginator(self, operation: str) -> Any:
        client = self

        class _Paginator:
            def paginate(self, **params: Any) -> list[dict[str, Any]]:
                client.calls.append(operation)
                return [client.pages[operation]]

        return _Paginator()


@pytest.mark.parametrize("form", ["datetime", "epoch seconds"])
def test_a_job_created_after_the_bulk_read_gets_its_tags_job_by_job(form: str) -> None:
    """Regression: with describe responses as sent (epoch seconds), every job was looked up in
    the bulk read, so a job created after it lost its tags."""
    sagemaker = _Client({"list_tags": {"Tags": [{"Key": "team", "Value": "new"}]}})
    tagging = _Client(
        {
            "get_resources": {
                "ResourceTagMappingList": [
                    {"ResourceARN": ARN + "old", "Tags": [{"Key": "team", "Value": "old"}]}
                ]
            }
        }
    )
    lookup = TagLookup(sagemaker, lambda: tagging, ThrottleRetry())
    lookup.start()
    before, after = time.time() - 3600, time.time() + 3600
    if form == "datetime":
        from datetime import datetime, timezone

        before_value: Any = datetime.fromtimestamp(before, timezone.utc)
        after_value: Any = datetime.fromtimestamp(after, timezone.utc)
    else:
        before_value, after_value = before, after
    old = lookup.tags_for({"TrainingJobArn": ARN + "old", "CreationTime": before_value})
    new = lookup.tags_for({"TrainingJobArn": ARN + "new", "CreationTime": after_value})
    assert (old, new) == (["team:old"], ["team:new"])
    assert sagemaker.calls == ["list_tags"]
    assert lookup.path == "bulk"
