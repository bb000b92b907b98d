"""SessionFactory: profile and role sessions, self-renewing credentials, endpoints, threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from dateutil.tz import tzlocal

from sagemaker_inventory.aws.sessions import ClientOptions, SessionFactory, utc_now
from sagemaker_inventory.collect.scopes import AccountSource

ROLE = "arn:aws:iam::111111111111:role/Inventory"
SOURCE = AccountSource(role_arn=ROLE, account_id="111111111111", session_name="smi-test")


class Clock:
    """The time botocore's refreshable credentials read; tests move it forward."""

    def __init__(self) -> None:
        self.now = datetime.now(tzlocal())

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def utc_naive(self) -> datetime:
        return self.now.astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock that botocore's credentials and moto's STS (credential expiry) both read."""
    import moto.sts.models

    fake = Clock()
    monkeypatch.setattr(moto.sts.models, "utcnow", fake.utc_naive)
    return fake


def record_assume_role(factory: SessionFactory, profile: str | None = None) -> list[dict[str, Any]]:
    """The AssumeRole requests the factory's STS clients send (they come from the base session)."""
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append({**params["body"], "url": params["url"]})

    factory.session(profile).register("before-call.sts.AssumeRole", record)
    return sent


def caller_arn(factory: SessionFactory, source: AccountSource, region: str = "eu-west-1") -> str:
    sts = factory.client(factory.session_for(source), "sts", region)
    return str(sts.get_caller_identity()["Arn"])


def test_a_profile_source_gets_the_profile_session() -> None:
    factory = SessionFactory()
    assert factory.session_for(AccountSource()) is factory.session(None)


@pytest.mark.usefixtures("moto_aws")
def test_a_role_is_assumed_once_per_account_with_the_options_given() -> None:
    factory = SessionFactory()
    sent = record_assume_role(factory)
    source = AccountSource(
        role_arn=ROLE,
        account_id="111111111111",
        external_id="ext-42",
        session_name="smi-alice",
        duration_seconds=3600,
    )
    assert caller_arn(factory, source) == (
        "arn:aws:sts::111111111111:assumed-role/Inventory/smi-alice"
    )
    assert caller_arn(factory, source, "us-west-2").startswith("arn:aws:sts::111111111111:")
    assert factory.session_for(source) is factory.session_for(source)
    assert len(sent) == 1
    request = sent[0]
    assert (request["RoleArn"], request["RoleSessionName"]) == (ROLE, "smi-alice")
    assert (request["ExternalId"], request["DurationSeconds"]) == ("ext-42", 3600)


@pytest.mark.usefixtures("moto_aws")
def test_nothing_is_assumed_until_a_call_needs_the_keys() -> None:
    factory = SessionFactory()
    sent = record_assume_role(factory)
    factory.client(factory.session_for(SOURCE), "sagemaker", "us-east-1")
    assert sent == []


def test_role_keys_check_their_expiry_by_a_utc_clock() -> None:
    # botocore's default clock asked tzlocal() for the local zone before every signature.
    credentials = SessionFactory().session_for(SOURCE).get_credentials()
    assert credentials._time_fetcher is utc_now
    now = utc_now()
    assert now.utcoffset() == timedelta(0)
    assert abs((now - datetime.now(tzlocal())).total_seconds()) < 60


@pytest.mark.usefixtures("moto_aws")
def test_credentials_that_expire_are_renewed_by_botocore(clock: Clock) -> None:
    factory = SessionFactory(clock=clock)
    sent = record_assume_role(factory)
    sagemaker = factory.client(factory.session_for(SOURCE), "sagemaker", "us-east-1")
    sagemaker.list_training_jobs()
    clock.advance(2 * 3600)  # past the 1-hour default lifetime
    sagemaker.list_training_jobs()
    clock.advance(2 * 3600)
    sagemaker.list_training_jobs()
    assert len(sent) == 3


@pytest.mark.usefixtures("moto_aws")
def test_short_lived_credentials_are_not_renewed_before_every_request(clock: Clock) -> None:
    """Regression: botocore's 15-minute refresh window made 900 s credentials refresh per call."""
    factory = SessionFactory(clock=clock)
    sent = record_assume_role(factory)
    source = AccountSource(role_arn=ROLE, account_id="111111111111", duration_seconds=900)
    sagemaker = factory.client(factory.session_for(source), "sagemaker", "us-east-1")
    for _ in range(5):
        sagemaker.list_training_jobs()
    assert len(sent) == 1
    clock.advance(700)  # within the last quarter of the lifetime
    sagemaker.list_training_jobs()
    assert len(sent) == 2


