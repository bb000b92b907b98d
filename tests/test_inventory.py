"""run_inventory against moto: paging, filters, regions, tags, vanished jobs and failing scopes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from jobs import ACCOUNT, create_jobs, delete_job, set_job

from sagemaker_inventory.aws.fetch import ListFilters
from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.collect.outcome import RunSummary
from sagemaker_inventory.collect.plan import CollectOptions
from sagemaker_inventory.collect.run import run_inventory
from sagemaker_inventory.collect.scopes import AccountSource, Scope, build_scopes

pytestmark = pytest.mark.usefixtures("moto_aws")

Hook = Callable[..., Any]


class HookedFactory(SessionFactory):
    """A SessionFactory that registers botocore event hooks on the clients of some regions."""

    def __init__(self, hooks: dict[tuple[str, str], Hook]) -> None:
        super().__init__()
        self.hooks = hooks  # (region, event name) -> handler

    def client(self, session: Any, service: str, region: str) -> Any:
        client = super().client(session, service, region)
        for (hook_region, event), handler in self.hooks.items():
            if hook_region == region:
                client.meta.events.register(event, handler)
        return client


def client_error(code: str, message: str) -> Hook:
    """A before-call hook that answers with an AWS error instead of calling the service."""

    def answer(**_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse

        http = AWSResponse("https://example.invalid", 400, {}, None)
        return http, {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    return answer


def collect(
    regions: list[str],
    options: CollectOptions | None = None,
    factory: SessionFactory | None = None,
) -> tuple[list[dict[str, Any]], RunSummary]:
    records: list[dict[str, Any]] = []
    scopes = build_scopes([AccountSource()], regions)
    summary = run_inventory(
        scopes, factory or SessionFactory(), options or CollectOptions(), records.append
    )
    return records, summary


def test_more_than_one_page_is_listed_and_described_in_list_order() -> None:
    names = [f"job-{i:03d}" for i in range(150)]
    create_jobs("us-east-1", names)
    records, summary = collect(["us-east-1"])
    assert [r["training_job_name"] for r in records] == names  # moto lists in creation order
    scope = summary.scopes[0]
    assert (scope.status, scope.jobs, scope.account_id) == ("ok", 150, ACCOUNT)
    assert scope.api_calls["ListTrainingJobs"] == 2  # pages of 100, not the default 10
    assert scope.api_calls["DescribeTrainingJob"] == 150
    assert summary.exit_code == 0


def test_records_follow_list_order_when_describes_finish_out_of_order() -> None:
    """Concurrent describes must not reorder a scope's records: they follow ListTrainingJobs'
    (newest-first) order even when the first job's describe answers last (issue 10)."""
    import threading

    names = [f"job-{i}" for i in range(8)]
    create_jobs("us-east-1", names)
    last_described = threading.Event()

    def hold_the_first(params: dict[str, Any], **_: Any) -> None:
        if params["TrainingJobName"] == names[-1]:
            last_described.set()
        elif params["TrainingJobName"] == names[0]:
            assert last_described.wait(10)

    factory = HookedFactory(
        {("us-east-1", "provide-client-params.sagemaker.DescribeTrainingJob"): hold_the_first}
    )
    records, _ = collect(["us-east-1"], CollectOptions(max_workers=8), factory)
    assert last_described.is_set()
    assert [r["training_job_name"] for r in records] == names


def test_several_statuses_keep_only_those() -> None:
    statuses = ["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
    create_jobs("us-east-1", statuses)
    for status in statuses:
        set_job("us-east-1", status, status=status)
    filters = ListFilters(statuses=("Failed", "Stopped"))
    records, summary = collect(["us-east-1"], CollectOptions(filters=filters))
    assert [r["training_job_name"] for r in records] == ["Failed", "Stopped"]
    calls = summary.scopes[0].api_calls
    assert calls["ListTrainingJobs"] == 1  # one listing for both statuses, not one per status
    assert calls["DescribeTrainingJob"] == 2  # the others are not described


def test_every_status_is_listed_by_default() -> None:
    statuses = ["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
    create_jobs("us-east-1", statuses)
    for status in statuses:
        set_job("us-east-1", status, status=status)
    records, _ = collect(["us-east-1"])
    assert sorted(r["training_job_status"] for r in records) == sorted(statuses)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (ListFilters(statuses=("Failed",)), {"xgb-failed"}),
        (ListFilters(name_contains="xgb"), {"xgb-failed", "xgb-old"}),
        (
            ListFilters(created_after=datetime(2026, 6, 1, tzinfo=timezone.utc)),
            {"xgb-failed", "bert"},
        ),
        (ListFilters(created_before=datetime(2026, 6, 1, tzinfo=timezone.utc)), {"xgb-old"}),
        (ListFilters(statuses=("Completed",), name_contains="xgb"), {"xgb-old"}),
    ],
)
def test_filters_are_applied(filters: ListFilters, expected: set[str]) -> None:
    create_jobs("us-east-1", ["xgb-failed", "xgb-old", "bert"])
    set_job("us-east-1", "xgb-failed", status="Failed", created=datetime(2026, 7, 1))
    set_job("us-east-1", "xgb-old", created=datetime(2026, 1, 1))
    set_job("us-east-1", "bert", created=datetime(2026, 8, 1))
    records, _ = collect(["us-east-1"], CollectOptions(filters=filters))
    assert {r["training_job_name"] for r in records} == expected


