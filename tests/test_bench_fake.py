"""The benchmark's fake organization: who a request is from, what each account x region holds, and
a whole `smi collect --org` against it losing nothing (the bench's zero-loss check relies on it)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from sagemaker_inventory.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import bare_client
import bench
from fake_endpoint import (
    ACCOUNT,
    FakeConfig,
    FakeServer,
    FakeState,
    Where,
    dispatch,
    full_job,
    job_arn,
    job_tags,
    org_accounts,
    start_fake,
    where_of,
)

SIGNED = (
    "AWS4-HMAC-SHA256 Credential={key}/20261128/{region}/sagemaker/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


def test_a_request_is_answered_for_its_keys_account_and_its_credential_scopes_region() -> None:
    assumed = where_of(SIGNED.format(key="ASIA200000000003", region="eu-west-1"))
    assert assumed == Where("200000000003", "eu-west-1")
    assert where_of(SIGNED.format(key="testing", region="us-west-2")) == Where(ACCOUNT, "us-west-2")
    assert where_of("") == Where()


def test_list_accounts_pages_the_caller_and_its_members() -> None:
    state = FakeState(FakeConfig(accounts=45))
    ids, token = [], None
    while True:
        _, page = dispatch(state, "ListAccounts", {"NextToken": token} if token else {})
        ids += [a["Id"] for a in page["Accounts"]]
        assert len(page["Accounts"]) <= 20
        if not (token := page.get("NextToken")):
            break
    assert ids == org_accounts(state.config) and ids[0] == ACCOUNT and len(set(ids)) == 45


def test_each_scope_has_its_own_jobs_and_empty_regions_have_none() -> None:
    state = FakeState(FakeConfig(jobs=3, accounts=2, empty_regions=frozenset({"eu-west-1"})))
    member = Where("200000000001", "us-west-2")
    _, page = dispatch(state, "ListTrainingJobs", {"MaxResults": 100}, member)
    assert [s["TrainingJobArn"] for s in page["TrainingJobSummaries"]] == [
        job_arn(i, member) for i in range(3)
    ]
    _, empty = dispatch(state, "ListTrainingJobs", {}, Where("200000000001", "eu-west-1"))
    assert empty == {"TrainingJobSummaries": []}


def test_the_workload_expects_every_job_of_every_scope_with_jobs() -> None:
    args = bench.parse_args(["--accounts", "3", "--regions", "2", "--empty-regions", "1"])
    args.jobs = 2
    workload = bench.workload_of(args, FakeConfig(jobs=2, accounts=3))
    assert workload.scopes == 9 and workload.total_jobs == 12
    assert len(workload.expected_arns()) == 12


def test_full_jobs_have_every_member_of_the_model_and_their_own_identity() -> None:
    from sagemaker_inventory.records.shape import describe_output_shape

    where = Where("200000000002", "eu-west-1")
    job = full_job(5, where)
    assert set(job) == set(describe_output_shape().members)
    assert job["TrainingJobArn"] == job_arn(5, where) and job["TrainingJobName"].endswith("05")
    state = FakeState(FakeConfig(jobs=6, full_jobs=True))
    assert dispatch(state, "DescribeTrainingJob", {"TrainingJobName": job["TrainingJobName"]})[
        1
    ] == full_job(5)


def test_the_bare_client_writes_every_job_once_with_its_tags(tmp_path: Path) -> None:
    server, state = start_fake(FakeConfig(jobs=150))
    try:
        written = bare_client.run(server.url, str(tmp_path / "bare.jsonl"), workers=4)
    finally:
        server.shutdown()
    jobs = [json.loads(line) for line in (tmp_path / "bare.jsonl").read_text().splitlines()]
    assert written == 150 and len({j["TrainingJobArn"] for j in jobs}) == 150
    assert all(j["Tags"] == job_tags(state, int(j["TrainingJobName"][-6:])) for j in jobs)


@pytest.fixture
def org_fake() -> Iterator[tuple[FakeServer, FakeState]]:
    config = FakeConfig(jobs=2, accounts=3, empty_regions=frozenset({"us-west-2"}))
    server, state = start_fake(config)
    yield server, state
    server.shutdown()


def test_smi_collects_the_whole_fake_organization(
    org_fake: tuple[FakeServer, FakeState], tmp_path: Path
) -> None:
    server, state = org_fake
    args = ["collect", "--org", "-r", "us-east-1,us-west-2", "--endpoint-url", server.url]
    result = CliRunner().invoke(cli, [*args, "--report", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.stderr
    arns = [json.loads(line)["training_job_arn"] for line in result.stdout.splitlines()]
    accounts = org_accounts(state.config)
    assert sorted(arns) == sorted(
        job_arn(i, Where(a, "us-east-1")) for a in accounts for i in (0, 1)
    )
    assert state.stats.requests["AssumeRole"] == len(accounts) - 1  # the caller's needs no role
