"""Keeps secrets out of inventories: user-data map values whose key looks secret are redacted.

Which values: every map of user keys to strings in the record (MAP_STRING_STRING fields), found by
walking the record's field tree, not by a blind recursive search: `environment` and
`hyper_parameters` (the spec page warns they may carry secrets), and also the debugger and profiler
maps (`debug_hook_config.hook_parameters`, `...collection_configurations[].collection_parameters`,
`debug_rule_configurations[].rule_parameters`, `profiler_config.profiling_parameters`,
`profiler_rule_configurations[].rule_parameters`), since a user can put a key there just as well.
`tags` are not touched: they are a list of "key:value" strings any ListTags caller can read anyway.
The key stays (downstream systems may check that a variable is set); only the value is replaced.
Which keys: `is_secret_key` (`DEFAULT_SECRET_KEY_PATTERNS`, searched in the key split into
lower-case words), plus the caller's own patterns searched case-insensitively in the key as written.
The other values of those maps, and the container's command line (`container_arguments`,
`container_entrypoint`), keep their text but lose the secrets found inside them
(`records.secret_values`: URL passwords, `--token=...`, JSON, known token formats).
Pure: no I/O, no mutation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

from sagemaker_inventory.records.conversion import bind_name, define_function
from sagemaker_inventory.records.record import MutableRecord, Record
from sagemaker_inventory.records.secret_values import REDACTED, redact_arguments, redact_value
from sagemaker_inventory.records.shape import Field, record_fields

if TYPE_CHECKING:
    from botocore.model import StructureShape

NO_REDACT_WARNING = (
    "--no-redact: environment and hyper_parameters values are written as they are; "
    "they may contain passwords, tokens or keys"
)

# Searched in the key normalised to "_word_word_" (camelCase, kebab-case, dots and spaces become
# "_", lower case), so "HFToken", "HF_TOKEN" and "hf-token" all read "_hf_token_". Broad on purpose:
# a harmless value hidden costs little, a leaked secret a lot.
DEFAULT_SECRET_KEY_PATTERNS: tuple[str, ...] = (
    r"passw(or)?d",  # password, PASSWD, db_password
    r"passphrase",
    r"_(pass|pwd|pw)_",  # DB_PASS, MYSQL_PWD
    r"secret",  # client_secret, SECRET_KEY, aws_secret_access_key
    r"token_",  # HF_TOKEN, access_token, authToken, SESSIONTOKEN; not max_tokens, tokenizer
    r"api_?key",  # api_key, ApiKey, APIKEY, x-api-key
    r"(access|private|signing|encryption|master|license|session|client|ssh|gpg|pgp)_?key",
    r"credential",
    r"_creds?_",
    r"auth(?!or_|ors_|ority)",  # auth, oauth, authorization, basic_auth; not author
    r"connection_?string",
    r"conn_?str",
    r"_dsn_",  # SENTRY_DSN carries a key
    r"(database|db|mongo(db)?|redis|postgres(ql)?|mysql|amqp)_?ur[il]_",  # user:password@host
    r"webhook",  # SLACK_WEBHOOK_URL is itself the secret
    r"cookie",
    r"bearer",
    r"jwt",
    r"_pat_",  # GITHUB_PAT (personal access token)
    # KAGGLE_KEY, OPENAI_KEY, STRIPE_KEY: a name ending in "key" is a key, unless the word before
    # says which kind of non-secret key it is.
    r"(?<!_sort)(?<!_hash)(?<!_partition)(?<!_primary)(?<!_foreign)(?<!_range)(?<!_label)"
    r"(?<!_target)(?<!_feature)(?<!_metric)(?<!_s3)(?<!_object)(?<!_cache)(?<!_column)"
    r"(?<!_group)(?<!_join)(?<!_lookup)(?<!_dict)(?<!_index)(?<!_input)(?<!_output)"
    r"(?<!_idempotency)(?<!_public)_key_$",
    r"(service|account|db|database|priv)_?key",  # detect-secrets' keyword list
    r"(slack|discord|teams|chat|hook)_?ur[il]_",  # SLACK_URL: the URL is the secret
)

_DEFAULTS = tuple(re.compile(p) for p in DEFAULT_SECRET_KEY_PATTERNS)
MAX_REMEMBERED_KEYS = 10_000
MAX_REMEMBERED_VALUE = 256


class RedactionRules:
    """The compiled key patterns of one run: the defaults plus the caller's extra regexes."""

    __slots__ = ("_extra", "_values", "_verdicts", "extra")

    def __init__(self, extra: Iterable[str] = ()) -> None:
        """Raise ValueError naming the regex when one of `extra` does not compile."""
        self.extra = tuple(extra)
        self._extra = tuple(_compile(p) for p in self.extra)
        self._verdicts: dict[str, bool] = {}
        self._values: dict[str, str] = {}

    @property
    def patterns(self) -> tuple[str, ...]:
        """Every pattern in force (a snapshot records them to notice a change of rules)."""
        return DEFAULT_SECRET_KEY_PATTERNS + self.extra

    def is_secret(self, key: str) -> bool:
        """`is_secret_key`, or one of the caller's patterns found in the key as written."""
        # The same keys come back job after job (hyperparameters, variables): judge each once;
        # running the regexes on every key is a visible share of a run's CPU otherwise. Bounded,
        # since keys are user data.
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = _matches_default_patterns(key) or any(p.search(key) for p in self._extra)
            if len(self._verdicts) < MAX_REMEMBERED_KEYS:
                self._verdicts[key] = verdict
        return verdict

    def redact_value(self, value: str) -> str:
        """`value` with the secrets found in it redacted (see `secret_values.redact_value`)."""
        # Values repeat too ("0.001", "true", an image URI): remembered like the keys.
        redacted = self._values.get(value)
        if redacted is None:
            redacted = redact_value(value, self.is_secret)
            if len(self._values) < MAX_REMEMBERED_KEYS and len(value) <= MAX_REMEMBERED_VALUE:
                self._values[value] = redacted
        return redacted

    def redact_map(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a user-data map: the values of secret-looking keys replaced whole, the
        secrets found in the other (string) values redacted."""
        # The memos answer almost every key and value of a run: read them here, and leave the
        # methods (which fill them) to the first sight of each.
        verdicts, texts = self._verdicts, self._values
        out: dict[str, Any] = {}
        for key, value in values.items():
            secret = verdicts.get(key)
            if secret is None:
                secret = self.is_secret(key)
            if secret:
                out[key] = REDACTED
            elif isinstance(value, str):
                out[key] = texts.get(value) or self.redact_value(value)
            else:
                out[key] = value
        return out


def _matches_default_patterns(key: str) -> bool:
    words = normalize_key(key)
    return any(p.search(words) for p in _DEFAULTS)


def is_secret_key(key: str, extra_patterns: Iterable[str] = ()) -> bool:
    """True when a map key looks like it names a secret: the one key rule redaction applies (the
    default patterns on the key's words, plus `extra_patterns` searched case-insensitively in the
    key), also for checks that report secrets in an inventory. "HF_TOKEN", "db-Password",
    "KAGGLE_KEY" are secret; "tokenizer_name", "max_tokens", "sort_key" are not."""
    return _rules_for(tuple(extra_patterns)).is_secret(key)


@functools.lru_cache(maxsize=8)
def _rules_for(extra: tuple[str, ...]) -> RedactionRules:
    # One set of rules (and its memo of verdicts) per pattern list, shared by every caller.
    return RedactionRules(extra)


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"--redact-pattern {pattern!r} is not a valid regex: {exc}") from None


def normalize_key(key: str) -> str:
    """ "HFToken" -> "_hf_token_", "db-Password" -> "_db_password_": words split, lower case."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", spaced)
    words = re.sub(r"[^0-9A-Za-z]+", "_", spaced).strip("_").lower()
    return f"_{words}_"


