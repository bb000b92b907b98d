"""Tests for the embedded demo: what the seeded moto account answers through real boto3 clients."""

from __future__ import annotations

import os
import random
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from sagemaker_inventory.demo.backend import (
    DEMO_ACCOUNT_ID,
    DEMO_NOTICE,
    DEMO_REGIONS,
    DemoUnavailableError,
    demo_anchor,
    demo_backend,
    demo_session,
    seed_training_jobs,
)
from sagemaker_inventory.demo.jobs import DEMO_TAG, TERMINAL_STATUSES, plan_jobs
from sagemaker_inventory.demo.requests import build_request

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

ANCHOR = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
STATUSES = {"InProgress", "Completed", "Failed", "Stopping", "Stopped"}
Described = dict[str, list[dict[str, Any]]]


def sagemaker_client(region: str) -> SageMakerClient:
    return demo_session().client("sagemaker", region_name=region)


def list_names(client: SageMakerClient, **filters: Any) -> list[str]:
    pages = client.get_paginator("list_training_jobs").paginate(
        PaginationConfig={"PageSize": 100}, **filters
    )
    return [job["TrainingJobName"] for page in pages for job in page["TrainingJobSummaries"]]


def describe_all(client: SageMakerClient) -> list[dict[str, Any]]:
    described = []
    for name in list_names(client):
        response: dict[str, Any] = dict(client.describe_training_job(TrainingJobName=name))
        response.pop("ResponseMetadata")
        described.append(response)
    return described


def tags_of(client: SageMakerClient, arn: str) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in client.list_tags(ResourceArn=arn)["Tags"]}


def every_job(demo: Described) -> list[dict[str, Any]]:
    return [job for jobs in demo.values() for job in jobs]


@pytest.fixture(scope="class")
def demo() -> Iterator[Described]:
    """The default demo, described once per region through real clients."""
    with demo_backend():
        yield {region: describe_all(sagemaker_client(region)) for region in DEMO_REGIONS}


