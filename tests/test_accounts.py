"""Accounts: parsing ARNs, ids and accounts files; resolving role ARNs, account ids and --org into
sources (moto Organizations and STS); and whole runs over several accounts x regions."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest

from sagemaker_inventory import inventory
from sagemaker_inventory.accounts import (
    AccountDiscoveryError,
    AccountInputError,
    AccountRequest,
    RoleArn,
    default_session_name,
    parse_account,
    parse_account_id,
    parse_external_id,
    parse_role_arn,
    parse_role_name,
    parse_session_name,
    read_accounts,
    read_accounts_file,
    resolve_account_sources,
    sanitize_session_name,
)
from sagemaker_inventory.inventory import CollectOptions, Summary, run_inventory
from sagemaker_inventory.scopes import AccountSource, Scope, build_scopes
from sagemaker_inventory.sessions import SessionFactory

CALLER = "123456789012"  # moto's default account: the base credentials
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ["us-east-1", "eu-west-1"]


# ---------------------------------------------------------------- helpers (also used by CLI tests)


def role(account: str, name: str = "OrganizationAccountAccessRole") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def sagemaker_in(account: str, region: str) -> Any:
    """A SageMaker client of `account` (moto routes assumed-role keys to the role's account)."""
    if account == CALLER:
        return boto3.client("sagemaker", region_name=region)
    keys = boto3.client("sts", region_name=region).assume_role(
        RoleArn=role(account), RoleSessionName="seed"
    )["Credentials"]
    return boto3.client(
        "sagemaker",
        region_name=region,
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


def seed_jobs(account: str, region: str, count: int = 2) -> list[str]:
    """`count` jobs named after their account and region; returns the names."""
    client = sagemaker_in(account, region)
    names = [f"job-{account[:3]}-{region}-{i}" for i in range(count)]
    for name in names:
        client.create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={
                "TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                "TrainingInputMode": "File",
            },
            RoleArn=f"arn:aws:iam::{account}:role/sm",
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 10,
            },
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
        )
    return names


def seed_accounts(accounts: Iterable[str], regions: Iterable[str] = REGIONS) -> None:
    for account in accounts:
        for region in regions:
            seed_jobs(account, region)


def create_org(members: int, suspended: int = 0) -> tuple[list[str], list[str]]:
    """An organization managed by the caller: (active member ids, suspended member ids)."""
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = [
        org.create_account(Email=f"m{i}@example.com", AccountName=f"member-{i}")[
            "CreateAccountStatus"
        ]["AccountId"]
        for i in range(members + suspended)
    ]
    for account in ids[members:]:
        org.close_account(AccountId=account)
    return ids[:members], ids[members:]


