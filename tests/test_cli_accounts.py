"""The account options through click: a probe command decorated with `account_options` prints
the AccountSources `resolve_sources` returns; bad values exit 2 naming them; an unlistable
organization exits 1."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click
import pytest
from accounts_helpers import ACCOUNTS, CALLER, create_org, role, seed_accounts
from click.testing import CliRunner, Result

from sagemaker_inventory.aws.sessions import SessionFactory
from sagemaker_inventory.cli.account_options import account_options, resolve_sources
from sagemaker_inventory.cli.region_options import resolve_regions
from sagemaker_inventory.collect.accounts import AccountRequest


@click.command()
@click.option("-r", "--region", "regions", multiple=True)
@account_options
def probe(regions: tuple[str, ...], accounts: AccountRequest) -> None:
    factory = SessionFactory()
    region_list = resolve_regions(factory, accounts.base_profile, regions, False)
    sources = resolve_sources(accounts, factory, region_list)
    click.echo(json.dumps([dataclasses.asdict(s) for s in sources]))


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(probe, ["-r", "us-east-1", *args], input=input)


def sources(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def assert_usage_error(result: Result, *named: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert result.stdout == ""
    for text in named:
        assert text in result.stderr


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile prod]\nregion = eu-west-1\naws_access_key_id = a\naws_secret_access_key = b\n"
        "[profile dev]\naws_access_key_id = c\naws_secret_access_key = d\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))


def test_no_account_options_mean_the_default_credentials() -> None:
    assert [s["profile"] for s in sources(invoke())] == [None]


@pytest.mark.usefixtures("profiles")
def test_each_profile_is_one_account() -> None:
    found = sources(invoke("--profile", "prod", "--profile", "dev", "--profile", "prod"))
    assert [(s["profile"], s["role_arn"]) for s in found] == [("prod", None), ("dev", None)]


@pytest.mark.usefixtures("profiles")
def test_an_unknown_profile_is_named() -> None:
    assert_usage_error(invoke("--profile", "prod", "--profile", "nope"), "no such profile: 'nope'")
    assert_usage_error(invoke("--profile", "nope"), "'--profile'", "'nope'")


@pytest.mark.usefixtures("moto_aws")
def test_role_arns_are_exactly_the_accounts() -> None:
    args = [x for a in ACCOUNTS for x in ("--role-arn", role(a, "Inventory"))]
    found = sources(invoke(*args, "--external-id", "ext-7", "--duration-seconds", "900"))
    assert [(s["account_id"], s["role_arn"]) for s in found] == [
        (a, role(a, "Inventory")) for a in ACCOUNTS
    ]
    assert {(s["external_id"], s["duration_seconds"], s["session_name"]) for s in found} == {
        ("ext-7", 900, "smi-moto")
    }


@pytest.mark.usefixtures("moto_aws")
def test_an_accounts_file_with_ids_arns_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "accounts.txt"
    path.write_text(f"# ours\n{ACCOUNTS[0]}\n\n{role(ACCOUNTS[1], 'Custom')}  # theirs\n")
    found = sources(invoke("--accounts-file", str(path), "--role-name", "Audit"))
    assert [s["role_arn"] for s in found] == [
        role(ACCOUNTS[1], "Custom"),
        role(ACCOUNTS[0], "Audit"),
    ]


@pytest.mark.usefixtures("moto_aws")
def test_an_accounts_file_on_stdin_with_a_session_name() -> None:
    found = sources(
        invoke("--accounts-file", "-", "--role-session-name", "nightly", input=f"{ACCOUNTS[2]}\n")
    )
    assert [(s["account_id"], s["session_name"]) for s in found] == [(ACCOUNTS[2], "nightly")]


@pytest.mark.usefixtures("moto_aws")
def test_org_skips_excluded_and_suspended_accounts() -> None:
    active, suspended = create_org(members=3, suspended=1)
    found = sources(invoke("--org", "--exclude-account", active[0]))
    assert [s["account_id"] for s in found] == [CALLER, active[1], active[2]]
    assert found[0]["role_arn"] is None  # the caller's own account: its own credentials
    assert suspended[0] not in {s["account_id"] for s in found}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--role-arn", "arn:aws:iam::123:role/R"], ["'--role-arn'", "'arn:aws:iam::123:role/R'"]),
        (["--role-arn", "111111111111"], ["not an IAM role ARN", "'111111111111'"]),
        (["--org", "--exclude-account", "prod"], ["'--exclude-account'", "'prod'"]),
        (["--org", "--role-name", "bad name"], ["'--role-name'", "'bad name'"]),
        (["--org", "--role-session-name", "x"], ["'--role-session-name'", "'x'"]),
        (["--org", "--external-id", "a b"], ["'--external-id'", "'a b'"]),
        (["--org", "--duration-seconds", "60"], ["'--duration-seconds'", "60"]),
        (["--external-id", "abc"], ["--external-id applies to assumed roles"]),
        (["--exclude-account", "111111111111"], ["--exclude-account applies to assumed roles"]),
    ],
)
def test_bad_values_exit_2_naming_them(args: list[str], named: list[str]) -> None:
    assert_usage_error(invoke(*args), *named)


def test_a_bad_accounts_file_line_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "accounts.txt"
    path.write_text(f"{ACCOUNTS[0]}\n# comment\narn:aws:iam::1:role/R\n")
    assert_usage_error(
        invoke("--accounts-file", str(path)),
        "'--accounts-file'",
        f"{path}:3",
        "'arn:aws:iam::1:role/R'",
    )


def test_an_unreadable_accounts_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    assert_usage_error(invoke("--accounts-file", str(missing)), str(missing), "No such file")
    assert_usage_error(invoke("--accounts-file", str(tmp_path)), str(tmp_path))  # a directory
    assert_usage_error(invoke("--accounts-file", "-", input="nope\n"), "<stdin>:1", "'nope'")


@pytest.mark.usefixtures("profiles")
def test_roles_take_at_most_one_base_profile() -> None:
    result = invoke("--profile", "prod", "--profile", "dev", "--role-arn", role(ACCOUNTS[0]))
    assert_usage_error(result, "--profile names the base credentials")


@pytest.mark.usefixtures("moto_aws")
def test_two_roles_for_one_account_is_a_usage_error() -> None:
    result = invoke("--role-arn", role(ACCOUNTS[0], "A"), "--role-arn", role(ACCOUNTS[0], "B"))
    assert_usage_error(result, f"account {ACCOUNTS[0]} is named twice")


@pytest.mark.usefixtures("moto_aws")
def test_an_org_that_cannot_be_listed_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    def refuse(self: Any, **_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "AWSOrganizationsNotInUseException", "Message": "not in an org"}},
            "ListAccounts",
        )

    monkeypatch.setattr("botocore.paginate.PageIterator.__iter__", refuse)
    result = invoke("--org")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "cannot list the organization's accounts" in result.stderr
    assert "AWSOrganizationsNotInUseException" in result.stderr


def test_help_lists_every_account_option() -> None:
    text = CliRunner().invoke(probe, ["--help"]).stdout
    for option in (
        "--profile",
        "--role-arn",
        "--accounts-file",
        "--role-name",
        "--org",
        "--exclude-account",
        "--external-id",
        "--role-session-name",
        "--duration-seconds",
        "--shard",
    ):
        assert option in text
    assert "OrganizationAccountAccessRole" in text


# ---------------------------------------------------------------- `smi collect` end to end


def smi_collect(*args: str) -> Result:
    from sagemaker_inventory.cli import cli

    return CliRunner().invoke(cli, ["collect", *args], catch_exceptions=False)


@pytest.fixture
def denied(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Accounts whose role AssumeRole refuses (add ids to the returned set)."""
    from botocore.credentials import AssumeRoleCredentialFetcher
    from botocore.exceptions import ClientError

    refused: set[str] = set()
    original = AssumeRoleCredentialFetcher._get_credentials

    def get_credentials(self: Any) -> Any:
        arn = self._role_arn
        if arn.split(":")[4] in refused:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDenied",
                        "Message": f"not authorized to perform: sts:AssumeRole on resource: {arn}",
                    }
                },
                "AssumeRole",
            )
        return original(self)

    monkeypatch.setattr(AssumeRoleCredentialFetcher, "_get_credentials", get_credentials)
    return refused


