"""Issue 12.10: redaction finds secrets in values, under keys outside the list too, and keeps the
rest of the value readable; `is_secret_key` is the one public key rule."""

from __future__ import annotations

from typing import Any

import pytest

from sagemaker_inventory.records.redaction import RedactionRules, is_secret_key, redact

R = "<redacted>"
GITHUB = "ghp_" + "A1b2C3d4E5" * 3 + "F6g7h8"
HUGGING_FACE = "hf_" + "AbCdEfGhIj" * 3 + "KlMn"
OPENAI = "sk-proj-" + "Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8"
SLACK_BOT = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.mark.parametrize("key", ["SLACK_URL", "HF_TOKEN", "client_secret", "DATABASE_URL"])
def test_keys_outside_the_old_list_are_secret(key: str) -> None:
    """Regression: SLACK_URL leaked its value."""
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["KAGGLE_KEY", "OPENAI_KEY", "stripeKey", "WANDB_KEY"])
def test_keys_named_after_a_service_lose_a_value_that_looks_like_a_key(key: str) -> None:
    """Regression: KAGGLE_KEY and OPENAI_KEY leaked their values. "key" alone is also an ML word
    (prompt_key, sort_key), so the value decides: a 32-hex Kaggle key goes, "label" stays."""
    rules = RedactionRules()
    assert rules.redact_entry(key, "0afae57f3ccfd9d7f5767067bc48b30f") == R
    assert rules.redact_entry(key, "label") == "label"


@pytest.mark.parametrize(
    "key", ["tokenizer_name", "max_tokens", "sort_key", "partition_key", "s3_key", "author"]
)
def test_innocent_keys_are_not_secret(key: str) -> None:
    assert not is_secret_key(key)


@pytest.mark.parametrize(
    ("value", "redacted"),
    [
        ("postgresql://admin:s3cr3t@db:5432/ml", f"postgresql://admin:{R}@db:5432/ml"),
        ("redis://:pw@cache:6379/0", f"redis://:{R}@cache:6379/0"),
        ("--token=abc123 --epochs 3", f"--token={R} --epochs 3"),
        ("--password hunter2 --max-tokens 512", f"--password {R} --max-tokens 512"),
        ('{"password": "pw", "lr": 0.1}', f'{{"password": "{R}", "lr": 0.1}}'),
        ("https://x.test/a?api_key=zzz&page=2", f"https://x.test/a?api_key={R}&page=2"),
        ("Server=db;User Id=sa;Password=xyz;", f"Server=db;User Id=sa;Password={R};"),
        ("key AKIAIOSFODNN7EXAMPLE here", f"key {R} here"),
        (f"use {GITHUB} now", f"use {R} now"),
        (HUGGING_FACE, R),
        (OPENAI, R),
        (SLACK_BOT, R),
        (
            "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
            f"https://hooks.slack.com/{R}",
        ),
        ("Authorization: Bearer abc.def", f"Authorization: {R}"),
        # Kept: no secret in them.
        ("tokenizer_name=bert-base-uncased", "tokenizer_name=bert-base-uncased"),
        ("max_tokens=512", "max_tokens=512"),
        ("s3://bucket/prefix/train.csv", "s3://bucket/prefix/train.csv"),
        ("https://example.com/data", "https://example.com/data"),
        ("0.001", "0.001"),
        ("--epochs 10 --lr 0.1", "--epochs 10 --lr 0.1"),
    ],
)
def test_secrets_inside_values_under_innocent_keys(value: str, redacted: str) -> None:
    """Regression: secrets inside values under innocent keys were written as they were."""
    record: dict[str, Any] = {"hyper_parameters": {"config": value}}
    assert redact(record, RedactionRules())["hyper_parameters"]["config"] == redacted


def test_container_arguments_lose_the_value_after_a_secret_flag() -> None:
    record = {
        "algorithm_specification": {
            "container_arguments": ["--password", "hunter2", "--epochs", "3", "--api-key=k"],
            "container_entrypoint": ["python", "train.py", "--token", "t0k"],
        }
    }
    spec = redact(record, RedactionRules())["algorithm_specification"]
    assert spec["container_arguments"] == ["--password", R, "--epochs", "3", f"--api-key={R}"]
    assert spec["container_entrypoint"] == ["python", "train.py", "--token", R]


def test_environment_values_and_secret_keys_together() -> None:
    record = {
        "environment": {
            "KAGGLE_KEY": "eedf1c984f6b995ec40ecc6658356044847ffb31",
            "DATABASE": "mysql://u:p4ss@h/db",
            "MODEL": "bert",
        }
    }
    assert redact(record, RedactionRules())["environment"] == {
        "KAGGLE_KEY": R,
        "DATABASE": f"mysql://u:{R}@h/db",
        "MODEL": "bert",
    }
