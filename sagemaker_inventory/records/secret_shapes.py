"""Judges a value by its shape alone: can it be a secret at all, does it look like a credential.

`cannot_be_secret`: values no secret takes, whatever the key says: empty, a boolean or null literal,
a value with no letter (detect-secrets' `is_not_alphanumeric_string`), a placeholder or reference
(`<your token>`, `${HF_TOKEN}`, `{{secret}}`, `YourHFToken`, `changeme`: detect-secrets'
`is_templated_secret` and `is_prefixed_with_dollar_sign`, github.com/Yelp/detect-secrets,
detect_secrets/filters/heuristic.py; gitleaks' curl rule's placeholder allowlist),
an ARN or S3 URI (it names a secret in Secrets Manager or a key in KMS, it is not one), a file path.
`looks_like_credential`: one word (no space) of the character set of keys and tokens, long enough,
of high Shannon entropy and with a random-looking run (letters and digits mixed as no word, name,
version or number mixes them), neither a UUID nor, unless the key asks for it, a hex digest: the
test gitleaks' generic-api-key rule applies after its keyword (entropy 3.5, length, its allowlist
of values made only of letters, `_`, `.` and `-`; github.com/gitleaks/gitleaks,
cmd/generate/config/rules/generic.go), and detect-secrets' `is_potential_uuid` and
`is_sequential_string` filters. `strict` is for values whose key says nothing of secrets: longer,
and a hex digest (a commit, a checksum) is innocent there.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_QUOTES = "\"' \t\r\n"
_LITERALS = frozenset({"true", "false", "none", "null", "nil", "undefined", "yes", "no"})
_PLACEHOLDER = re.compile(
    r"<[^<>]*>|\{\{.*\}\}|\$\{[^}]*\}|\$\(.*\)|\$[A-Z_][A-Z0-9_]*|\{[A-Za-z_][\w.]*\}|%\([\w.]+\)s"
    r"|\*+|x{3,}|X{3,}"
    # Words that ask for a value: "YourHFToken", "your-api-key-here", "REPLACE_ME", "changeme".
    r"|(?i:your[\w -]*|(?:enter|insert|replace|put)[-_ ][\w -]*|change_?me|placeholder|redacted)"
    r"|(?:Enter|Insert|Replace|Put)[A-Z][\w -]*",
    re.DOTALL,
)
_REFERENCE = re.compile(r"arn:aws[\w-]*:\S*|s3a?://[^\s:@]*|alias/[\w/-]+", re.IGNORECASE)
_PATH = re.compile(r"(?:~|\.{1,2})?/[\w./ -]*|[\w.-]+(?:/[\w.-]+)+/?")
_FILE_NAME = re.compile(r".*\.[A-Za-z][A-Za-z0-9]{0,5}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_HEX = re.compile(r"[0-9a-f]+|[0-9A-F]+")
_TOKEN_CHARACTERS = re.compile(r"[\w.=+/~!@#$%^&*?-]+")
# A random word alone under a key that says nothing: base64, base64url, hex, Azure's "~" and ".";
# "=" only as padding (`name=value` is an assignment, whose name the value rules judge).
_RANDOM_WORD_CHARACTERS = re.compile(r"[\w+/~.-]+={0,3}")
_ONLY_WORD_CHARACTERS = re.compile(r"[A-Za-z_.-]+")  # gitleaks' generic allowlist
_LETTER = re.compile(r"[A-Za-z]")
_CHUNK_SEPARATORS = re.compile(r"[/._:-]+")
# The pieces a word is read as: an acronym, a (capitalised) word, a number.
_PIECES = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
# detect-secrets' `is_sequential_string`: "ABCDEF...", "0123456789", "abcdef..." are no secret.
_SEQUENCES = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZ+/",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "01234567890123456789",
    "0123456789ABCDEF0123456789ABCDEF",
)

WEAK_MIN_LENGTH = 10  # gitleaks' generic rule: [\w.=-]{10,150}
STRICT_MIN_LENGTH = 20
WEAK_MIN_ENTROPY = 3.0
STRICT_MIN_ENTROPY = 3.5  # gitleaks' generic rule
MAX_LENGTH = 4096


def unquoted(value: str) -> str:
    """`value` without the quotes and blanks around it (JSON-encoded hyperparameters are quoted)."""
    return value.strip(_QUOTES)


def cannot_be_secret(value: str) -> bool:
    """True for a value no secret takes (see the module's docstring)."""
    text = unquoted(value)
    if not text or text.lower() in _LITERALS or not _LETTER.search(text):
        return True
    if _PLACEHOLDER.fullmatch(text) or _REFERENCE.fullmatch(text):
        return True
    return _is_path(text)


def looks_like_credential(value: str, *, strict: bool) -> bool:
    """True when `value` is one word that looks like a key, token or password."""
    shortest = STRICT_MIN_LENGTH if strict else WEAK_MIN_LENGTH
    if len(value) < shortest:  # most values: no need to look further
        return False
    text = unquoted(value)
    if not shortest <= len(text) <= MAX_LENGTH:
        return False
    characters = _RANDOM_WORD_CHARACTERS if strict else _TOKEN_CHARACTERS
    if not characters.fullmatch(text) or _ONLY_WORD_CHARACTERS.fullmatch(text):
        return False
    if cannot_be_secret(text) or _UUID.fullmatch(text) or _is_sequential(text):
        return False
    if _HEX.fullmatch(text):
        return not strict and len(text) >= 20
    if entropy(text) < (STRICT_MIN_ENTROPY if strict else WEAK_MIN_ENTROPY):
        return False
    run = 16 if strict else 8
    return any(_is_random(chunk) for chunk in _chunks(text) if len(chunk) >= run)


def is_hex_digest(value: str) -> bool:
    """A hex string of a digest's or a key's length (32 and more), digits and letters mixed: a
    commit or checksum under a key that says so, an API key (Datadog, W&B) under another."""
    if len(value) < 32:
        return False
    text = unquoted(value)
    return (
        MAX_LENGTH >= len(text) >= 32
        and _HEX.fullmatch(text) is not None
        and not text.isdigit()
        and not text.isalpha()
        and not _is_sequential(text)
    )


def entropy(text: str) -> float:
    """Shannon entropy of `text`'s characters, in bits per character."""
    length = len(text)
    return -sum(n / length * math.log2(n / length) for n in Counter(text).values())


def _chunks(text: str) -> list[str]:
    # A name is words and numbers separated by these ("vit-base-patch16-224-in21k"); a random
    # run between them is what gives a key away.
    return _CHUNK_SEPARATORS.split(text)


def _is_random(chunk: str) -> bool:
    """Letters and digits mixed as no word, name or version mixes them: "Zf3D0LXCM3EIMbgJp"
    (pieces Zf 3 D 0 LXCM 3 ...), not "BertForSequenceClassification", "16xlarge", "gpt2"."""
    pieces = _PIECES.findall(chunk)
    if len(pieces) <= 3:
        return False
    numbers = sum(piece.isdigit() for piece in pieces)
    mean = sum(map(len, pieces)) / len(pieces)
    return numbers > 2 or mean < 3


def _is_sequential(text: str) -> bool:
    upper = text.upper()
    return any(upper in sequence for sequence in _SEQUENCES)


def _is_path(text: str) -> bool:
    """A file path or a key in a bucket: its parts are names ("data/train/part-0.csv"), not the
    random runs of a base64 secret ("wJalrXUtnFEMI/K7MDENG/bPxRfiCY...")."""
    if "/" not in text or not _PATH.fullmatch(text):
        return False
    if text[0] in "/.~" or _FILE_NAME.fullmatch(text):
        return True
    return not any(_is_random(chunk) for chunk in _chunks(text) if len(chunk) >= 8)
