"""What a new user trips on in the first hour (issue 10): regions from the environment, several
statuses, silent snapshot runs, endpoint URLs, errors that name the right thing, --list-scopes,
completion, --version, --no-color."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from jobs import ACCOUNT, create_jobs, set_job

from sagemaker_inventory.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def names(result: Result) -> list[str]:
    return [json.loads(line)["training_job_name"] for line in result.stdout.splitlines()]


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    config = tmp_path / "config"
    config.write_text(text)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))


@pytest.fixture
def three_regions(moto_aws: None) -> None:
    create_jobs("us-east-1", ["east"])
    create_jobs("eu-west-1", ["west"])
    create_jobs("ap-south-1", ["south"])


# --- AWS_REGION ------------------------------------------------------------------------------


@pytest.mark.usefixtures("three_regions")
def test_aws_region_is_honoured_and_wins_over_aws_default_region_and_the_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_REGION was ignored (boto3 reads only AWS_DEFAULT_REGION) although the README and the
    "no region" error recommend it."""
    write_config(tmp_path, monkeypatch, "[default]\nregion = ap-south-1\n")
    assert names(run("collect")) == ["south"]  # the profile's region
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert names(run("collect")) == ["east"]  # env over profile
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert names(run("collect")) == ["west"]  # AWS_REGION over AWS_DEFAULT_REGION
    assert names(run("collect", "-r", "us-east-1")) == ["east"]  # --region over everything


def test_a_bad_aws_region_is_exit_2_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-9")
    result = run("collect")
    assert result.exit_code == 2
    assert "'eu-west-9' from AWS_REGION" in result.stderr and "--region" not in result.stderr


# --- errors that name the right thing --------------------------------------------------------


def test_an_unknown_aws_profile_names_the_variable_and_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_PROFILE=nosuch said `no such profile: None` and blamed --profile."""
    write_config(tmp_path, monkeypatch, "[profile prod]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    result = run("collect", "-r", "us-east-1")
    assert result.exit_code == 2
    assert "AWS_PROFILE='nosuch'" in result.stderr and "known profiles: prod" in result.stderr
    assert "None" not in result.stderr and "Invalid value for '--profile'" not in result.stderr


def test_demo_with_all_regions_says_what_is_wrong() -> None:
    """--demo --all-regions complained about a --region nobody gave."""
    result = run("collect", "--demo", "--all-regions")
    assert result.exit_code == 2
    assert "--demo has jobs only in us-east-1 and eu-west-1" in result.stderr
    assert "--region or" not in result.stderr


@pytest.mark.parametrize("url", ["127.0.0.1:5055", "localhost:4566", "ftp://127.0.0.1:21"])
def test_an_endpoint_url_without_http_is_exit_2_naming_it(url: str) -> None:
    """--endpoint-url 127.0.0.1:5055 exited 1 with `ValueError: Invalid endpoint`."""
    result = run("collect", "-r", "us-east-1", "--endpoint-url", url)
    assert result.exit_code == 2
    assert repr(url) in result.stderr and "http://" in result.stderr
    assert "Traceback" not in result.output


def test_a_bad_aws_endpoint_url_is_exit_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "127.0.0.1:5055")
    result = run("collect", "-r", "us-east-1")
    assert result.exit_code == 2
    assert "AWS_ENDPOINT_URL: '127.0.0.1:5055'" in result.stderr


def test_a_dead_endpoint_says_what_is_retried_and_counts_the_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dead endpoint meant half a minute of silence, even with -vv, then "0 requests, 0
    retries": the identity call's attempts were neither logged nor counted."""
    import socket

    from botocore.retries.standard import ExponentialBackoff

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # No backoff: botocore's delay is waited by smi (retry_waits), and by the endpoint otherwise.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    report = tmp_path / "run.json"
    url = f"http://127.0.0.1:{port}"
    args = ["collect", "-r", "us-east-1", "--endpoint-url", url, "-v", "--report", str(report)]
    result = run(*args)
    assert result.exit_code == 1
    attempts = [line for line in result.stderr.splitlines() if " attempt " in line]
    first = re.compile(rf"smi: \w+ to 127\.0\.0\.1:{port}: attempt 1 of 10 failed \(.*{port}")
    assert first.match(attempts[0]) and attempts[0].endswith("; retrying")
    last = [line for line in attempts if "attempt 10 of 10 failed" in line]
    assert last and all(line.endswith("; giving up") for line in last)
    scope = json.loads(report.read_text())["scopes"][0]
    assert scope["api_calls"] == {"ListTrainingJobs": 10} and scope["retries"] == 9
    assert url in scope["error"]["message"]  # the failure names the endpoint
    assert "9 retries" in result.stderr