def deny_assume_role(factory: SessionFactory, accounts: set[str]) -> list[str]:
    """Make AssumeRole into `accounts` fail with AccessDenied; returns every role asked for."""
    asked: list[str] = []

    def answer(params: dict[str, Any], **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        arn = str(params["body"]["RoleArn"])
        asked.append(arn)
        if arn.split(":")[4] not in accounts:
            return None
        return AWSResponse("https://sts.invalid", 403, {}, None), {
            "Error": {
                "Code": "AccessDenied",
                "Message": f"User: arn:aws:iam::{CALLER}:user/moto is not authorized to perform:"
                f" sts:AssumeRole on resource: {arn}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    factory.session(None).events.register("before-call.sts.AssumeRole", answer)
    return asked


def run(
    sources: list[AccountSource],
    factory: SessionFactory | None = None,
    regions: list[str] = REGIONS,
    options: CollectOptions | None = None,
    observer: Any = None,
) -> tuple[list[dict[str, Any]], Summary]:
    records: list[dict[str, Any]] = []
    summary = run_inventory(
        build_scopes(sources, regions),
        factory or SessionFactory(),
        options or CollectOptions(max_workers=2),
        records.append,
        observer,
    )
    return records, summary


def by_scope(summary: Summary) -> dict[tuple[str | None, str], tuple[str, int]]:
    return {(s.account_id, s.region): (s.status, s.jobs) for s in summary.scopes}


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arn:aws:iam::111111111111:role/Inventory", RoleArn("aws", "111111111111", "Inventory")),
        (
            " arn:aws-cn:iam::111111111111:role/ops/Inv ",
            RoleArn("aws-cn", "111111111111", "ops/Inv"),
        ),
        (
            "arn:aws-us-gov:iam::111111111111:role/a+=,.@-_",
            RoleArn("aws-us-gov", "1" * 12, "a+=,.@-_"),
        ),
    ],
)
def test_role_arns_are_split_into_partition_account_and_name(text: str, expected: RoleArn) -> None:
    parsed = parse_role_arn(text)
    assert parsed == expected
    assert str(parsed) == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:iam::11111111111:role/Short",  # 11 digits
        "arn:aws:iam::111111111111:user/alice",  # not a role
        "arn:aws:sts::111111111111:assumed-role/R/s",  # a session, not a role
        "arn:aws:iam::111111111111:role/",  # no name
        "arn:aws:iam:us-east-1:111111111111:role/R",  # IAM ARNs have no region
        "arn:azure:iam::111111111111:role/R",
        "arn:aws:iam::111111111111:role/has space",
        f"arn:aws:iam::111111111111:role/{'x' * 65}",
    ],
)
def test_malformed_role_arns_are_refused_naming_the_value(text: str) -> None:
    with pytest.raises(AccountInputError, match="not an IAM role ARN") as caught:
        parse_role_arn(text)
    assert repr(text) in str(caught.value)


def test_account_ids_are_twelve_digits() -> None:
    assert parse_account_id(" 012345678901 ") == "012345678901"
    # Regression: `\d` also matched non-ASCII digits such as FULLWIDTH DIGIT ONE.
    for bad in ("12345678901", "1234567890123", "12345678901a", "", "\uff11" * 12):
        with pytest.raises(AccountInputError, match="not an AWS account id"):
            parse_account_id(bad)


def test_an_account_line_is_an_id_or_a_role_arn() -> None:
    assert parse_account("111111111111") == "111111111111"
    assert parse_account(role("1" * 12)) == RoleArn(
        "aws", "1" * 12, "OrganizationAccountAccessRole"
    )
    with pytest.raises(AccountInputError, match="neither an AWS account id"):
        parse_account("prod-account")


def test_role_names_session_names_and_external_ids_follow_aws_rules() -> None:
    assert parse_role_name("Inventory") == "Inventory"
    assert parse_role_name("/ops/Inventory") == "ops/Inventory"
    assert parse_session_name("smi-alice@example.com") == "smi-alice@example.com"
    assert parse_external_id("ext:id/42") == "ext:id/42"
    for parse, bad in (
        (parse_role_name, "bad name"),
        (parse_session_name, "x"),
        (parse_session_name, "has space"),
        (parse_session_name, "x" * 65),
        (parse_external_id, "a"),
        (parse_external_id, "semi;colon"),
    ):
        with pytest.raises(AccountInputError, match=repr(bad).replace("(", r"\(")):
            parse(bad)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (f"arn:aws:sts::{CALLER}:user/moto", "smi-moto"),
        (f"arn:aws:iam::{CALLER}:user/team/alice", "smi-alice"),
        (f"arn:aws:sts::{CALLER}:assumed-role/Admin/alice@example.com", "smi-alice@example.com"),
        (f"arn:aws:iam::{CALLER}:root", "smi-root"),
        (f"arn:aws:sts::{CALLER}:assumed-role/SSO/bob smith!", "smi-bob-smith-"),
    ],
)
def test_the_default_session_name_names_the_caller(caller: str, expected: str) -> None:
    assert default_session_name(caller) == expected


