"""Compiles a record's conversion plan into Python functions, one per structure, once per plan.

`shape` walks botocore's output shape and the documented fields into a plan: which response
member becomes which record key, converted how. Following that plan member by member for every
record, through a call per list and map, cost most of a conversion's CPU. Here each structure of
the plan becomes the straight-line function one would write by hand, for instance

    def _resource_config(value):
        get = value.get
        record = {}
        item = get("InstanceType")
        if item is not None:
            record["instance_type"] = item
        item = get("InstanceGroups")
        if item is not None:
            record["instance_groups"] = [_instance_groups(e0) for e0 in item]
        ...
        return record

with the plan's rules: keys in plan order, absent (None) members left out, lists and maps copied,
map keys kept verbatim. The generated text is registered with `linecache`, so tracebacks and
`inspect.getsource` show it.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

Converter = Callable[[Any], Any]
# Names of the functions a converter calls; locals of the generated code never start with "_".
_PREFIX = "_"
_UNIQUE = itertools.count()


@dataclass(frozen=True)
class ListOf:
    """A list whose elements are converted by `element` (None: kept as they are)."""

    element: Member


@dataclass(frozen=True)
class MapOf:
    """A map whose values are converted by `value`; its keys are user data, kept verbatim."""

    value: Member


@dataclass(frozen=True)
class StructureOf:
    """A structure: (response key, or None for a value the caller supplies; record key; how the
    value is converted), in record order."""

    name: str
    members: tuple[tuple[str | None, str, Member], ...]


# How one value becomes the record's: kept as it is (None), by a function (timestamps, floats), or
# as a container of converted values.
Member: TypeAlias = Converter | ListOf | MapOf | StructureOf | None
RecordConverter: TypeAlias = Callable[[Mapping[str, Any], Mapping[str, Any]], dict[str, Any]]


def compile_record(plan: StructureOf) -> RecordConverter:
    """The function (response, extras) -> record of the plan's top level; the members without
    a response key are taken from `extras` (account_id, tags)."""
    converter: RecordConverter = _compile(plan, extras=True)
    return converter


def compile_structure(plan: StructureOf) -> Converter:
    """The function value -> converted copy of a structure nested in the record."""
    converter: Converter = _compile(plan, extras=False)
    return converter


def _compile(plan: StructureOf, *, extras: bool) -> Any:
    namespace: dict[str, Any] = {}
    name = bind_name(namespace, plan.name, None)
    lines = [f"def {name}(value{', extras' if extras else ''}):", "    get = value.get"]
    lines.append("    record = {}")
    for source, target, member in plan.members:
        if source is None:
            if extras:
                lines.append(f"    record[{target!r}] = extras[{target!r}]")
            continue
        value = _expression(member, "item", 0, namespace)
        lines += [f"    item = get({source!r})", "    if item is not None:"]
        lines.append(f"        record[{target!r}] = {value}")
    lines.append("    return record")
    return define_function(name, lines, namespace)


def define_function(name: str, lines: list[str], namespace: dict[str, Any]) -> Any:
    """The function `name` that `lines` (Python source) define, run in `namespace` (the names
    it calls, bound with `bind_name`). Its text goes to `linecache` under a name of its own, so
    that tracebacks and `inspect.getsource` show it."""
    filename = f"<smi generated {next(_UNIQUE)}: {name}>"
    text = "\n".join(lines) + "\n"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]


def _expression(member: Member, var: str, depth: int, namespace: dict[str, Any]) -> str:
    """Python source converting the value in `var` as `member` says."""
    if member is None:
        return var
    if isinstance(member, ListOf):
        if member.element is None:
            return f"list({var})"
        element = f"e{depth}"
        converted = _expression(member.element, element, depth + 1, namespace)
        return f"[{converted} for {element} in {var}]"
    if isinstance(member, MapOf):
        if member.value is None:
            return f"dict({var})"
        key, value = f"k{depth}", f"v{depth}"
        converted = _expression(member.value, value, depth + 1, namespace)
        return f"{{{key}: {converted} for {key}, {value} in {var}.items()}}"
    if isinstance(member, StructureOf):
        return f"{bind_name(namespace, member.name, compile_structure(member))}({var})"
    return f"{bind_name(namespace, getattr(member, '__name__', 'convert'), member)}({var})"


def bind_name(namespace: dict[str, Any], name: str, value: Any) -> str:
    """A name for `value` in the generated code's namespace: `name`, made unique."""
    base = _PREFIX + "".join(c if c.isalnum() else "_" for c in name)
    unique = base
    for index in itertools.count(2):
        if unique not in namespace or namespace[unique] is value:
            break
        unique = f"{base}_{index}"
    namespace[unique] = value
    return unique
