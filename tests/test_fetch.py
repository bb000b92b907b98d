"""The AWS edge against botocore's Stubber: paging, filters, throttling, vanished jobs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from sagemaker_inventory.aws.fetch import (
    ListFilters,
    ThrottleRetry,
    describe_training_job,
    iter_job_summaries,
    iter_tagged_jobs,
    list_job_tags,
)

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
NEWEST = {"SortBy": "CreationTime", "SortOrder": "Descending"}


@pytest.fixture
def sagemaker() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "sagemaker", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def summary(name: str) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:111122223333:training-job/{name}",
        "CreationTime": T0,
        "TrainingJobStatus": "Completed",
    }


def no_sleep_retry(calls: list[float]) -> ThrottleRetry:
    return ThrottleRetry(sleep=calls.append, on_retry=lambda: None)


def test_pages_of_100_with_filters_pushed_down_and_empty_pages_followed(sagemaker: Any) -> None:
    client, stub = sagemaker
    filters = ListFilters(statuses=("Failed",), name_contains="xgb", created_after=T0)
    pushed = {"StatusEquals": "Failed", "NameContains": "xgb", "CreationTimeAfter": T0, **NEWEST}
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": [summary("a")], "NextToken": "t1"},
        {**pushed, "MaxResults": 100},
    )
    # StatusEquals is applied after the page is cut: an empty page can still carry a NextToken.
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": [], "NextToken": "t2"},
        {**pushed, "MaxResults": 100, "NextToken": "t1"},
    )
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": [summary("b")]},
        {**pushed, "MaxResults": 100, "NextToken": "t2"},
    )
    names = [s["TrainingJobName"] for s in iter_job_summaries(client, filters)]
    assert names == ["a", "b"]


def test_newest_first_is_asked_of_the_api(sagemaker: Any) -> None:
    """Records came oldest first: ListTrainingJobs sorts ascending unless asked (issue 10)."""
    client, stub = sagemaker
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": [summary("new"), summary("old")]},
        {"MaxResults": 100, "SortBy": "CreationTime", "SortOrder": "Descending"},
    )
    assert [s["TrainingJobName"] for s in iter_job_summaries(client, ListFilters())] == [
        "new",
        "old",
    ]


def test_several_statuses_are_one_unfiltered_listing_kept_client_side(sagemaker: Any) -> None:
    """--status Failed,Stopped: one listing (StatusEquals takes one value and costs as many pages
    as no filter), every other filter still pushed down, list order kept."""
    client, stub = sagemaker
    jobs = [
        {**summary("a"), "TrainingJobStatus": "Failed"},
        {**summary("b"), "TrainingJobStatus": "Completed"},
        {**summary("c"), "TrainingJobStatus": "Stopped"},
        {**summary("d"), "TrainingJobStatus": "InProgress"},
    ]
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": jobs},
        {"MaxResults": 100, "NameContains": "x", **NEWEST},
    )
    filters = ListFilters(statuses=("Failed", "Stopped"), name_contains="x")
    assert [s["TrainingJobName"] for s in iter_job_summaries(client, filters)] == ["a", "c"]


def test_throttled_page_is_asked_again_from_the_last_token(sagemaker: Any) -> None:
    client, stub = sagemaker
    slept: list[float] = []
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": [summary("a")], "NextToken": "t1"},
        {"MaxResults": 100, **NEWEST},
    )
    stub.add_client_error("list_training_jobs", "ThrottlingException", "Rate exceeded")
    stub.add_response(
        "list_training_jobs",
        {"TrainingJobSummaries": [summary("b")]},
        {"MaxResults": 100, "NextToken": "t1", **NEWEST},
    )
    names = [
        s["TrainingJobName"]
        for s in iter_job_summaries(client, ListFilters(), no_sleep_retry(slept))
    ]
    assert names == ["a", "b"]  # nothing skipped, nothing repeated
    assert len(slept) == 1


def test_describe_retries_throttling_until_it_answers(sagemaker: Any) -> None:
    client, stub = sagemaker
    slept: list[float] = []
    for _ in range(5):
        stub.add_client_error("describe_training_job", "ThrottlingException", "Rate exceeded")
    stub.add_response(
        "describe_training_job",
        {
            **summary("a"),
            "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m"},
            "SecondaryStatus": "Completed",
            "ResourceConfig": {"VolumeSizeInGB": 1},
            "StoppingCondition": {},
        },
        {"TrainingJobName": "a"},
    )
    response = describe_training_job(client, "a", no_sleep_retry(slept))
    assert response is not None and response["TrainingJobName"] == "a"
    assert "ResponseMetadata" not in response
    assert len(slept) == 5


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ValidationException", "Requested resource not found."),
        ("ValidationException", "Could not find training job 'arn:...:training-job/a'."),
        ("ResourceNotFound", "gone"),
    ],
)
def test_a_job_that_vanished_is_none(sagemaker: Any, code: str, message: str) -> None:
    client, stub = sagemaker
    stub.add_client_error("describe_training_job", code, message)
    assert describe_training_job(client, "a") is None


def test_other_describe_errors_propagate(sagemaker: Any) -> None:
    client, stub = sagemaker
    stub.add_client_error("describe_training_job", "AccessDeniedException", "no")
    with pytest.raises(Exception, match="AccessDeniedException"):
        describe_training_job(client, "a")
    stub.add_client_error("describe_training_job", "ValidationException", "1 validation error")
    with pytest.raises(Exception, match="validation error"):
        describe_training_job(client, "a")


def test_list_tags_pages(sagemaker: Any) -> None:
    client, stub = sagemaker
    arn = summary("a")["TrainingJobArn"]
    stub.add_response(
        "list_tags",
        {"Tags": [{"Key": "team", "Value": "ml"}], "NextToken": "n"},
        {"ResourceArn": arn, "MaxResults": 100},
    )
    stub.add_response(
        "list_tags",
        {"Tags": [{"Key": "env", "Value": "prod"}]},
        {"ResourceArn": arn, "MaxResults": 100, "NextToken": "n"},
    )
    assert list_job_tags(client, arn) == [
        {"Key": "team", "Value": "ml"},
        {"Key": "env", "Value": "prod"},
    ]


def test_bulk_tags_ask_for_training_jobs_100_at_a_time() -> None:
    client = boto3.client(
        "resourcegroupstaggingapi",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    arn = summary("a")["TrainingJobArn"]
    with Stubber(client) as stub:
        stub.add_response(
            "get_resources",
            {
                "ResourceTagMappingList": [
                    {"ResourceARN": arn, "Tags": [{"Key": "k", "Value": "v"}]}
                ],
                "PaginationToken": "",
            },
            {"ResourceTypeFilters": ["sagemaker:training-job"], "ResourcesPerPage": 100},
        )
        assert list(iter_tagged_jobs(client)) == [(arn, [{"Key": "k", "Value": "v"}])]


def test_a_throttled_tag_page_resumes_from_its_token() -> None:
    client = boto3.client(
        "resourcegroupstaggingapi",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    )
    base = {"ResourceTypeFilters": ["sagemaker:training-job"], "ResourcesPerPage": 100}
    first, second = summary("a")["TrainingJobArn"], summary("b")["TrainingJobArn"]
    slept: list[float] = []
    with Stubber(client) as stub:
        stub.add_response(
            "get_resources",
            {
                "ResourceTagMappingList": [{"ResourceARN": first, "Tags": []}],
                "PaginationToken": "p1",
            },
            base,
        )
        stub.add_client_error("get_resources", "ThrottlingException", "Rate exceeded")
        stub.add_response(
            "get_resources",
            {
                "ResourceTagMappingList": [{"ResourceARN": second, "Tags": []}],
                "PaginationToken": "",
            },
            {**base, "PaginationToken": "p1"},
        )
        arns = [arn for arn, _ in iter_tagged_jobs(client, no_sleep_retry(slept))]
        stub.assert_no_pending_responses()
    assert arns == [first, second]
    assert len(slept) == 1
