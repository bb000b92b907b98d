"""Finds secrets inside values, whatever their key: the value rules of redaction.

`redact_value` keeps a value readable and replaces only its secret parts with "<redacted>": tokens
whose format gives them away (AWS access key ids and the secret key beside one, GitHub, GitLab,
Slack, Hugging Face, OpenAI and Anthropic, Stripe, Google API keys, npm and PyPI tokens, JWTs, PEM
private keys, Azure AD client secrets, Slack webhook paths, and a few more), the password of a URL's
user:password@ (`postgresql://admin:<redacted>@db:5432/ml`), of `-u`/`--user user:password`
(`curl -u user:<redacted>`), the key after `login` (`wandb login <redacted>`), the value of a
name in an assignment, query string or command-line flag when the name's rules say it is a secret
(`--token=<redacted>`, `--password <redacted>`, `api_key=<redacted>&page=2`; not
`--max-tokens 512`, nor `--password-stdin`, which takes no value), and the values of secret keys
in a JSON-encoded value (`{"password": "<redacted>"}`; `{"key": "value"}` stays). Which names are
secret, and whether a value under a name is one, is the caller's `Judge` (redaction's key rules).
`redact_arguments` applies them to a command line given as a list.

The token formats are adapted from gitleaks' default rules (github.com/gitleaks/gitleaks,
config/gitleaks.toml, MIT licence: aws-access-token, github-pat/-oauth/-app-token/
-refresh-token/-fine-grained-pat, gitlab-pat, slack-*-token, slack-webhook-url,
huggingface-access-token, openai-api-key, anthropic-api-key, stripe-access-token, gcp-api-key,
npm-access-token, pypi-upload-token, jwt, private-key, azure-ad-client-secret, clojars-api-token,
databricks-api-token, digitalocean-pat, sendgrid-api-token, shopify-access-token), loosened where a
fixed length would let a variant through; the URL rule follows detect-secrets' BasicAuthDetector
(github.com/Yelp/detect-secrets, detect_secrets/plugins/basic_auth.py, Apache-2.0). No code was
copied from either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sagemaker_inventory.records.secret_shapes import looks_like_credential

REDACTED = "<redacted>"

# (name, value) -> is this value, under this name, a secret? (`RedactionRules.is_secret_value`)
Judge = Callable[[str, str], bool]

# (rule id, regex): a match is replaced whole, except a named group "secret", replaced alone.
TOKEN_FORMATS: tuple[tuple[str, str], ...] = (
    ("aws-access-key-id", r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"),
    ("github-token", r"\bgh[pousr]_[0-9A-Za-z]{30,}\b"),
    ("github-fine-grained-pat", r"\bgithub_pat_\w{40,}"),
    ("gitlab-token", r"\bgl(?:pat|ptt|rt|cbt|dt|ft|imt|agent|oas)-[\w-]{20,}"),
    ("slack-token", r"\bxox[abeoprs]-[0-9A-Za-z-]{10,}|\bxapp-\d-[0-9A-Za-z-]{10,}"),
    (
        "slack-webhook",
        r"hooks\.slack\.com/(?P<secret>(?:services|workflows|triggers)/[\w+/-]{20,})",
    ),
    ("huggingface-token", r"\b(?:hf_|api_org_)[A-Za-z0-9]{30,}\b"),
    ("openai-anthropic-key", r"\bsk-(?=[\w-]*\d)[\w-]{20,}"),
    ("stripe-key", r"\b[rsp]k_(?:live|test|prod)_[0-9A-Za-z]{10,}"),
    ("google-api-key", r"\bAIza[\w-]{35}\b"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi-token", r"\bpypi-AgE[\w-]{50,}"),
    ("jwt", r"\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}"),
    ("azure-ad-client-secret", r"(?<![\w~.-])[\w~.]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])"),
    ("clojars-token", r"(?i:\bCLOJARS_[a-z0-9]{60})"),
    ("databricks-token", r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),
    ("digitalocean-token", r"\bdo[por]_v1_[a-f0-9]{64}\b"),
    ("sendgrid-token", r"\bSG\.[\w=.-]{66}"),
    ("shopify-token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    (
        "private-key",
        r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)",
    ),
)
_TOKENS = re.compile("|".join(f"(?:{regex})" for _, regex in TOKEN_FORMATS))
# An AWS secret access key: 40 base64 characters, taken as one beside an access key id only
# (gitleaks' aws rule pairs them the same way); alone, the shape matches too much.
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z2-7]{16}\b")
_AWS_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")

# scheme://user:password@host: the password (detect-secrets' BasicAuthDetector's shape).
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][\w+.-]*://[^\s:/?#@]*:)[^\s/?#@]+(?=@)")
# curl -u user:password, --user user:password, --user=user:password (a password may hold "@"
# or "$": it runs to the next blank or quote).
_USER_PASSWORD = re.compile(r"(?P<head>(?<!\S)(?:-u|--user)(?:\s+|=)[\"']?[^\s:\"']+:)[^\s\"']+")
# `wandb login KEY`, `huggingface-cli login --token KEY` (the flag rule), `docker login -p PASS`.
_LOGIN = re.compile(
    r"(?P<head>\blogin\b(?:\s+--?[\w-]+(?:=\S*)?)*?\s+(?:(?:-p|--password)\s+)?)"
    r"(?P<value>[^\s\"'-][^\s\"']*)"
)

# A name, then "=" or ":" (an assignment, a query parameter, `--token=...`), or a command-line
# flag then a space (`--password hunter2`); the value quoted or up to a separator.
_ASSIGNMENT = re.compile(
    r"(?<![\w.-])(?P<name>-{0,2}[A-Za-z_][\w.-]*)"
    r"(?P<sep>[\"']?\s*[=:](?!//)\s*[\"']?|(?<=[\w.])\s+(?=[^\s-]))"
    r"(?P<value>\"[^\"]*\"|'[^']*'|(?:(?i:bearer|basic|token|digest)\s+)?[^\s\"',;&}]+)"
)
# Values without any of these cannot hold a secret the rules find: skipped at once.
_CHEAP = re.compile(
    r"[=:@\-{\[~]|login|\b(?:A3T|AKIA|ASIA|ABIA|ACCA|gh|gl|xox|hf_|sk|AIza|npm_|pypi|eyJ)"
)
# What each rule needs to find anything: most values fail these tests, which cost far less than
# the rules' own scans (redaction runs on every value of every job).
_TOKEN_HINT_LIST = (
    "A3T", "AKIA", "ASIA", "ABIA", "ACCA", "gh", "github_pat_", "gl", "xox", "xapp-", "hooks.slack",
    "hf_", "api_org_", "sk-", "k_live_", "k_test_", "k_prod_", "AIza", "npm_", "pypi-", "eyJ",
    "Q~", "CLOJARS_", "dapi", "_v1_", "SG.", "shp", "-----BEGIN",
)  # fmt: skip
_TOKEN_HINTS = re.compile("|".join(re.escape(hint) for hint in _TOKEN_HINT_LIST))


def redact_value(value: str, judge: Judge) -> str:
    """`value` with its secret parts replaced by "<redacted>" (unchanged when it has none)."""
    if not _CHEAP.search(value):
        return value
    structured = _redact_json(value, judge)
    if structured is not None:
        return structured
    text = value
    if _TOKEN_HINTS.search(text):
        text = _TOKENS.sub(_replace_token, text)
        if REDACTED in text and _AWS_KEY_ID.search(value):
            text = _AWS_SECRET_KEY.sub(REDACTED, text)
    if "://" in text and "@" in text:
        text = _URL_PASSWORD.sub(rf"\g<head>{REDACTED}", text)
    if "-u" in text:  # -u, --user
        text = _USER_PASSWORD.sub(rf"\g<head>{REDACTED}", text)
    if "login" in text:
        text = _LOGIN.sub(_replace_login, text)
    if "=" in text or ":" in text or ("-" in text and " " in text):
        text = _ASSIGNMENT.sub(lambda match: _replace_assignment(match, judge), text)
    return text


def redact_arguments(
    arguments: list[Any], judge: Judge, redact_text: Callable[[str], str]
) -> list[Any]:
    """A command line as a list (ContainerArguments): each element's value rules, and the
    element after a flag whose name says secret (`["--password", "hunter2"]`), after `-u`/`--user`
    (`user:<redacted>`) and after `login`. `redact_text` judges one element alone (a value under a
    key that says nothing: `RedactionRules.redact_word`)."""
    out: list[Any] = []
    for index, argument in enumerate(arguments):
        if not isinstance(argument, str):
            out.append(argument)
            continue
        previous = arguments[index - 1] if index else None
        flag = _flag_name(previous) if isinstance(previous, str) else None
        if flag is not None and not argument.startswith("-"):
            if flag in ("u", "user") and ":" in argument:
                user = argument.partition(":")[0]
                out.append(f"{user}:{REDACTED}")
                continue
            if judge(flag, argument) or (flag == "p" and "login" in arguments[:index]):
                out.append(REDACTED)
                continue
        if _after_login(arguments, index) and looks_like_credential(argument, strict=False):
            out.append(REDACTED)
        else:
            out.append(redact_text(argument))
    return out


def _flag_name(argument: str) -> str | None:
    """The name of a flag that takes the next element as its value: "--token" -> "token"."""
    if argument.startswith("-") and "=" not in argument and len(argument) > 1:
        name = argument.lstrip("-")
        return name if name[:1].isalpha() else None
    return None


def _after_login(arguments: list[Any], index: int) -> bool:
    """A positional element after `login` (`["wandb", "login", "--relogin", KEY]`): the key, if it
    looks like one (`docker login --username AWS` names a user)."""
    for before in reversed(arguments[:index]):
        if before == "login":
            return not arguments[index].startswith("-")
        if not (isinstance(before, str) and before.startswith("--") and "=" not in before):
            return False
    return False


def _replace_token(match: re.Match[str]) -> str:
    if match.groupdict().get("secret") is not None:
        start, end = match.span("secret")
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + REDACTED + whole[end - offset :]
    return REDACTED


def _replace_login(match: re.Match[str]) -> str:
    if not looks_like_credential(match["value"], strict=False):
        return match.group(0)
    return match["head"] + REDACTED


def _replace_assignment(match: re.Match[str], judge: Judge) -> str:
    name, sep, value = match["name"], match["sep"], match["value"]
    flag = name.startswith("-")
    if not sep.strip() and not flag:
        return match.group(0)  # two plain words, not `--flag value`
    if REDACTED in value:
        return match.group(0)
    bare = value[1:-1] if value[:1] in "\"'" and len(value) > 1 else value
    if not judge(name.lstrip("-"), bare):
        return match.group(0)
    quote = value[0] if value[:1] in "\"'" and len(value) > 1 else ""
    return f"{name}{sep}{quote}{REDACTED}{quote}"


def _redact_json(value: str, judge: Judge) -> str | None:
    """A JSON object or array in `value`, redacted and re-encoded; None if it is not one or has
    nothing secret (the original text is kept then)."""
    stripped = value.strip()
    if stripped[:1] not in ("{", "["):
        return None
    try:
        document = json.loads(stripped)
    except ValueError:
        return None
    redacted = _redact_document(document, judge)
    return None if redacted == document else json.dumps(redacted, ensure_ascii=False)


def _redact_document(item: Any, judge: Judge) -> Any:
    if isinstance(item, dict):
        return {key: _redact_member(str(key), item[key], judge) for key in item}
    if isinstance(item, list):
        return [_redact_document(element, judge) for element in item]
    if isinstance(item, str):
        return redact_value(item, judge)
    return item


def _redact_member(key: str, value: Any, judge: Judge) -> Any:
    scalar = isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if scalar and judge(key, str(value)):
        return REDACTED
    return _redact_document(value, judge)