# --- several statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--status", "Failed", "--status", "Stopped"],
        ["--status", "failed,STOPPED"],
        ["--status", "Failed,Stopped", "--status", "failed"],
    ],
)
def test_several_statuses_repeated_or_comma_separated(moto_aws: None, args: list[str]) -> None:
    """`--status Failed --status Stopped` kept only the last and `Failed,Stopped` was refused."""
    statuses = ["Completed", "Failed", "Stopped", "InProgress"]
    create_jobs("us-east-1", statuses)
    for status in statuses:
        set_job("us-east-1", status, status=status)
    result = run("collect", "-r", "us-east-1", *args)
    assert result.exit_code == 0, result.stderr
    assert names(result) == ["Failed", "Stopped"]


def test_several_statuses_with_a_snapshot_are_refused(tmp_path: Path) -> None:
    snapshot = str(tmp_path / "s.jsonl")
    result = run("collect", "-r", "us-east-1", "--snapshot", snapshot, "--status", "Failed,Stopped")
    assert result.exit_code == 2 and "cannot be combined" in result.stderr


# --- --snapshot prints nothing; -o - ---------------------------------------------------------


@pytest.mark.usefixtures("three_regions")
def test_a_snapshot_run_prints_no_records_unless_asked_with_dash_o(tmp_path: Path) -> None:
    """With --snapshot every record still streamed to stdout, also with -q."""
    snapshot = tmp_path / "inventory.jsonl"
    quiet = run("collect", "-r", "us-east-1,eu-west-1", "-q", "--snapshot", str(snapshot))
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert len(snapshot.read_text().splitlines()) == 2
    both = run("collect", "-r", "us-east-1,eu-west-1", "-q", "--snapshot", str(snapshot), "-o", "-")
    assert both.exit_code == 0 and sorted(names(both)) == ["east", "west"]


def test_format_without_an_output_beside_a_snapshot_is_exit_2(tmp_path: Path) -> None:
    result = run(
        "collect", "-r", "us-east-1", "--snapshot", str(tmp_path / "s.jsonl"), "-f", "table"
    )
    assert result.exit_code == 2 and "-o -" in result.stderr


def test_the_readme_cron_line_prints_nothing(tmp_path: Path) -> None:
    """The README's nightly cron line, run (on the demo backend) as cron would: no output at all
    when nothing failed, so cron mails nothing."""
    from test_docs import README

    line = next(line for line in README.splitlines() if line.startswith("15 2 * * *"))
    command = line.split("smi ", 1)[1].split(" 2>>")[0].split()
    command = [
        "--demo" if arg == "--all-regions" else arg.replace("/var/lib/smi", str(tmp_path))
        for arg in command
    ]
    assert command[:2] == ["collect", "--demo"] and "--snapshot" in command
    result = run(*command)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert (tmp_path / "inventory.jsonl").read_text().count("\n") == 50