def test_session_names_are_cut_to_sixty_four_characters() -> None:
    name = default_session_name(f"arn:aws:iam::{CALLER}:user/{'a' * 100}")
    assert len(name) == 64 and parse_session_name(name) == name
    assert sanitize_session_name("") == "smi"


# ---------------------------------------------------------------- accounts files


def test_accounts_files_skip_blank_lines_and_comments() -> None:
    text = f"""# production
111111111111
  222222222222   # data team

{role("333333333333", "ops/Inventory")}
"""
    assert read_accounts(io.StringIO(text), "accounts.txt") == [
        "111111111111",
        "222222222222",
        RoleArn("aws", "333333333333", "ops/Inventory"),
    ]


def test_a_bad_line_names_the_file_the_line_and_the_value(tmp_path: Path) -> None:
    path = tmp_path / "accounts.txt"
    path.write_text("111111111111\n# fine\n2222-2222-2222\n")
    with pytest.raises(AccountInputError) as caught:
        read_accounts_file(str(path))
    message = str(caught.value)
    assert f"{path}:3:" in message and "'2222-2222-2222'" in message


def test_an_unreadable_file_is_named_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(
        AccountInputError, match=r"cannot read accounts file .*missing.*No such file"
    ):
        read_accounts_file(str(tmp_path / "missing"))
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(AccountInputError, match="cannot read accounts file"):
        read_accounts_file(str(binary))


def test_dash_reads_stdin() -> None:
    assert read_accounts_file("-", io.StringIO("111111111111\n")) == ["111111111111"]
    with pytest.raises(AccountInputError, match="<stdin>:1:"):
        read_accounts_file("-", io.StringIO("nope\n"))


# ---------------------------------------------------------------- resolving sources


def test_profiles_alone_are_one_account_each() -> None:
    factory = SessionFactory()
    assert resolve_account_sources(AccountRequest(), factory) == [AccountSource()]
    request = AccountRequest(profiles=("a", "b"))
    assert resolve_account_sources(request, factory) == [
        AccountSource(profile="a"),
        AccountSource(profile="b"),
    ]


@pytest.mark.usefixtures("moto_aws")
def test_role_arns_and_ids_mean_exactly_those_accounts() -> None:
    request = AccountRequest(
        role_arns=(parse_role_arn(role(ACCOUNTS[0], "Custom")),),
        account_ids=(ACCOUNTS[1], ACCOUNTS[2], ACCOUNTS[1]),
        role_name="Inventory",
        external_id="ext-1",
        duration_seconds=1800,
    )
    sources = resolve_account_sources(request, SessionFactory())
    assert [s.role_arn for s in sources] == [
        role(ACCOUNTS[0], "Custom"),
        role(ACCOUNTS[1], "Inventory"),
        role(ACCOUNTS[2], "Inventory"),
    ]
    assert [s.account_id for s in sources] == list(ACCOUNTS)  # not the caller's own
    assert {(s.session_name, s.external_id, s.duration_seconds) for s in sources} == {
        ("smi-moto", "ext-1", 1800)
    }


@pytest.mark.usefixtures("moto_aws")
def test_account_ids_take_the_callers_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = SessionFactory()
    monkeypatch.setattr(factory, "client", lambda session, service, region: _china_sts())
    sources = resolve_account_sources(AccountRequest(account_ids=(ACCOUNTS[0],)), factory)
    assert (
        sources[0].role_arn == f"arn:aws-cn:iam::{ACCOUNTS[0]}:role/OrganizationAccountAccessRole"
    )


def _china_sts() -> Any:
    class Sts:
        def get_caller_identity(self) -> dict[str, str]:
            return {"Account": CALLER, "Arn": f"arn:aws-cn:iam::{CALLER}:user/li"}

    return Sts()


@pytest.mark.usefixtures("moto_aws")
def test_two_roles_for_one_account_are_refused() -> None:
    request = AccountRequest(
        role_arns=(parse_role_arn(role(ACCOUNTS[0], "A")),), account_ids=(ACCOUNTS[0],)
    )
    with pytest.raises(AccountInputError, match=f"account {ACCOUNTS[0]} is named twice"):
        resolve_account_sources(request, SessionFactory())


