"""Keeps secrets out of inventories, and nothing else: the values of user-data maps and command
lines lose their secrets, innocent values stay exactly as they were.

Which values: every map of user keys to strings in the record (MAP_STRING_STRING fields), found by
walking the record's field tree, not by a blind recursive search: `environment` and
`hyper_parameters` (the spec page warns they may carry secrets), and also the debugger and profiler
maps (`debug_hook_config.hook_parameters`, `...collection_configurations[].collection_parameters`,
`debug_rule_configurations[].rule_parameters`, `profiler_config.profiling_parameters`,
`profiler_rule_configurations[].rule_parameters`), since a user can put a key there just as well;
and the container's command line (`container_arguments`, `container_entrypoint`).
`tags` are not touched: they are a list of "key:value" strings any ListTags caller can read anyway.
The key stays (downstream systems may check that a variable is set); only the value is replaced.
The policy, per entry: the key's class (`records.secret_keys`: SECRET, WEAK or PLAIN, or one of
the caller's --redact-pattern regexes, searched case-insensitively in the key as written), then the
value's shape (`records.secret_shapes`): a SECRET key's value is replaced unless no secret can take
that shape (empty, a boolean, a placeholder, an ARN, a path); a WEAK key's only when it looks like a
credential; a PLAIN key's only when it is a long random word. Whatever stays keeps its text but
loses the secrets found inside it (`records.secret_values`). Pure: no I/O, no mutation of the
record; `counts`, when given, receives how many values each field path lost to redaction.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Union

from sagemaker_inventory.records.conversion import bind_name, define_function
from sagemaker_inventory.records.record import MutableRecord, Record
from sagemaker_inventory.records.secret_keys import (
    IDENTIFIER,
    PLAIN,
    SECRET,
    SECRET_NAME_PATTERNS,
    WEAK,
    classify_key,
    normalize_key,
)
from sagemaker_inventory.records.secret_shapes import (
    cannot_be_secret,
    is_hex_digest,
    looks_like_credential,
)
from sagemaker_inventory.records.secret_values import REDACTED, redact_arguments, redact_value
from sagemaker_inventory.records.shape import Field, record_fields

if TYPE_CHECKING:
    from botocore.model import StructureShape

__all__ = [
    "DEFAULT_SECRET_KEY_PATTERNS",
    "NO_REDACT_WARNING",
    "REDACTED",
    "RedactionRules",
    "is_secret_key",
    "normalize_key",
    "redact",
]

NO_REDACT_WARNING = (
    "--no-redact: environment and hyper_parameters values are written as they are; "
    "they may contain passwords, tokens or keys"
)

# The key patterns in force by default (a snapshot records them, with the caller's, to notice a
# change of rules): the names whose value is a secret whatever it looks like.
DEFAULT_SECRET_KEY_PATTERNS: tuple[str, ...] = SECRET_NAME_PATTERNS
EXTRA = "extra"  # the class of a key one of the caller's patterns matches: always redacted
MAX_REMEMBERED_KEYS = 10_000
MAX_REMEMBERED_VALUE = 256

Counts = Counter[str]


class RedactionRules:
    """The redaction policy of one run: the default key classes plus the caller's extra regexes,
    with memos of the verdicts (the same keys and values come back job after job)."""

    __slots__ = ("_classes", "_extra", "_plain", "_secret", "_weak", "_words", "extra")

    def __init__(self, extra: Iterable[str] = ()) -> None:
        """Raise ValueError naming the regex when one of `extra` does not compile."""
        self.extra = tuple(extra)
        self._extra = tuple(_compile(p) for p in self.extra)
        self._classes: dict[str, str] = {}
        self._plain: dict[str, str] = {}
        self._words: dict[str, str] = {}
        self._weak: dict[str, str] = {}
        self._secret: dict[str, str] = {}

    @property
    def patterns(self) -> tuple[str, ...]:
        """Every pattern in force (a snapshot records them to notice a change of rules)."""
        return DEFAULT_SECRET_KEY_PATTERNS + self.extra

    def key_class(self, key: str) -> str:
        """EXTRA, SECRET, WEAK or PLAIN (see `records.secret_keys`), judged once per key."""
        found = self._classes.get(key)
        if found is None:
            found = EXTRA if any(p.search(key) for p in self._extra) else classify_key(key)
            if len(self._classes) < MAX_REMEMBERED_KEYS:  # bounded: keys are user data
                self._classes[key] = found
        return found

    def is_secret(self, key: str) -> bool:
        """True when the key's name alone says its value is a secret (SECRET or EXTRA)."""
        return self.key_class(key) in (SECRET, EXTRA)

    def is_secret_value(self, name: str, value: str) -> bool:
        """True when `value`, found under `name` (a key, a flag, an assignment's name), is a
        secret: the key's class, then the value's shape."""
        found = self.key_class(name)
        if found == SECRET:
            return not cannot_be_secret(value)
        if found == WEAK:
            return looks_like_credential(value, strict=False)
        if found == EXTRA:
            return True
        # A name that says nothing (or names an identifier): a long random word is still a key.
        return looks_like_credential(value, strict=True) or (
            found == PLAIN and is_hex_digest(value)
        )

    def redact_entry(self, key: str, value: Any) -> Any:
        """The value of one map entry as redaction writes it."""
        found = self.key_class(key)
        if found == EXTRA:
            return REDACTED
        if not isinstance(value, str):
            return value
        if found == PLAIN:
            return self.redact_plain(value)
        if found == IDENTIFIER:
            return self.redact_word(value)
        memo = self._secret if found == SECRET else self._weak
        redacted = memo.get(value)
        if redacted is None:
            secret = self.is_secret_value(key, value)
            redacted = REDACTED if secret else self.redact_word(value)
            _remember(memo, value, redacted)
        return redacted

    def redact_plain(self, value: str) -> str:
        """A value whose key says nothing of secrets: replaced when it is a long random word or a
        hex digest, else `redact_word`'s."""
        redacted = self._plain.get(value)
        if redacted is None:
            redacted = REDACTED if is_hex_digest(value) else self._judge_word(value)
            _remember(self._plain, value, redacted)
        return redacted

    def redact_word(self, value: str) -> str:
        """A value with no name to judge it by (an argument) or whose name makes a hex digest
        innocent: replaced when it is a long random word, else with the secrets found inside it
        redacted (`secret_values.redact_value`)."""
        redacted = self._words.get(value)
        if redacted is None:
            redacted = self._judge_word(value)
            _remember(self._words, value, redacted)
        return redacted

    def _judge_word(self, value: str) -> str:
        if looks_like_credential(value, strict=True):
            return REDACTED
        return redact_value(value, self.is_secret_value)

    def redact_map(
        self, values: Mapping[str, Any], counts: Counts | None = None, path: str = ""
    ) -> dict[str, Any]:
        """A copy of a user-data map with its secrets redacted; `counts[path]` grows by the
        number of values that changed."""
        classes, plain = self._classes, self._plain
        out: dict[str, Any] = {}
        changed = 0
        for key, value in values.items():
            # The memos answer almost every key and value of a run: read them here first.
            if classes.get(key) == PLAIN and isinstance(value, str):
                redacted = plain.get(value) or self.redact_plain(value)
            else:
                redacted = self.redact_entry(key, value)
            if redacted is not value and redacted != value:
                changed += 1
            out[key] = redacted
        if changed and counts is not None:
            counts[path] += changed
        return out

    def redact_command(
        self, arguments: list[Any], counts: Counts | None = None, path: str = ""
    ) -> list[Any]:
        """A copy of a command line (a list of strings) with its secrets redacted."""
        out = redact_arguments(arguments, self.is_secret_value, self.redact_word)
        if counts is not None:
            changed = sum(
                1 for before, after in zip(arguments, out, strict=True) if before != after
            )
            if changed:
                counts[path] += changed
        return out