# --- output suffixes and -o - ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.yaml", "inventory.txt", "jobs.jsonl.gz"])
def test_an_unknown_output_suffix_is_exit_2_naming_it(tmp_path: Path, name: str) -> None:
    """`-o out.yaml` silently wrote JSON lines."""
    result = run("collect", "-r", "us-east-1", "-o", str(tmp_path / name))
    assert result.exit_code == 2
    assert repr(Path(name).suffix) in result.stderr and ".jsonl, .ndjson, .json, .csv" in (
        result.stderr
    )
    assert not (tmp_path / name).exists()


@pytest.mark.usefixtures("three_regions")
def test_an_unknown_suffix_with_format_and_no_suffix_are_fine(tmp_path: Path) -> None:
    assert (
        run("collect", "-r", "us-east-1", "-f", "csv", "-o", str(tmp_path / "x.txt")).exit_code == 0
    )
    assert (tmp_path / "x.txt").read_text().startswith("account_id,")
    assert run("collect", "-r", "us-east-1", "-o", str(tmp_path / "plain")).exit_code == 0
    assert json.loads((tmp_path / "plain").read_text())["training_job_name"] == "east"


@pytest.mark.usefixtures("three_regions")
def test_dash_o_is_stdout() -> None:
    assert names(run("collect", "-r", "eu-west-1", "-o", "-")) == ["west"]


# --- --list-scopes ---------------------------------------------------------------------------


def test_list_scopes_prints_the_scopes_without_collecting(moto_aws: None) -> None:
    create_jobs("us-east-1", ["east"])
    text = run("collect", "-r", "us-east-1,eu-west-1", "--list-scopes")
    assert text.exit_code == 0
    assert text.stdout.splitlines() == [
        f"{ACCOUNT}  us-east-1  default credentials",
        f"{ACCOUNT}  eu-west-1  default credentials",
    ]
    lines = run("collect", "-r", "us-east-1", "--list-scopes", "-f", "jsonl", "-v")
    assert [json.loads(line) for line in lines.stdout.splitlines()] == [
        {"account_id": ACCOUNT, "region": "us-east-1", "via": "default credentials"}
    ]
    assert "ListTrainingJobs" not in lines.stderr and "collecting" not in lines.stderr


def test_list_scopes_resolves_accounts_files_and_exclusions(moto_aws: None) -> None:
    accounts = "111122223333\n444455556666\narn:aws:iam::777788889999:role/Reader\n"
    result = CliRunner().invoke(
        cli,
        [
            "collect",
            "--accounts-file",
            "-",
            "--role-name",
            "Inv",
            "--exclude-account",
            "444455556666",
            "-r",
            "us-east-1",
            "--list-scopes",
            "-f",
            "jsonl",
        ],
        input=accounts,
    )
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "account_id": "777788889999",
            "region": "us-east-1",
            "via": "assume arn:aws:iam::777788889999:role/Reader",
        },
        {
            "account_id": "111122223333",
            "region": "us-east-1",
            "via": "assume arn:aws:iam::111122223333:role/Inv",
        },
    ]


