"""Issue 20: the redaction policy, rule by rule: what a key's name decides, what the value's shape
decides, and the secrets found inside values and command lines."""

from __future__ import annotations

from typing import Any

import pytest

from sagemaker_inventory.records.redaction import RedactionRules
from sagemaker_inventory.records.secret_keys import IDENTIFIER, PLAIN, SECRET, WEAK, classify_key
from sagemaker_inventory.records.secret_shapes import cannot_be_secret, looks_like_credential

R = "<redacted>"
# Public fixtures of gitleaks' and trufflehog's rule tests.
AZURE_SECRET = "bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR"
WANDB_KEY = "eedf1c984f6b995ec40ecc6658356044847ffb31"
RANDOM_KEY = "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        # Each altered by the old default, as the issue lists them.
        ("token_embedding_storage_type", "dense"),
        ("enc0_token_embedding_dim", "300"),
        ("tied_token_embedding_weight", "False"),
        ("prompt_key", "prompt"),
        ("response_key", "answer"),
        ("TS_DISABLE_TOKEN_AUTHORIZATION", "true"),
        ("add_input_output_demarcation_key", "True"),
        ("token_level_loss", "false"),
        ("config", '{"key": "value"}'),
        ("resource", "arn:aws:sagemaker:us-east-1:123456789012:x/Environment{dotted.key:1}"),
        # The classes the issue names as innocent.
        ("kms_key", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("kms_key_id", "1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("max_tokens", "512"),
        ("tokenizer_name", "EleutherAI/gpt-neox-20b"),
        ("pad_token", "<|endoftext|>"),
        ("sort_key", "created_at"),
        ("label_key", "label"),
        ("use_auth_token", "True"),
        ("model_revision", "5f1d2d8c3c1b4e0aa8b7c9d0e1f2a3b4c5d6e7f8"),
        ("GIT_COMMIT_SHA", "5f1d2d8c3c1b4e0aa8b7c9d0e1f2a3b4c5d6e7f8"),
        ("MLFLOW_RUN_ID", "0f3b9c2d8e7a4b1c9d0e2f3a4b5c6d7e"),
        ("tokenizer_revision", "5f1d2d8c3c1b4e0aa8b7c9d0e1f2a3b4c5d6e7f8"),
        ("sagemaker_submit_directory", "s3://bucket/job-2024-01-01-00-00-00-000/sourcedir.tar.gz"),
        ("model_name_or_path", "google/vit-base-patch16-224-in21k"),
        ("sagemaker_job_name", '"huggingface-pytorch-training-2023-01-01-00-00-00-000"'),
        ("secret_name", "my-hf-token-secret"),
        ("HF_TOKEN", "<REPLACE WITH YOUR TOKEN>"),
        ("HF_TOKEN", "${HF_TOKEN}"),
        ("DB_PASSWORD", ""),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/opt/ml/input/config/credentials.json"),
        ("DB_SECRET", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"),
    ],
)
def test_innocent_values_are_kept(key: str, value: str) -> None:
    """Regression: the old default rewrote these values to <redacted> (15% of a real corpus)."""
    assert RedactionRules().redact_entry(key, value) == value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("password", "hunter2"),  # a secret name hides any value, however plain
        ("DB_PASSWORD", "letmein"),
        ("client_secret", "abc"),
        ("HF_TOKEN", "hf_token_123"),
        ("AZURE_CLIENT_SECRET", AZURE_SECRET),
        ("SENTRY_DSN", "https://key@o1.ingest.sentry.io/1"),
        ("WANDB_KEY", WANDB_KEY),  # a WEAK name, a value that looks like a key
        ("extra", RANDOM_KEY),  # a name that says nothing, a long random word
        ("sp", AZURE_SECRET),  # the Azure AD client secret format, whatever the key
        ("DD", "8b1118b376c313ed420e5133ba91307817ed52c2"),  # a hex key under a name saying nothing
    ],
)
def test_secrets_are_removed(key: str, value: str) -> None:
    assert RedactionRules().redact_entry(key, value) == R


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("HF_TOKEN", SECRET),
        ("HFToken", SECRET),
        ("HUGGING_FACE_HUB_TOKEN", SECRET),
        ("api_key", SECRET),
        ("AWS_ACCESS_KEY_ID", SECRET),
        ("connection_string", SECRET),
        ("token", SECRET),
        ("use_auth_token", WEAK),
        ("TS_DISABLE_TOKEN_AUTHORIZATION", WEAK),
        ("password-stdin", WEAK),
        ("secret_name", WEAK),
        ("kms_key_id", IDENTIFIER),
        ("tokenizer_revision", IDENTIFIER),
        ("hf_token_path", WEAK),
        ("max_tokens", WEAK),
        ("prompt_key", WEAK),
        ("WANDB_KEY", WEAK),
        ("learning_rate", PLAIN),
        ("bypass", PLAIN),
        ("model_revision", IDENTIFIER),
    ],
)
def test_keys_are_classed_by_their_words(key: str, expected: str) -> None:
    assert classify_key(key) == expected