def _remember(memo: dict[str, str], value: str, redacted: str) -> None:
    if len(memo) < MAX_REMEMBERED_KEYS and len(value) <= MAX_REMEMBERED_VALUE:
        memo[value] = redacted


def is_secret_key(key: str, extra_patterns: Iterable[str] = ()) -> bool:
    """True when a map key's name alone says its value is a secret (the key rule redaction
    applies, plus `extra_patterns` searched case-insensitively in the key), also for checks that
    report secrets in an inventory. "HF_TOKEN", "db-Password", "api_key" are secret;
    "tokenizer_name", "max_tokens", "sort_key" are not."""
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


# The record paths that lead to maps: a name maps to None (a map: redact its values) or to the
# subtree below a structure (or each element of a list of structures).
_Tree = dict[str, Union["_Tree", str, None]]
_ARGUMENTS = "arguments"  # a command line as a list of strings
ARGUMENT_LISTS = frozenset({"container_arguments", "container_entrypoint"})

# A structure's redaction: (value, rules, counts) -> a copy with the secrets of its maps redacted.
_Redactor = Callable[[Any, RedactionRules, Counts | None], Any]


def redact(
    record: Record,
    rules: RedactionRules,
    shape: StructureShape | None = None,
    counts: Counts | None = None,
) -> MutableRecord:
    """A copy of `record` with the secrets of its user-data maps and command lines redacted.
    `shape` is the DescribeTrainingJob output shape the record was made with (which members are
    maps); by default botocore's bundled model's, which costs loading that model. `counts`, when
    given, grows by the number of values redacted per field path ("environment",
    "algorithm_specification.container_arguments", "debug_rule_configurations.rule_parameters")."""
    redact_record: _Redactor = _compiled_tree(shape)
    redacted: MutableRecord = redact_record(record, rules, counts)
    return redacted