def test_modified_after_is_pushed_down() -> None:
    create_jobs("us-east-1", ["fresh"])
    soon = datetime.now(timezone.utc) + timedelta(days=1)
    records, _ = collect(["us-east-1"], CollectOptions(filters=ListFilters(modified_after=soon)))
    assert records == []
    past = datetime.now(timezone.utc) - timedelta(days=1)
    records, _ = collect(["us-east-1"], CollectOptions(filters=ListFilters(modified_after=past)))
    assert [r["training_job_name"] for r in records] == ["fresh"]


def test_two_regions_and_their_tags() -> None:
    create_jobs("us-east-1", ["east"], tags={"team": "vision", "cost-center": "42"})
    create_jobs("eu-west-1", ["west"])
    records, summary = collect(["us-east-1", "eu-west-1"])
    by_name = {r["training_job_name"]: r for r in records}
    assert by_name["east"]["tags"] == ["cost-center:42", "team:vision"]
    assert by_name["west"]["tags"] == []
    assert ":eu-west-1:" in by_name["west"]["training_job_arn"]
    assert [s.region for s in summary.scopes] == ["us-east-1", "eu-west-1"]
    assert all(s.account_id == ACCOUNT for s in summary.scopes)


def test_bulk_tags_and_per_job_fallback_give_identical_records() -> None:
    create_jobs("us-east-1", ["a", "b"], tags={"team": "nlp"})
    create_jobs("us-east-1", ["untagged"])
    bulk, bulk_summary = collect(["us-east-1"])
    denied = HookedFactory(
        {
            ("us-east-1", "before-call.resource-groups-tagging-api.GetResources"): client_error(
                "AccessDeniedException", "not allowed"
            )
        }
    )
    fallback, fallback_summary = collect(["us-east-1"], factory=denied)
    assert bulk == fallback
    assert bulk_summary.scopes[0].tag_path == "bulk"
    assert fallback_summary.scopes[0].tag_path == "per-job"
    assert fallback_summary.scopes[0].api_calls["ListTags"] == 3


def test_no_tags_makes_no_tag_calls() -> None:
    create_jobs("us-east-1", ["a"], tags={"team": "nlp"})
    records, summary = collect(["us-east-1"], CollectOptions(with_tags=False))
    assert records[0]["tags"] == []
    assert set(summary.scopes[0].api_calls) == {"ListTrainingJobs", "DescribeTrainingJob"}


class RecordingFactory(SessionFactory):
    """A SessionFactory that remembers which clients it built."""

    def __init__(self) -> None:
        super().__init__()
        self.built: list[tuple[str, str]] = []

    def client(self, session: Any, service: str, region: str) -> Any:
        self.built.append((service, region))
        return super().client(session, service, region)


def test_a_region_without_jobs_costs_one_list_call_and_no_tagging_client() -> None:
    create_jobs("us-east-1", ["a"], tags={"team": "nlp"})
    factory = RecordingFactory()
    records, summary = collect(["us-east-1", "eu-west-1"], factory=factory)
    east, west = summary.scopes
    assert west.api_calls == {"ListTrainingJobs": 1} and west.tag_path is None
    assert ("resourcegroupstaggingapi", "eu-west-1") not in factory.built
    assert east.tag_path == "bulk" and records[0]["tags"] == ["team:nlp"]


def test_a_job_that_vanishes_between_list_and_describe_is_skipped() -> None:
    create_jobs("us-east-1", ["stays", "goes"])
    # moto's GetResources walks its job table while answering: deleting a job meanwhile (from
    # another thread) breaks moto's walk, not smi, so the job goes once the bulk tag read is done.
    tags_read = threading.Event()

    def delete_before_describe(params: dict[str, Any], **_: Any) -> None:
        if params.get("TrainingJobName") == "goes":
            assert tags_read.wait(30)
            delete_job("us-east-1", "goes")

    factory = HookedFactory(
        {
            (
                "us-east-1",
                "before-parameter-build.sagemaker.DescribeTrainingJob",
            ): delete_before_describe,
            (
                "us-east-1",
                "after-call.resource-groups-tagging-api.GetResources",
            ): lambda **_: tags_read.set(),
        }
    )
    records, summary = collect(["us-east-1"], factory=factory)
    assert [r["training_job_name"] for r in records] == ["stays"]
    scope = summary.scopes[0]
    assert (scope.status, scope.jobs, scope.skipped, scope.skipped_jobs) == ("ok", 1, 1, ["goes"])
    assert summary.exit_code == 0