# The record paths that lead to maps: a name maps to None (a map: redact its values) or to the
# subtree below a structure (or each element of a list of structures).
_Tree = dict[str, Union["_Tree", str, None]]
_ARGUMENTS = "arguments"  # a command line as a list of strings
ARGUMENT_LISTS = frozenset({"container_arguments", "container_entrypoint"})

# A structure's redaction: (value, rules) -> a copy with the secrets of its maps redacted.
_Redactor = Callable[[Any, RedactionRules], Any]


def redact(
    record: Record, rules: RedactionRules, shape: StructureShape | None = None
) -> MutableRecord:
    """A copy of `record` with the secret-looking values of its user-data maps redacted. `shape`
    is the DescribeTrainingJob output shape the record was made with (which members are maps);
    by default botocore's bundled model's, which costs loading that model."""
    redact_record: Callable[[Record, RedactionRules], MutableRecord] = _compiled_tree(shape)
    return redact_record(record, rules)


@functools.cache
def _compiled_tree(shape: StructureShape | None) -> _Redactor:
    # Compiled once per shape: a record then visits only the paths that lead to maps or command
    # lines, with no tree to interpret on the way.
    return _compile_tree("record", _map_tree(shape))


def _map_tree(shape: StructureShape | None) -> _Tree:
    # all_fields: undocumented members (kept by --all-fields) may hold maps too.
    return _tree_of(record_fields(all_fields=True, shape=shape))


