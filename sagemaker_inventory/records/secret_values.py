"""Finds secrets inside values, whatever their key: the value rules of redaction.

`redact_value` keeps a value readable and replaces only its secret parts with "<redacted>":
the password of a URL's user:password@ (`postgresql://admin:<redacted>@db:5432/ml`), the value
of a secret-looking name in an assignment, query string or command-line argument
(`--token=<redacted>`, `--password <redacted>`, `api_key=<redacted>&page=2`), the values of
secret-looking keys in a JSON-encoded value (`{"password": "<redacted>"}`), and tokens whose
format gives them away (AWS access key ids, GitHub, GitLab, Slack, Hugging Face, OpenAI and
Anthropic, Stripe, Google API keys, npm and PyPI tokens, JWTs, PEM private keys, Slack webhook
paths). Which names are secret-looking is the caller's predicate (redaction's key rules), so
`--max-tokens 512` and `tokenizer_name=bert` stay as they are.

The token formats are adapted from gitleaks' default rules (github.com/gitleaks/gitleaks,
config/gitleaks.toml, MIT licence: aws-access-token, github-pat/-oauth/-app-token/
-refresh-token/-fine-grained-pat, gitlab-pat, slack-*-token, slack-webhook-url,
huggingface-access-token, openai-api-key, anthropic-api-key, stripe-access-token, gcp-api-key,
npm-access-token, pypi-upload-token, jwt, private-key), loosened where a fixed length would let a
variant through; the URL rule follows detect-secrets' BasicAuthDetector
(github.com/Yelp/detect-secrets, detect_secrets/plugins/basic_auth.py, Apache-2.0). No code was
copied from either.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

REDACTED = "<redacted>"

IsSecretName = Callable[[str], bool]

# (rule id, regex): a match is replaced whole, except a named group "secret", replaced alone.
TOKEN_FORMATS: tuple[tuple[str, str], ...] = (
    ("aws-access-key-id", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"),
    ("github-token", r"\bgh[pousr]_[0-9A-Za-z]{30,}\b"),
    ("github-fine-grained-pat", r"\bgithub_pat_\w{40,}"),
    ("gitlab-token", r"\bgl(?:pat|ptt|rt|cbt|dt|ft|imt|agent|oas)-[\w-]{20,}"),
    ("slack-token", r"\bxox[abeoprs]-[0-9A-Za-z-]{10,}"),
    (
        "slack-webhook",
        r"hooks\.slack\.com/(?P<secret>(?:services|workflows|triggers)/[\w+/-]{20,})",
    ),
    ("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("openai-anthropic-key", r"\bsk-(?=[\w-]*\d)[\w-]{20,}"),
    ("stripe-key", r"\b[rs]k_(?:live|test|prod)_[0-9A-Za-z]{10,}"),
    ("google-api-key", r"\bAIza[\w-]{35}\b"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi-token", r"\bpypi-AgEIcHlwaS5vcmc[\w-]{50,}"),
    ("jwt", r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
    (
        "private-key",
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)",
    ),
)
_TOKENS = re.compile("|".join(f"(?:{regex})" for _, regex in TOKEN_FORMATS))

# scheme://user:password@host: the password (detect-secrets' BasicAuthDetector's shape).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]*://[^\s:/?#@]*:)[^\s/?#@]+(?=@)")

# A name, then "=" or ":" (an assignment, a query parameter, `--token=...`), or a command-line
# flag then a space (`--password hunter2`); the value quoted or up to a separator.
_ASSIGNMENT = re.compile(
    r"(?<![\w.-])(?P<name>-{0,2}[A-Za-z_][\w.-]*)"
    r"(?P<sep>[\"']?\s*[=:](?!//)\s*[\"']?|(?<=[\w.])\s+(?=[^\s-]))"
    r"(?P<value>\"[^\"]*\"|'[^']*'|(?:(?i:bearer|basic|token|digest)\s+)?[^\s\"',;&]+)"
)
_CHEAP = re.compile(r"[=:@\-{\[]|\b(?:A3T|AKIA|ASIA|ABIA|ACCA|gh|gl|xox|hf_|sk|AIza|npm_|pypi|eyJ)")


def redact_value(value: str, is_secret_name: IsSecretName) -> str:
    """`value` with its secret parts replaced by "<redacted>" (unchanged when it has none)."""
    if not _CHEAP.search(value):
        return value
    structured = _redact_json(value, is_secret_name)
    if structured is not None:
        return structured
    text = _TOKENS.sub(_replace_token, value)
    text = _URL_PASSWORD.sub(rf"\g<head>{REDACTED}", text)
    return _ASSIGNMENT.sub(lambda match: _replace_assignment(match, is_secret_name), text)


def redact_arguments(
    arguments: list[Any],
    is_secret_name: IsSecretName,
    redact_text: Callable[[str], str] | None = None,
) -> list[Any]:
    """A command line as a list (ContainerArguments): each element's value rules, and the
    element after a secret-looking flag (`["--password", "hunter2"]`). `redact_text` is
    `redact_value` with `is_secret_name` (a memo of it, e.g. `RedactionRules.redact_value`)."""
    if redact_text is None:
        redact_text = functools.partial(redact_value, is_secret_name=is_secret_name)
    out: list[Any] = []
    for index, argument in enumerate(arguments):
        previous = arguments[index - 1] if index else None
        if (
            isinstance(argument, str)
            and isinstance(previous, str)
            and previous.startswith("-")
            and "=" not in previous
            and not argument.startswith("-")
            and is_secret_name(previous.lstrip("-"))
        ):
            out.append(REDACTED)
        elif isinstance(argument, str):
            out.append(redact_text(argument))
        else:
            out.append(argument)
    return out


def _replace_token(match: re.Match[str]) -> str:
    if match.lastgroup == "secret" or (match.groupdict().get("secret") is not None):
        start, end = match.span("secret")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + REDACTED + whole[end - offset :]
    return REDACTED


def _replace_assignment(match: re.Match[str], is_secret_name: IsSecretName) -> str:
    name, sep, value = match["name"], match["sep"], match["value"]
    flag = name.startswith("-")
    if not sep.strip() and not flag:
        return match.group(0)  # two plain words, not `--flag value`
    if REDACTED in value or not is_secret_name(name.lstrip("-")):
        return match.group(0)
    quote = value[0] if value[:1] in "\"'" and len(value) > 1 else ""
    return f"{name}{sep}{quote}{REDACTED}{quote}"


def _redact_json(value: str, is_secret_name: IsSecretName) -> str | None:
    """A JSON object or array in `value`, redacted and re-encoded; None if it is not one or has
    nothing secret (the original text is kept then)."""
    stripped = value.strip()
    if stripped[:1] not in ("{", "["):
        return None
    try:
        document = json.loads(stripped)
    except ValueError:
        return None
    redacted = _redact_document(document, is_secret_name)
    return None if redacted == document else json.dumps(redacted, ensure_ascii=False)


def _redact_document(item: Any, is_secret_name: IsSecretName) -> Any:
    if isinstance(item, dict):
        return {
            key: REDACTED
            if is_secret_name(str(key))
            and item[key] not in (None, "")
            and not isinstance(item[key], (dict, list))
            else _redact_document(item[key], is_secret_name)
            for key in item
        }
    if isinstance(item, list):
        return [_redact_document(element, is_secret_name) for element in item]
    if isinstance(item, str):
        return redact_value(item, is_secret_name)
    return item