class TestDefaultDemo:
    def test_each_region_holds_25_jobs_listed_through_the_paginator(self, demo: Described) -> None:
        assert {region: len(jobs) for region, jobs in demo.items()} == {
            "us-east-1": 25,
            "eu-west-1": 25,
        }

    def test_jobs_live_in_the_demo_account_and_their_region(self, demo: Described) -> None:
        for region, jobs in demo.items():
            prefix = f"arn:aws:sagemaker:{region}:{DEMO_ACCOUNT_ID}:training-job/"
            assert all(job["TrainingJobArn"].startswith(prefix) for job in jobs)

    def test_every_status_appears_in_every_region(self, demo: Described) -> None:
        for jobs in demo.values():
            assert {job["TrainingJobStatus"] for job in jobs} == STATUSES

    def test_secondary_status_matches_status(self, demo: Described) -> None:
        allowed = {
            "Completed": {"Completed"},
            "Failed": {"Failed"},
            "Stopped": {"Stopped", "MaxRuntimeExceeded"},
            "InProgress": {"Starting", "Training"},
            "Stopping": {"Stopping"},
        }
        for job in every_job(demo):
            assert job["SecondaryStatus"] in allowed[job["TrainingJobStatus"]]
            assert job["SecondaryStatusTransitions"][-1]["Status"] in {
                job["SecondaryStatus"],
                "Training",
            }

    def test_jobs_are_listed_newest_first_over_about_90_days(self, demo: Described) -> None:
        # moto lists in creation order whatever SortOrder asks: the demo creates newest first,
        # the order smi asks for (SortOrder=Descending).
        for jobs in demo.values():
            created = [job["CreationTime"] for job in jobs]
            assert created == sorted(created, reverse=True)
            assert timedelta(days=60) < created[0] - created[-1] < timedelta(days=95)
            assert created[0] <= demo_anchor()

    def test_a_failed_job_in_each_region_has_a_bracketed_backtrace(self, demo: Described) -> None:
        for jobs in demo.values():
            reasons = [job["FailureReason"] for job in jobs if job["TrainingJobStatus"] == "Failed"]
            assert reasons and all(reasons)
            assert any("[bt] (0)" in reason for reason in reasons)
        others = [job for job in every_job(demo) if job["TrainingJobStatus"] != "Failed"]
        assert not [job for job in others if "FailureReason" in job]

    def test_finished_jobs_have_times_running_jobs_do_not(self, demo: Described) -> None:
        for job in every_job(demo):
            running = job["TrainingJobStatus"] in {"InProgress", "Stopping"}
            for member in ("TrainingEndTime", "TrainingTimeInSeconds", "BillableTimeInSeconds"):
                assert (member in job) is not running, (job["TrainingJobName"], member)
            if not running:
                assert job["CreationTime"] < job["TrainingStartTime"] < job["TrainingEndTime"]
                assert job["LastModifiedTime"] == job["TrainingEndTime"]

    def test_spot_jobs_bill_less_than_they_train(self, demo: Described) -> None:
        jobs = every_job(demo)
        spot = [job for job in jobs if job["EnableManagedSpotTraining"]]
        assert spot, "the demo needs managed spot jobs"
        for job in spot:
            condition = job["StoppingCondition"]
            assert condition["MaxWaitTimeInSeconds"] >= condition["MaxRuntimeInSeconds"]
            assert "S3Uri" in job["CheckpointConfig"]
            if "BillableTimeInSeconds" in job:
                assert 0 < job["BillableTimeInSeconds"] < job["TrainingTimeInSeconds"]
        for job in jobs:
            if not job["EnableManagedSpotTraining"] and "TrainingTimeInSeconds" in job:
                assert job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"]
                assert "MaxWaitTimeInSeconds" not in job["StoppingCondition"]

    def test_some_jobs_run_in_a_vpc(self, demo: Described) -> None:
        jobs = every_job(demo)
        in_vpc = [job["VpcConfig"] for job in jobs if "VpcConfig" in job]
        assert 0 < len(in_vpc) < len(jobs)
        assert all(config["Subnets"] and config["SecurityGroupIds"] for config in in_vpc)

    def test_map_keys_stay_as_the_user_wrote_them(self, demo: Described) -> None:
        jobs = every_job(demo)
        assert any("MaxDepth" in job.get("HyperParameters", {}) for job in jobs)
        hooks = [job["DebugHookConfig"] for job in jobs if "DebugHookConfig" in job]
        parameters = [
            c["CollectionParameters"] for h in hooks for c in h["CollectionConfigurations"]
        ]
        assert {"train.save_interval": "50"} in parameters
        assert any("TOKENIZERS_PARALLELISM" in job.get("Environment", {}) for job in jobs)

    def test_sent_metric_definitions_replace_motos_sample(self, demo: Described) -> None:
        for job in every_job(demo):
            names = [d["Name"] for d in job["AlgorithmSpecification"]["MetricDefinitions"]]
            assert "test:dcg" not in names and len(names) == 2
            if job["TrainingJobStatus"] == "Completed":
                assert [m["MetricName"] for m in job["FinalMetricDataList"]] == names
            else:
                assert "FinalMetricDataList" not in job

    def test_a_heterogeneous_cluster_is_among_the_jobs(self, demo: Described) -> None:
        configs = [job["ResourceConfig"] for jobs in demo.values() for job in jobs]
        grouped = [config for config in configs if "InstanceGroups" in config]
        assert grouped and all("InstanceCount" not in config for config in grouped)

    def test_every_job_is_tagged_demo_and_some_have_no_team_tags(self, demo: Described) -> None:
        for region, jobs in demo.items():
            client = sagemaker_client(region)
            tags = [tags_of(client, job["TrainingJobArn"]) for job in jobs]
            assert all(t[DEMO_TAG[0]] == DEMO_TAG[1] for t in tags)
            teamed = [t for t in tags if len(t) > 1]
            assert 0 < len(teamed) < len(tags)
            assert all({"team", "project", "cost-center"} <= set(t) for t in teamed)

    def test_tagging_api_returns_the_same_tags_for_tagged_jobs_only(self, demo: Described) -> None:
        for region, jobs in demo.items():
            sagemaker = sagemaker_client(region)
            expected = {
                job["TrainingJobArn"]: tags_of(sagemaker, job["TrainingJobArn"]) for job in jobs
            }
            tagging = demo_session().client("resourcegroupstaggingapi", region_name=region)
            pages = tagging.get_paginator("get_resources").paginate(
                ResourceTypeFilters=["sagemaker:training-job"]
            )
            found = {
                item["ResourceARN"]: {tag["Key"]: tag["Value"] for tag in item["Tags"]}
                for page in pages
                for item in page["ResourceTagMappingList"]
            }
            assert found == {arn: tags for arn, tags in expected.items() if tags}

    def test_creation_time_filters_select_by_the_seeded_times(self, demo: Described) -> None:
        client = sagemaker_client("us-east-1")
        created = sorted(job["CreationTime"] for job in demo["us-east-1"])
        middle = created[len(created) // 2]
        after = list_names(client, CreationTimeAfter=middle)
        assert len(after) == len([moment for moment in created if moment > middle])

    def test_sts_reports_the_demo_account(self, demo: Described) -> None:
        identity = demo_session().client("sts", region_name="us-east-1").get_caller_identity()
        assert identity["Account"] == DEMO_ACCOUNT_ID


def test_the_notice_says_it_is_demo_data() -> None:
    assert DEMO_NOTICE.startswith("DEMO DATA")
    assert DEMO_ACCOUNT_ID in DEMO_NOTICE and all(region in DEMO_NOTICE for region in DEMO_REGIONS)


def test_user_environment_is_replaced_inside_and_restored_after(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nendpoint_url = http://127.0.0.1:9\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUSERKEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    before = dict(os.environ)
    with demo_backend(jobs_per_region=2):
        assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
        assert os.environ["AWS_SESSION_TOKEN"] == "testing"
        assert "AWS_PROFILE" not in os.environ
        assert not [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]
        # The user's endpoint (a dead port) would fail this call if it leaked into the client.
        assert len(list_names(boto3.client("sagemaker", region_name="eu-west-1"))) == 2
    assert dict(os.environ) == before


def test_environment_is_restored_when_the_body_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    before = dict(os.environ)
    with pytest.raises(KeyError), demo_backend(jobs_per_region=0):
        raise KeyError("boom")
    assert dict(os.environ) == before


def test_seeding_is_deterministic_for_a_seed_and_anchor() -> None:
    def seeded(rng_seed: int) -> tuple[list[str], list[dict[str, Any]]]:
        with demo_backend(jobs_per_region=0):
            names = seed_training_jobs("us-east-1", 12, rng_seed=rng_seed, anchor=ANCHOR)
            return names, describe_all(sagemaker_client("us-east-1"))

    names, described = seeded(7)
    assert seeded(7) == (names, described)
    assert [job["TrainingJobName"] for job in described] == names
    assert max(job["CreationTime"] for job in described) <= ANCHOR
    other_names, other = seeded(8)
    assert (other_names, [j["TrainingJobStatus"] for j in other]) != (
        names,
        [j["TrainingJobStatus"] for j in described],
    )


def test_default_demo_names_and_statuses_repeat_between_runs() -> None:
    def names_and_statuses() -> list[tuple[str, str]]:
        with demo_backend():
            client = sagemaker_client("eu-west-1")
            pages = client.get_paginator("list_training_jobs").paginate(
                PaginationConfig={"PageSize": 100}
            )
            return [
                (job["TrainingJobName"], job["TrainingJobStatus"])
                for page in pages
                for job in page["TrainingJobSummaries"]
            ]

    assert names_and_statuses() == names_and_statuses()


def test_default_demo_jobs_do_not_move_with_the_clock() -> None:
    # Regression: the demo's times were offsets before "now", so every run changed every job.
    def described() -> list[dict[str, Any]]:
        with demo_backend(jobs_per_region=6):
            return describe_all(sagemaker_client("us-east-1"))

    first = described()
    assert first == described()
    assert max(job["LastModifiedTime"] for job in first) <= demo_anchor()


def test_150_jobs_come_back_in_pages_of_100_and_50() -> None:
    with demo_backend(jobs_per_region=0):
        names = seed_training_jobs("us-west-2", 150, name_prefix="paging")
        client = sagemaker_client("us-west-2")
        pages = list(
            client.get_paginator("list_training_jobs").paginate(PaginationConfig={"PageSize": 100})
        )
    assert [len(page["TrainingJobSummaries"]) for page in pages] == [100, 50]
    listed = [job["TrainingJobName"] for page in pages for job in page["TrainingJobSummaries"]]
    assert listed == names and len(set(names)) == 150
    assert Counter(name.startswith("paging-") for name in names) == {True: 150}
    assert {
        job["TrainingJobStatus"] for page in pages for job in page["TrainingJobSummaries"]
    } == STATUSES


def test_a_session_for_another_account_seeds_that_account() -> None:
    with demo_backend(jobs_per_region=0):
        other = "210987654321"
        role = f"arn:aws:iam::{other}:role/inventory"
        credentials = (
            demo_session()
            .client("sts", region_name="us-east-1")
            .assume_role(RoleArn=role, RoleSessionName="smi")["Credentials"]
        )
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        seed_training_jobs("us-east-1", 3, session=session)
        theirs = session.client("sagemaker", region_name="us-east-1")
        summaries = theirs.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
        ours = list_names(sagemaker_client("us-east-1"))
    assert [s["TrainingJobArn"].split(":")[4] for s in summaries] == [other] * 3
    assert ours == []


def test_job_plans_depend_only_on_the_random_source_and_need_no_mock() -> None:
    plans = plan_jobs("eu-west-1", 12, random.Random("seed"), "plan")
    assert plans == plan_jobs("eu-west-1", 12, random.Random("seed"), "plan")
    assert [plan.name[-4:] for plan in plans] == [f"{index:04d}" for index in range(1, 13)]
    assert [plan.age for plan in plans] == sorted((plan.age for plan in plans), reverse=True)
    assert {plan.status for plan in plans} == STATUSES
    assert TERMINAL_STATUSES < STATUSES


def test_a_request_names_the_planned_job_in_its_region_and_account() -> None:
    for plan in plan_jobs("eu-west-1", 12, random.Random("seed"), "plan"):
        request = build_request(plan, "eu-west-1", "210987654321")
        assert request["TrainingJobName"] == plan.name
        assert request["RoleArn"].startswith("arn:aws:iam::210987654321:role/")
        assert ".dkr.ecr.eu-west-1." in request["AlgorithmSpecification"]["TrainingImage"]
        assert request["EnableManagedSpotTraining"] is plan.spot
        keys = [key for key, _ in plan.tags]
        assert [tag["Key"] for tag in request["Tags"]] == [*keys, DEMO_TAG[0]]


def test_seeding_refuses_to_run_without_a_mock() -> None:
    with pytest.raises(RuntimeError, match="active moto mock"):
        seed_training_jobs("us-east-1", 1)


@pytest.mark.parametrize(
    ("count", "name_prefix"), [(-1, "smi-demo"), (1, ""), (1, "bad_prefix"), (1, "x" * 41)]
)
def test_seeding_rejects_bad_arguments(count: int, name_prefix: str) -> None:
    with pytest.raises(ValueError):
        seed_training_jobs("us-east-1", count, name_prefix=name_prefix)


def test_without_moto_the_demo_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name == "moto" or name.startswith("moto.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "moto", None)
    hint = r"the demo needs moto: pip install 'sagemaker-inventory\[demo\]'"
    with pytest.raises(DemoUnavailableError, match=hint), demo_backend():
        pass  # pragma: no cover
    with pytest.raises(DemoUnavailableError):
        seed_training_jobs("us-east-1", 1)
    assert issubclass(DemoUnavailableError, RuntimeError)