@pytest.mark.usefixtures("moto_aws")
def test_role_sessions_are_assumed_from_the_base_profile(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile base]\nregion = eu-central-1\n"
        "aws_access_key_id = base-key\naws_secret_access_key = base-secret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    factory = SessionFactory()
    sent = record_assume_role(factory, "base")
    source = AccountSource(role_arn=ROLE, account_id="111111111111", base_profile="base")
    assert caller_arn(factory, source).startswith("arn:aws:sts::111111111111:assumed-role/")
    assert len(sent) == 1
    assert "eu-central-1" in sent[0]["url"]  # STS in the base profile's region


def test_without_a_region_sts_is_reached_in_the_roles_partition_home() -> None:
    factory = SessionFactory()
    sent = record_assume_role(factory)
    factory.session(None).register("before-call.sts.AssumeRole", _deny)
    source = AccountSource(role_arn="arn:aws-cn:iam::111111111111:role/R", account_id="1" * 12)
    sagemaker = factory.client(factory.session_for(source), "sagemaker", "cn-northwest-1")
    with pytest.raises(Exception, match="AccessDenied"):
        sagemaker.list_training_jobs()
    assert "cn-north-1" in sent[0]["url"]


def _deny(**_: Any) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse

    return AWSResponse("https://sts.invalid", 403, {}, None), {
        "Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }


def test_no_base_credentials_is_a_no_credentials_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import NoCredentialsError

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    with pytest.raises(NoCredentialsError):
        SessionFactory().session_for(SOURCE)


@pytest.mark.usefixtures("moto_aws")
def test_many_threads_share_one_assumption_without_deadlock() -> None:
    factory = SessionFactory()
    sent = record_assume_role(factory)
    errors: list[BaseException] = []

    def work(region: str) -> None:
        try:
            client = factory.client(factory.session_for(SOURCE), "sagemaker", region)
            client.list_training_jobs()
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    regions = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1"]
    threads = [threading.Thread(target=work, args=(r,)) for r in regions * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert len(sent) == 1


def test_every_session_shares_one_data_loader() -> None:
    factory = SessionFactory()
    other = AccountSource(role_arn="arn:aws:iam::222222222222:role/R", account_id="2" * 12)
    loaders = {
        id(session.get_component("data_loader"))
        for session in (
            factory.session(None),
            factory.session_for(SOURCE),
            factory.session_for(other),
        )
    }
    assert len(loaders) == 1


def test_every_factory_and_the_region_checks_share_the_process_loader() -> None:
    """Regression: the region check parsed endpoints.json (1.2 MB) again, with its own loader."""
    from sagemaker_inventory.aws.regions import known_regions, sagemaker_regions
    from sagemaker_inventory.aws.service_models import shared_loader

    first = SessionFactory().session(None).get_component("data_loader")
    second = SessionFactory().session_for(SOURCE).get_component("data_loader")
    assert first is second is shared_loader()
    assert "eu-west-1" in known_regions() and "us-east-1" in sagemaker_regions("aws")


@pytest.mark.usefixtures("moto_aws")
def test_roles_assumed_with_the_same_base_keys_share_one_sts_client() -> None:
    factory = SessionFactory()
    built: list[str] = []
    factory.session(None).register("creating-client-class.sts", lambda **_: built.append("sts"))
    other = AccountSource(role_arn="arn:aws:iam::222222222222:role/R", account_id="2" * 12)
    assert caller_arn(factory, SOURCE).startswith("arn:aws:sts::111111111111:")
    assert caller_arn(factory, other).startswith("arn:aws:sts::222222222222:")
    assert built == ["sts"]  # the AssumeRole client; the caller_arn clients come from role sessions


def test_sagemaker_clients_have_only_the_operations_smi_calls() -> None:
    import botocore.session

    from sagemaker_inventory.aws.service_models import SAGEMAKER_OPERATIONS

    factory = SessionFactory()
    client = factory.client(factory.session_for(SOURCE), "sagemaker", "us-east-1")
    model = client.meta.service_model
    assert set(model.operation_names) == SAGEMAKER_OPERATIONS
    assert {"list_training_jobs", "describe_training_job", "list_tags"} <= set(dir(client))
    full = botocore.session.get_session().get_service_model("sagemaker")
    assert set(full.operation_names) > SAGEMAKER_OPERATIONS
    assert model.shape_names == full.shape_names  # every shape kept, unchanged
    for name in SAGEMAKER_OPERATIONS:
        ours, theirs = model.operation_model(name), full.operation_model(name)
        assert (ours.input_shape.name, ours.output_shape.name, ours.http) == (
            theirs.input_shape.name,
            theirs.output_shape.name,
            theirs.http,
        )
    tagging = factory.client(factory.session(None), "resourcegroupstaggingapi", "us-east-1")
    assert "GetResources" in tagging.meta.service_model.operation_names


@pytest.fixture
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_the_endpoint_url_also_serves_assume_role(moto_server: str) -> None:
    factory = SessionFactory(ClientOptions(endpoint_url=moto_server))
    sent = record_assume_role(factory)
    assert caller_arn(factory, SOURCE).startswith("arn:aws:sts::111111111111:assumed-role/")
    assert sent[0]["url"].startswith(moto_server)


def test_a_client_of_a_service_role_sessions_do_not_serve_is_refused() -> None:
    """Role sessions carry botocore's handlers for ROLE_SESSION_SERVICES only: an S3 client from
    one would silently lack S3's customizations, so it is an error instead."""
    factory = SessionFactory()
    with pytest.raises(ValueError, match="'s3'"):
        factory.client(factory.session_for(SOURCE), "s3", "us-east-1")
    assert factory.client(factory.session(None), "s3", "us-east-1").meta.service_model


def test_run_sessions_send_the_user_agent_of_boto3_sessions() -> None:
    """The run's sessions are botocore's set up as boto3 sets up its own: their clients' and
    role sessions' User-Agent is the one boto3 Session clients sent, and no boto3 is needed."""
    import boto3
    import botocore

    from sagemaker_inventory.aws.session_maker import boto3_version

    def user_agent(client: Any) -> list[str]:
        # "m/..." lists the botocore features the calling context has used so far: not the
        # session's.
        parts = client._user_agent_creator.to_string().split()
        return [part for part in parts if not part.startswith("m/")]

    from sagemaker_inventory.aws.retry_settings import RetrySettings

    factory = SessionFactory()
    config = factory._config(RetrySettings())
    expected = user_agent(boto3.Session().client("sts", region_name="us-east-1", config=config))
    assert expected[0] == f"Boto3/{boto3.__version__}"
    assert expected[-2:] == [f"Botocore/{botocore.__version__}", "smi"]
    for session in (factory.session(None), factory.session_for(SOURCE)):
        assert user_agent(factory.client(session, "sts", "us-east-1")) == expected
    assert boto3_version() == boto3.__version__


def test_an_unknown_profile_fails_when_its_session_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """As boto3.Session(profile_name=...) did: the config files are read as the session is made."""
    from botocore.exceptions import ProfileNotFound

    monkeypatch.setenv("AWS_PROFILE", "nowhere")
    with pytest.raises(ProfileNotFound):
        SessionFactory().session(None)
    with pytest.raises(ProfileNotFound):
        SessionFactory().session("nowhere-either")


@pytest.mark.usefixtures("moto_aws")
def test_only_the_latest_role_sessions_are_kept_and_a_forgotten_ones_clients_still_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: every account's role session stayed alive to the end of the run, so memory
    and the cost of each scope grew with the size of the organization."""
    from sagemaker_inventory.aws import sessions

    monkeypatch.setattr(sessions, "ROLE_SESSIONS_KEPT", 2)
    factory = SessionFactory()
    a, b, c = (
        AccountSource(role_arn=f"arn:aws:iam::{n * 12}:role/R", account_id=n * 12) for n in "123"
    )
    first_a, first_b = factory.session_for(a), factory.session_for(b)
    sts_of_b = factory.client(first_b, "sts", "us-east-1")
    assert factory.session_for(a) is first_a  # a is now the latest: b is the oldest kept
    factory.session_for(c)
    assert factory.session_for(a) is first_a
    assert factory.session_for(b) is not first_b  # forgotten: its role is assumed again
    assert sts_of_b.get_caller_identity()["Account"] == "2" * 12