def jsonl(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.usefixtures("moto_aws")
def test_collect_three_accounts_by_role_arn_with_a_run_summary_file(tmp_path: Path) -> None:
    seed_accounts(ACCOUNTS)
    report_path = tmp_path / "run.json"
    args = [x for a in ACCOUNTS for x in ("--role-arn", role(a))]
    result = smi_collect(*args, "-r", "us-east-1,eu-west-1", "--report", str(report_path))
    assert result.exit_code == 0, result.stderr
    records = jsonl(result)
    assert sorted({r["account_id"] for r in records}) == list(ACCOUNTS)
    assert len(records) == 12
    report = json.loads(report_path.read_text())
    assert report["exit_code"] == 0
    assert [(s["account_id"], s["region"], s["status"], s["jobs"]) for s in report["scopes"]] == [
        (a, r, "ok", 2) for a in ACCOUNTS for r in ("us-east-1", "eu-west-1")
    ]
    assert report["totals"]["jobs"] == 12 and report["totals"]["scopes_failed"] == 0
    # STS calls are counted where they belong: who the caller is (the default session name)
    # for the run, each AssumeRole for its account.
    assert report["discovery"] == {"api_calls": {"GetCallerIdentity": 1}, "retries": 0}
    assert [(a["account_id"], a["source"], a["api_calls"]) for a in report["accounts"]] == [
        (a, role(a), {"AssumeRole": 1}) for a in ACCOUNTS
    ]
    assert report["totals"]["api_calls"]["AssumeRole"] == 3


@pytest.mark.usefixtures("moto_aws")
def test_collect_an_org_minus_an_excluded_and_a_suspended_account() -> None:
    active, suspended = create_org(members=3, suspended=1)
    seed_accounts([CALLER, *active, *suspended])
    result = smi_collect("--org", "--exclude-account", active[1], "-r", "us-east-1,eu-west-1")
    assert result.exit_code == 0, result.stderr
    accounts = {r["account_id"] for r in jsonl(result)}
    assert accounts == {CALLER, active[0], active[2]}


@pytest.mark.usefixtures("moto_aws")
def test_collect_goes_on_when_one_role_cannot_be_assumed(tmp_path: Path, denied: set[str]) -> None:
    seed_accounts(ACCOUNTS)
    denied.add(ACCOUNTS[0])
    path = tmp_path / "accounts.txt"
    path.write_text("\n".join(ACCOUNTS) + "\n")
    report_path = tmp_path / "run.json"
    result = smi_collect(
        "--accounts-file", str(path), "-r", "us-east-1,eu-west-1", "--report", str(report_path)
    )
    assert result.exit_code == 3
    assert {r["account_id"] for r in jsonl(result)} == set(ACCOUNTS[1:])
    assert ACCOUNTS[0] in result.stderr and "AccessDenied" in result.stderr
    report = json.loads(report_path.read_text())
    failed = [(s["account_id"], s["error"]["code"]) for s in report["scopes"] if s["error"]]
    assert failed == [(ACCOUNTS[0], "AccessDenied"), (ACCOUNTS[0], "AccessDenied")]
    assert (report["exit_code"], report["totals"]["scopes_failed"]) == (3, 2)


@pytest.mark.usefixtures("moto_aws")
def test_collect_exits_1_when_no_role_can_be_assumed(tmp_path: Path, denied: set[str]) -> None:
    denied.update(ACCOUNTS)
    report_path = tmp_path / "run.json"
    args = [x for a in ACCOUNTS for x in ("--role-arn", role(a))]
    result = smi_collect(*args, "-r", "us-east-1", "--report", str(report_path))
    assert (result.exit_code, result.stdout) == (1, "")
    assert json.loads(report_path.read_text())["totals"]["scopes_failed"] == 3


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--role-arn", "arn:aws:iam::1:role/R"], "arn:aws:iam::1:role/R"),
        (["--accounts-file", "/nonexistent/accounts.txt"], "/nonexistent/accounts.txt"),
        (["--org", "--report", "/nonexistent-dir/run.json"], "/nonexistent-dir"),
        (["--demo", "--org"], "--demo"),
    ],
)
def test_collect_bad_account_input_is_exit_2(args: list[str], named: str) -> None:
    result = smi_collect(*args, "-r", "us-east-1")
    assert result.exit_code == 2, result.output
    assert named in result.stderr and result.stdout == ""