def test_a_failing_region_loses_no_record_of_the_others() -> None:
    create_jobs("us-east-1", [f"e{i}" for i in range(5)])
    create_jobs("eu-west-1", ["w"])
    factory = HookedFactory(
        {
            ("eu-west-1", "before-call.sagemaker.ListTrainingJobs"): client_error(
                "AccessDeniedException",
                "User is not authorized to perform: sagemaker:ListTrainingJobs",
            )
        }
    )
    records, summary = collect(["us-east-1", "eu-west-1"], factory=factory)
    assert sorted(r["training_job_name"] for r in records) == [f"e{i}" for i in range(5)]
    failed = summary.scopes[1]
    assert failed.status == "failed"
    assert failed.error is not None and failed.error.code == "AccessDeniedException"
    assert summary.exit_code == 3


def test_every_scope_failing_means_nothing_collected() -> None:
    deny = client_error("AccessDeniedException", "no")
    factory = HookedFactory({("us-east-1", "before-call.sagemaker.ListTrainingJobs"): deny})
    _, summary = collect(["us-east-1"], factory=factory)
    assert summary.exit_code == 1


def not_enabled_in(*regions: str) -> HookedFactory:
    """A factory whose clients in `regions` answer as AWS does where a region is not enabled."""
    answer = client_error(
        "UnrecognizedClientException", "The security token included in the request is invalid"
    )
    events = (
        "before-call.sagemaker.ListTrainingJobs",
        "before-call.resource-groups-tagging-api.GetResources",
    )
    return HookedFactory({(region, event): answer for region in regions for event in events})


def test_regions_not_enabled_are_skipped_only_with_all_regions() -> None:
    create_jobs("us-east-1", ["a"])
    factory = not_enabled_in("ap-east-1")
    options = CollectOptions(skip_unenabled_regions=True)
    records, summary = collect(["us-east-1", "ap-east-1"], options, factory)
    assert [s.status for s in summary.scopes] == ["ok", "skipped"]
    assert summary.exit_code == 0 and len(records) == 1
    _, strict = collect(["us-east-1", "ap-east-1"], CollectOptions(), factory)
    assert strict.exit_code == 3


def test_skips_become_failures_when_no_region_of_the_account_answers() -> None:
    factory = not_enabled_in("us-east-1", "eu-west-1")
    options = CollectOptions(skip_unenabled_regions=True)
    _, summary = collect(["us-east-1", "eu-west-1"], options, factory)
    assert [s.status for s in summary.scopes] == ["failed", "failed"]
    assert summary.exit_code == 1


def test_no_credentials_fail_every_scope_with_a_short_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    _, summary = collect(["us-east-1"])
    error = summary.scopes[0].error
    assert error is not None and error.code == "NoCredentials"
    # The fix is said once per run, by the CLI (tests/test_cli_stderr.py), not per scope.
    assert error.message == "no AWS credentials found"
    assert summary.exit_code == 1


def test_explicit_scopes_keep_their_order() -> None:
    sources = [AccountSource(profile=None)]
    assert build_scopes(sources, ["b", "a"]) == [Scope(sources[0], "b"), Scope(sources[0], "a")]


def test_cancelling_ends_a_scope_that_is_waiting_for_its_pace() -> None:
    import threading

    from sagemaker_inventory.aws.pacing import RateCaps
    from sagemaker_inventory.collect.outcome import CANCELLED

    create_jobs("us-east-1", ["a", "b", "c"])
    # One describe every 1000 s: after the first job the scope waits on its pace.
    options = CollectOptions(
        rate_caps=RateCaps.parse(["DescribeTrainingJob=0.001"]), max_workers=1, with_tags=False
    )
    cancelled = threading.Event()
    records: list[dict[str, Any]] = []
    summaries: list[RunSummary] = []

    def emit(record: dict[str, Any]) -> None:
        records.append(record)
        cancelled.set()  # a signal arrives while the next describe waits

    scopes = build_scopes([AccountSource()], ["us-east-1"])
    worker = threading.Thread(
        target=lambda: summaries.append(
            run_inventory(scopes, SessionFactory(), options, emit, cancelled=cancelled)
        )
    )
    worker.start()
    worker.join(timeout=60)  # a liveness bound, far below the 1000 s pace
    assert not worker.is_alive()
    assert [r["training_job_name"] for r in records] == ["a"]
    assert summaries[0].scopes[0].error == CANCELLED