@functools.cache
def _compiled_tree(shape: StructureShape | None) -> _Redactor:
    # Compiled once per shape: a record then visits only the paths that lead to maps or command
    # lines, with no tree to interpret on the way.
    return _compile_tree("record", "", _map_tree(shape))


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


def _compile_tree(name: str, prefix: str, tree: _Tree) -> _Redactor:
    """A structure's redaction as one generated function (see `records.conversion`), e.g.

        def _redact_debug_hook_config(value, rules, counts):
            if not isinstance(value, (dict, Mapping)):
                return value
            out = dict(value)
            item = out.get('hook_parameters')
            if item is not None:
                out['hook_parameters'] = rules.redact_map(
                    item, counts, 'debug_hook_config.hook_parameters') if isinstance(...) else item
            ...
            return out

    Values of another type than the tree expects are kept as they are."""
    namespace: dict[str, Any] = {"Mapping": Mapping}
    function = bind_name(namespace, f"redact_{name}", None)
    lines = [f"def {function}(value, rules, counts):"]
    lines += ["    if not isinstance(value, (dict, Mapping)):", "        return value"]
    lines.append("    out = dict(value)")
    for member, below in tree.items():
        lines += [f"    item = out.get({member!r})", "    if item is not None:"]
        path = f"{prefix}{member}"
        lines.append(f"        out[{member!r}] = {_redacted(member, path, below, namespace)}")
    lines.append("    return out")
    redactor: _Redactor = define_function(function, lines, namespace)
    return redactor


def _redacted(member: str, path: str, below: _Tree | str | None, namespace: dict[str, Any]) -> str:
    """Python source of the redacted `item` under `member` (at `path` in the record)."""
    if below is None:  # a map (dicts first: the ABC's isinstance is much slower)
        redacted = f"rules.redact_map(item, counts, {path!r})"
        return f"{redacted} if isinstance(item, (dict, Mapping)) else item"
    if isinstance(below, str):  # _ARGUMENTS
        return f"rules.redact_command(item, counts, {path!r}) if isinstance(item, list) else item"
    # One structure, or a list of them (lists of structures).
    structure = bind_name(namespace, f"redact_{member}", _compile_tree(member, f"{path}.", below))
    each = f"[{structure}(e, rules, counts) for e in item]"
    return f"{each} if isinstance(item, list) else {structure}(item, rules, counts)"