def test_list_scopes_honours_shard(moto_aws: None) -> None:
    """--list-scopes shows what one --shard K/N machine would collect: the shards split the
    accounts, each account in exactly one."""
    ids = [f"{n:012d}" for n in range(111111111111, 111111111111 + 8)]
    listed = []
    for k in range(2):
        result = CliRunner().invoke(
            cli,
            ["collect", "--accounts-file", "-", "-r", "us-east-1", "--list-scopes", "-f",
             "jsonl", "--shard", f"{k}/2"],
            input="\n".join(ids) + "\n",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        listed.append([json.loads(line)["account_id"] for line in result.stdout.splitlines()])
    assert sorted(listed[0] + listed[1]) == ids and not set(listed[0]) & set(listed[1])


def test_list_scopes_with_a_file_option_is_exit_2(tmp_path: Path) -> None:
    result = run("collect", "-r", "us-east-1", "--list-scopes", "-o", str(tmp_path / "x.jsonl"))
    assert result.exit_code == 2 and "drop -o" in result.stderr


# --- completion, --version, --no-color -------------------------------------------------------


def complete(args: list[str], incomplete: str) -> list[str]:
    from click.shell_completion import ShellComplete

    return [
        c.value
        for c in ShellComplete(cli, {}, "smi", "_SMI_COMPLETE").get_completions(args, incomplete)
    ]


def test_shell_completion_of_regions_profiles_statuses_formats_and_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, monkeypatch, "[profile prod]\n[profile prod-eu]\n[profile dev]\n")
    assert "eu-west-1" in complete(["collect", "-r"], "eu-w")
    assert complete(["collect", "-r"], "us-east-1,us-east-") == ["us-east-1,us-east-2"]
    assert complete(["collect", "--profile"], "prod") == ["prod", "prod-eu"]
    assert complete(["collect", "--status"], "Failed,st") == ["Failed,Stopping", "Failed,Stopped"]
    assert complete(["collect", "-f"], "j") == ["jsonl", "json"]
    assert "training_job_name,resource_config.instance_type" in complete(
        ["collect", "--columns"], "training_job_name,resource_config.inst"
    )


def test_the_readme_documents_shell_completion() -> None:
    from test_docs import README

    for shell in ("bash_source", "zsh_source", "fish_source"):
        assert f"_SMI_COMPLETE={shell} smi" in README


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    assert run(flag).stdout.startswith("smi, version ")


# An SGR sequence that sets a foreground or background colour (bold and italic are not colours).
COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]")


@pytest.mark.usefixtures("three_regions")
def test_no_color_beside_no_color_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)  # and restored after: --no-color sets it
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich draws the stderr summary as on a terminal
    args = ["collect", "-r", "us-east-1", "-f", "jsonl"]
    assert COLOUR.search(run(*args).stderr)  # "ok" in green
    plain = run(*args, "--no-color")
    assert plain.exit_code == 0 and "ok" in plain.stderr
    assert not COLOUR.search(plain.stderr)


# --- progress --------------------------------------------------------------------------------


def test_progress_shows_its_totals_from_the_first_frame() -> None:
    from rich.console import Console
    from rich.progress import Progress

    from sagemaker_inventory.collect.outcome import ScopeResult
    from sagemaker_inventory.collect.progress import ProgressObserver, progress_columns

    console = Console(record=True, width=100)
    progress = Progress(*progress_columns(), console=console, auto_refresh=False)
    observer: Any = ProgressObserver(progress, 4)
    console.print(progress.get_renderable())
    first = console.export_text()
    assert "scopes 0/4" in first and "jobs described: 0" in first
    for _ in range(3):
        observer.job_done(None)
    observer.scope_finished(None, ScopeResult("1", "us-east-1", status="failed"))
    console.print(progress.get_renderable())
    later = console.export_text()
    assert "scopes 1/4, 1 failed" in later and "jobs described: 3" in later


# --- the README's claims ---------------------------------------------------------------------


def test_the_readme_promises_newest_first_and_the_api_is_asked_for_it() -> None:
    from test_docs import README

    from sagemaker_inventory.aws.fetch import LIST_ORDER

    assert "records come\nnewest first" in README
    assert LIST_ORDER == {"SortBy": "CreationTime", "SortOrder": "Descending"}


def test_the_readme_policies_are_valid_json_with_a_member_role_trust_policy() -> None:
    from test_docs import README

    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", README, flags=re.S)]
    policies = [b for b in blocks if isinstance(b, dict) and "Statement" in b]
    trust = [b for b in policies if b["Statement"][0].get("Action") == "sts:AssumeRole"]
    assert trust, "the README lacks the member role's trust policy"
    statement = trust[0]["Statement"][0]
    assert statement["Principal"]["AWS"].startswith("arn:aws:iam::")
    assert "sts:ExternalId" in statement["Condition"]["StringEquals"]