def _tree_of(fields: Iterable[Field]) -> _Tree:
    tree: _Tree = {}
    for f in fields:
        if f.type.startswith("MAP_"):
            tree[f.name] = None
        elif f.name in ARGUMENT_LISTS:
            tree[f.name] = _ARGUMENTS
        elif f.fields:
            below = _tree_of(f.fields)
            if below:
                tree[f.name] = below
    return tree


def _compile_tree(name: str, tree: _Tree) -> _Redactor:
    """A structure's redaction as one generated function (see `records.conversion`), e.g.

        def _redact_debug_hook_config(value, rules):
            if not isinstance(value, (dict, Mapping)):
                return value
            out = dict(value)
            item = out.get('hook_parameters')
            if item is not None:
                out['hook_parameters'] = rules.redact_map(item) if isinstance(...) else item
            ...
            return out

    Values of another type than the tree expects are kept as they are."""
    namespace: dict[str, Any] = {"Mapping": Mapping, "redact_arguments": redact_arguments}
    function = bind_name(namespace, f"redact_{name}", None)
    lines = [f"def {function}(value, rules):", "    if not isinstance(value, (dict, Mapping)):"]
    lines += ["        return value", "    out = dict(value)"]
    for member, below in tree.items():
        lines += [f"    item = out.get({member!r})", "    if item is not None:"]
        lines.append(f"        out[{member!r}] = {_redacted(member, below, namespace)}")
    lines.append("    return out")
    redactor: _Redactor = define_function(function, lines, namespace)
    return redactor


def _redacted(member: str, below: _Tree | str | None, namespace: dict[str, Any]) -> str:
    """Python source of the redacted `item` under `member`."""
    if below is None:  # a map (dicts first: the ABC's isinstance is much slower)
        return "rules.redact_map(item) if isinstance(item, (dict, Mapping)) else item"
    if isinstance(below, str):  # _ARGUMENTS
        arguments = "redact_arguments(item, rules.is_secret, rules.redact_value)"
        return f"{arguments} if isinstance(item, list) else item"
    # One structure, or a list of them (lists of structures).
    structure = bind_name(namespace, f"redact_{member}", _compile_tree(member, below))
    each = f"[{structure}(e, rules) for e in item]"
    return f"{each} if isinstance(item, list) else {structure}(item, rules)"
