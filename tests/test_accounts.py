"""Accounts input: parsing role ARNs, account ids, role and session names and external ids, and
reading accounts files (or stdin). No AWS. The accounts seeded in moto are in accounts_helpers.py;
resolving sources is tested in test_accounts_sources.py, whole runs in test_accounts_runs.py."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from accounts_helpers import CALLER, role

from sagemaker_inventory.collect.accounts import (
    AccountInputError,
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
    sanitize_session_name,
)

# test_cli_accounts.py imports these from here, as it did before they moved to accounts_helpers.py.

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