@pytest.mark.parametrize(
    "value", ["", "true", "None", "123456", "<your token>", "{{secret}}", "YourHFToken", "changeme"]
)
def test_values_no_secret_takes(value: str) -> None:
    assert cannot_be_secret(value)


@pytest.mark.parametrize(
    ("value", "weak", "strict"),
    [
        (RANDOM_KEY, True, True),
        (WANDB_KEY, True, False),  # a hex digest: a key under "key", a commit under "revision"
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False, False),  # a UUID names a KMS key
        ("bert-base-uncased", False, False),
        ("ml.p4d.24xlarge", False, False),
        ("vit-base-patch16-224-in21k", False, False),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", False, False),  # detect-secrets' sequential strings
        ("Lj2^5O%xi214", True, False),
    ],
)
def test_what_looks_like_a_credential(value: str, weak: bool, strict: bool) -> None:
    assert looks_like_credential(value, strict=False) is weak
    assert looks_like_credential(value, strict=True) is strict


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["-u", "user:P@ssw0rd$1"], ["-u", f"user:{R}"]),
        (["--user", "user:pass", "--epochs", "3"], ["--user", f"user:{R}", "--epochs", "3"]),
        (["wandb", "login", WANDB_KEY], ["wandb", "login", R]),
        (["wandb", "login", "--relogin", WANDB_KEY], ["wandb", "login", "--relogin", R]),
        (["huggingface-cli", "login", "--token", "x1"], ["huggingface-cli", "login", "--token", R]),
        (["docker", "login", "-u", "AWS", "-p", "pw"], ["docker", "login", "-u", "AWS", "-p", R]),
        (["--s3_kms_key", "kms-key-arn"], None),
        (["--password-stdin", "registry.example.com"], None),
        (["docker", "login", "--username", "AWS", "--password-stdin"], None),
        (["python", "-u", "train.py", "--max-tokens", "512"], None),
        (["sh", "-c", "curl -u elastic:P@ssw0rd$1 x"], ["sh", "-c", f"curl -u elastic:{R} x"]),
    ],
)  # fmt: skip
def test_command_lines(arguments: list[str], expected: list[str] | None) -> None:
    """Regression: `curl -u user:P@ssw0rd$1`, `--user user:pass` and `wandb login KEY` in
    container arguments were written as they were."""
    assert RedactionRules().redact_command(arguments) == (expected or arguments)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("curl --cacert c -u elastic:P@ssw0rd$1 https://x", f"curl --cacert c -u elastic:{R} https://x"),
        (f"wandb login {WANDB_KEY} && python train.py", f"wandb login {R} && python train.py"),
        (f"client_secret={AZURE_SECRET}", f"client_secret={R}"),
        (f"use {AZURE_SECRET} here", f"use {R} here"),
        ("AKIALALEMEL33243OLIB wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", f"{R} {R}"),
        ('{"api_key": "k", "a": {"pwd": "p"}}', f'{{"api_key": "{R}", "a": {{"pwd": "{R}"}}}}'),
        ('{"key": "value", "max_tokens": 512}', '{"key": "value", "max_tokens": 512}'),
        (".../Environment{dotted.key:1}", ".../Environment{dotted.key:1}"),
        ("--tokenizer_name=gpt2 --max_tokens=512", "--tokenizer_name=gpt2 --max_tokens=512"),
    ],
)  # fmt: skip
def test_secrets_inside_values(value: str, expected: str) -> None:
    assert RedactionRules().redact_entry("config", value) == expected


def test_a_caller_pattern_redacts_whatever_the_value() -> None:
    rules = RedactionRules([r"^note$"])
    record: dict[str, Any] = {"note": "", "tokenizer": "gpt2"}
    assert rules.redact_map(record) == {"note": R, "tokenizer": "gpt2"}