@pytest.mark.usefixtures("moto_aws")
def test_org_lists_active_accounts_minus_exclusions_and_the_caller_uses_its_own_keys() -> None:
    active, suspended = create_org(members=3, suspended=1)
    request = AccountRequest(org=True, exclude=frozenset({active[1]}))
    sources = resolve_account_sources(request, SessionFactory())
    assert [s.account_id for s in sources] == [CALLER, active[0], active[2]]
    assert sources[0] == AccountSource(account_id=CALLER)  # base credentials, no role
    assert [s.role_arn for s in sources[1:]] == [role(active[0]), role(active[2])]
    assert suspended[0] not in {s.account_id for s in sources}


@pytest.mark.usefixtures("moto_aws")
def test_org_pages_through_list_accounts() -> None:
    create_org(members=24)
    factory = SessionFactory()
    pages: list[int] = []
    factory.session(None).events.register(
        "before-call.organizations.ListAccounts", lambda **_: pages.append(1)
    )
    assert len(resolve_account_sources(AccountRequest(org=True), factory)) == 25
    assert len(pages) == 2


@pytest.mark.usefixtures("moto_aws")
def test_an_org_that_cannot_be_listed_is_a_discovery_error() -> None:
    from botocore.awsrequest import AWSResponse

    def refuse(**_: Any) -> Any:
        return AWSResponse("https://organizations.invalid", 400, {}, None), {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "You don't have permissions to access this resource.",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    factory = SessionFactory()
    factory.session(None).events.register("before-call.organizations.ListAccounts", refuse)
    with pytest.raises(AccountDiscoveryError, match="cannot list the organization's accounts"):
        resolve_account_sources(AccountRequest(org=True), factory)


def test_without_credentials_org_fails_but_roles_go_on_to_fail_per_scope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(AccountDiscoveryError, match="NoCredentials"):
        resolve_account_sources(AccountRequest(org=True), SessionFactory())
    request = AccountRequest(account_ids=(ACCOUNTS[0],))
    [source] = resolve_account_sources(request, SessionFactory(), region_hint="cn-north-1")
    assert source.role_arn == f"arn:aws-cn:iam::{ACCOUNTS[0]}:role/OrganizationAccountAccessRole"
    assert source.session_name == "smi-inventory"


def test_a_given_session_name_needs_no_caller_lookup() -> None:
    # No moto here: a GetCallerIdentity would be refused by the loopback guard.
    request = AccountRequest(role_arns=(parse_role_arn(role(ACCOUNTS[0])),), session_name="nightly")
    [source] = resolve_account_sources(request, SessionFactory())
    assert source.session_name == "nightly"


# ---------------------------------------------------------------- whole runs


@pytest.mark.usefixtures("moto_aws")
def test_three_accounts_through_role_arns_in_two_regions() -> None:
    seed_accounts(ACCOUNTS)
    seed_jobs(CALLER, "us-east-1", 5)  # the caller's own jobs must not appear
    request = AccountRequest(role_arns=tuple(parse_role_arn(role(a)) for a in ACCOUNTS))
    factory = SessionFactory()
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 0
    assert by_scope(summary) == {(a, r): ("ok", 2) for a in ACCOUNTS for r in REGIONS}
    assert len(records) == 12
    for record in records:
        account, region = record["account_id"], record["training_job_arn"].split(":")[3]
        assert record["training_job_name"].startswith(f"job-{account[:3]}-{region}-")


@pytest.mark.usefixtures("moto_aws")
def test_an_accounts_file_in_two_regions(tmp_path: Path) -> None:
    seed_accounts(ACCOUNTS[:2])
    path = tmp_path / "accounts.txt"
    path.write_text(f"# two accounts\n{ACCOUNTS[0]}\n{role(ACCOUNTS[1])}  # by ARN\n")
    entries = read_accounts_file(str(path))
    request = AccountRequest(
        role_arns=tuple(e for e in entries if isinstance(e, RoleArn)),
        account_ids=tuple(e for e in entries if isinstance(e, str)),
    )
    factory = SessionFactory()
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 0
    assert sorted({r["account_id"] for r in records}) == sorted(ACCOUNTS[:2])
    assert len(records) == 8


@pytest.mark.usefixtures("moto_aws")
def test_org_with_an_excluded_and_a_suspended_account() -> None:
    active, suspended = create_org(members=3, suspended=1)
    seed_accounts([CALLER, *active, *suspended])
    factory = SessionFactory()
    asked = deny_assume_role(factory, set())
    request = AccountRequest(org=True, exclude=frozenset({active[2]}))
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 0
    collected = [CALLER, active[0], active[1]]
    assert by_scope(summary) == {(a, r): ("ok", 2) for a in collected for r in REGIONS}
    assert {r["account_id"] for r in records} == set(collected)
    assert {arn.split(":")[4] for arn in asked} == {active[0], active[1]}  # never the others


@pytest.mark.usefixtures("moto_aws")
def test_a_role_that_cannot_be_assumed_fails_only_its_accounts_scopes() -> None:
    seed_accounts(ACCOUNTS)
    factory = SessionFactory()
    deny_assume_role(factory, {ACCOUNTS[1]})
    request = AccountRequest(account_ids=ACCOUNTS)
    records, summary = run(resolve_account_sources(request, factory), factory)
    assert summary.exit_code == 3
    assert {r["account_id"] for r in records} == {ACCOUNTS[0], ACCOUNTS[2]}
    assert len(records) == 8
    for scope in summary.scopes:
        if scope.account_id == ACCOUNTS[1]:
            assert scope.status == "failed" and scope.error is not None
            assert scope.error.code == "AccessDenied"
            assert "sts:AssumeRole" in scope.error.message
        else:
            assert (scope.status, scope.jobs) == ("ok", 2)


@pytest.mark.usefixtures("moto_aws")
def test_when_no_role_can_be_assumed_nothing_is_collected() -> None:
    seed_accounts(ACCOUNTS)
    factory = SessionFactory()
    deny_assume_role(factory, set(ACCOUNTS))
    records, summary = run(
        resolve_account_sources(AccountRequest(account_ids=ACCOUNTS), factory), factory
    )
    assert (records, summary.exit_code) == ([], 1)
    assert {s.status for s in summary.scopes} == {"failed"}


class AdvancingObserver(inventory.NullObserver):
    """Moves the credentials' clock forward by `step` after every job, as a long run would."""

    def __init__(self, advance: Callable[[float], None], step: float) -> None:
        self.advance, self.step = advance, step

    def job_done(self, scope: Scope) -> None:
        self.advance(self.step)


@pytest.mark.usefixtures("moto_aws")
def test_credentials_that_expire_mid_run_are_renewed_and_the_run_completes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moto.sts.models

    now = [datetime.now(timezone.utc)]
    monkeypatch.setattr(moto.sts.models, "utcnow", lambda: now[0].replace(tzinfo=None))

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    seed_jobs(ACCOUNTS[0], "us-east-1", 6)
    factory = SessionFactory(clock=lambda: now[0])
    asked = deny_assume_role(factory, set())  # denies nothing; records each AssumeRole
    source = AccountSource(role_arn=role(ACCOUNTS[0]), account_id=ACCOUNTS[0])
    records, summary = run(
        [source],
        factory,
        regions=["us-east-1"],
        options=CollectOptions(max_workers=1, with_tags=False),
        observer=AdvancingObserver(advance, 30 * 60),  # 6 jobs = 3 hours of 1-hour credentials
    )
    assert summary.exit_code == 0 and len(records) == 6
    assert len(asked) > 1
