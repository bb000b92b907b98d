"""Issue 12.9: empty or odd inputs are usage errors (exit 2) naming the value, never a silent
default, a crash or a 10 MB echo."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sagemaker_inventory.aws.pacing import BadRateError, RateCaps
from sagemaker_inventory.cli import cli
from sagemaker_inventory.collect.accounts import AccountInputError, parse_role_arn


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n\n   # another\n"])
def test_an_accounts_file_without_accounts_is_exit_2_naming_it(
    content: str, tmp_path: Path
) -> None:
    """Regression: blank lines and comments only silently collected the caller's own account."""
    accounts = tmp_path / "accounts.txt"
    accounts.write_text(content)
    result = run("collect", "-r", "us-east-1", "--accounts-file", str(accounts))
    assert result.exit_code == 2
    assert f"accounts file {accounts} names no account" in result.stderr


def test_an_empty_accounts_file_on_stdin_is_exit_2() -> None:
    result = run("collect", "-r", "us-east-1", "--accounts-file", "-", stdin="# none\n")
    assert result.exit_code == 2 and "<stdin> names no account" in result.stderr


def test_a_role_arn_in_an_unknown_partition_is_exit_2() -> None:
    """Regression: arn:aws-us-gvo:... was accepted and failed every AssumeRole at run time."""
    result = run(
        "collect", "-r", "us-east-1", "--role-arn", "arn:aws-us-gvo:iam::111122223333:role/R"
    )
    assert result.exit_code == 2
    assert "unknown partition 'aws-us-gvo'" in result.stderr and "aws-us-gov" in result.stderr
    assert parse_role_arn("arn:aws-cn:iam::111122223333:role/R").partition == "aws-cn"


def test_a_huge_bad_accounts_line_is_cut_in_the_message(tmp_path: Path) -> None:
    """Regression: a bad 10 MB line of an accounts file was echoed whole to stderr."""
    accounts = tmp_path / "accounts.txt"
    accounts.write_text("111122223333\n" + "x" * 10_000_000 + "\n")
    result = run("collect", "-r", "us-east-1", "--accounts-file", str(accounts))
    assert result.exit_code == 2
    assert f"{accounts}:2:" in result.stderr
    assert "(10,000,000 characters)" in result.stderr
    assert len(result.stderr) < 1000


def test_a_huge_bad_role_arn_is_cut_too() -> None:
    with pytest.raises(AccountInputError) as caught:
        parse_role_arn("arn:" + "y" * 100_000)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("value", ["1e-300", "0.0001", "1e6", "inf", "0", "-1"])
def test_rates_out_of_bounds_are_refused_naming_the_bounds(value: str) -> None:
    """Regression: --rate X=1e-300 crashed a scope."""
    with pytest.raises(BadRateError, match=r"between 0.001 and 10000 requests/s"):
        RateCaps.parse([f"DescribeTrainingJob={value}"])


def test_rate_bounds_themselves_are_accepted() -> None:
    caps = RateCaps.parse(["DescribeTrainingJob=0.001", "ListTrainingJobs=10000"])
    assert caps.rates == {"DescribeTrainingJob": 0.001, "ListTrainingJobs": 10000.0}


def test_a_rate_out_of_bounds_is_exit_2() -> None:
    result = run("collect", "-r", "us-east-1", "--rate", "DescribeTrainingJob=1e-300")
    assert result.exit_code == 2 and "between 0.001 and 10000" in result.stderr
