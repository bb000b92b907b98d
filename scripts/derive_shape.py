#!/usr/bin/env python3
"""Derive the documented aws_sagemaker_trainingjob shape from the Datadog spec page as package data.

The page lists fields depth-first without indentation (a name line, `Type: X`, `Provider name: Y`,
`Description: ...` spanning any number of lines). This script parses it, repairs the three known
flaws of the copy explicitly (refusing to run if one is not where it is expected, so a corrected
page is never silently mangled), recovers the nesting by walking botocore's DescribeTrainingJob
output shape, verifies every documented type and name against that model, and writes the JSON file
that `records.shape` ships. `--check` compares the committed file with a new derivation.

Usage: python scripts/derive_shape.py [SPEC] [OUT] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.model import ListShape, Shape, StructureShape

from sagemaker_inventory.records.shape import describe_output_shape

RESOURCE = "aws_sagemaker_trainingjob"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "spec" / f"{RESOURCE}.txt"
DEFAULT_OUT = REPO_ROOT / "sagemaker_inventory" / "data" / f"{RESOURCE}.json"

NAME_LINE = re.compile(r"[a-z][a-z0-9_]*")
TYPE_LINE = re.compile(r"Type: ([A-Z][A-Z0-9_]*)")
PROVIDER_PREFIX = "Provider name: "
DESCRIPTION_PREFIX = "Description: "
STRUCT_TYPES = frozenset({"STRUCT", "UNORDERED_LIST_STRUCT"})

# The three known flaws of the copy in shared/spec (see fix_* below).
FLAW_INPUT_DATA_CONFIG = "input_data_config name line lost"
FLAW_TAGS = "tags name line lost"
FLAW_METRIC_DEFINITIONS = "metric_definitions glued to the previous description"
KNOWN_FLAWS = frozenset({FLAW_INPUT_DATA_CONFIG, FLAW_TAGS, FLAW_METRIC_DEFINITIONS})

# Fields the page documents without a provider name: they are not DescribeTrainingJob members.
# account_id is the job's account (from its ARN); tags come from ListTags as "key:value" strings.
TOP_LEVEL_WITHOUT_PROVIDER = frozenset({"account_id", "tags"})

# Documented names that are not botocore.xform_name(provider name). None today; list any here.
NAME_EXCEPTIONS: dict[tuple[str, str], str] = {}

# Documented type -> accepted botocore type_name (lists: "list:<member type>").
MODEL_TYPES: dict[str, frozenset[str]] = {
    "STRING": frozenset({"string"}),
    "INT32": frozenset({"integer"}),
    "INT64": frozenset({"long"}),
    "FLOAT": frozenset({"float", "double"}),
    "BOOLEAN": frozenset({"boolean"}),
    "TIMESTAMP": frozenset({"timestamp"}),
    "STRUCT": frozenset({"structure"}),
    "UNORDERED_LIST_STRUCT": frozenset({"list:structure"}),
    "UNORDERED_LIST_STRING": frozenset({"list:string"}),
    "MAP_STRING_STRING": frozenset({"map"}),
}


class SpecError(Exception):
    """The page does not look the way this script expects: fix the script, not the output."""


@dataclass
class Entry:
    """One documented field as read from the page, before nesting."""

    name: str | None
    type: str
    line: int  # 1-based line of the `Type:` line, for error messages
    provider_name: str | None = None
    description_lines: list[str] = field(default_factory=list)
    fields: list[Entry] = field(default_factory=list)

    @property
    def description(self) -> str | None:
        # Lines are kept verbatim: the page breaks lines around inline code, and any rejoining
        # heuristic would mangle the lists some descriptions contain.
        return "\n".join(self.description_lines) if self.description_lines else None


def parse_page(text: str) -> list[Entry]:
    """Split the page into entries; an entry whose `Type:` line lacks a name line gets name None."""
    lines = text.splitlines()
    type_indexes = [i for i, line in enumerate(lines) if TYPE_LINE.fullmatch(line)]
    if not type_indexes:
        raise SpecError("no `Type:` lines: not a field listing")
    check_header(lines[: type_indexes[0]])
    entries: list[Entry] = []
    for position, index in enumerate(type_indexes):
        previous = lines[index - 1]
        named = NAME_LINE.fullmatch(previous) is not None
        match = TYPE_LINE.fullmatch(lines[index])
        assert match is not None
        entries.append(Entry(name=previous if named else None, type=match[1], line=index + 1))
        end = len(lines)
        if position + 1 < len(type_indexes):
            following = type_indexes[position + 1]
            end = following - 1 if NAME_LINE.fullmatch(lines[following - 1]) else following
        read_body(entries[-1], lines[index + 1 : end])
    return entries


def check_header(header: Sequence[str]) -> None:
    """The lines before the first field must name the resource."""
    if RESOURCE not in header:
        raise SpecError(f"the page does not name {RESOURCE} before its first field")


def read_body(entry: Entry, body: Sequence[str]) -> None:
    """Fill provider name and description from the lines after `Type:`."""
    rest = list(body)
    if rest and rest[0].startswith(PROVIDER_PREFIX):
        entry.provider_name = rest.pop(0).removeprefix(PROVIDER_PREFIX)
    if rest and rest[0].startswith(DESCRIPTION_PREFIX):
        entry.description_lines = [rest[0].removeprefix(DESCRIPTION_PREFIX), *rest[1:]]
    elif rest:
        raise SpecError(f"line {entry.line}: unexpected text after `Type:`: {rest[0][:60]!r}")


def fix_flaws(entries: list[Entry], flaws: Collection[str] = KNOWN_FLAWS) -> None:
    """Repair the expected flaws in place; fail if one is missing or an unknown one shows up."""
    unknown = set(flaws) - KNOWN_FLAWS
    if unknown:
        raise SpecError(f"unknown flaws requested: {sorted(unknown)}")
    fixed: set[str] = set()
    for index, entry in enumerate(entries):
        if entry.name is not None:
            continue
        previous = entries[index - 1] if index else None
        flaw = fix_nameless(entry, previous, flaws)
        if flaw in fixed:
            raise SpecError(f"line {entry.line}: flaw {flaw!r} found twice")
        fixed.add(flaw)
    missing = set(flaws) - fixed
    if missing:
        raise SpecError(
            f"expected flaws not found (was the page corrected? drop the fix): {sorted(missing)}"
        )


def fix_nameless(entry: Entry, previous: Entry | None, flaws: Collection[str]) -> str:
    """Name one nameless entry by the one known flaw that explains it; returns that flaw."""
    if FLAW_METRIC_DEFINITIONS in flaws and fix_metric_definitions(entry, previous):
        return FLAW_METRIC_DEFINITIONS
    if FLAW_INPUT_DATA_CONFIG in flaws and entry.provider_name == "InputDataConfig":
        if entry.type != "UNORDERED_LIST_STRUCT":
            raise SpecError(f"line {entry.line}: InputDataConfig is not UNORDERED_LIST_STRUCT")
        entry.name = "input_data_config"
        return FLAW_INPUT_DATA_CONFIG
    if FLAW_TAGS in flaws and fix_tags(entry, previous):
        return FLAW_TAGS
    raise SpecError(f"line {entry.line}: field without a name line, not a known flaw")


def fix_metric_definitions(entry: Entry, previous: Entry | None) -> bool:
    """`...in the following cases:metric_definitions` then `Type:`: split the name off."""
    glued = "metric_definitions"
    if entry.provider_name != "MetricDefinitions" or previous is None:
        return False
    if not previous.description_lines or not previous.description_lines[-1].endswith(glued):
        raise SpecError(f"line {entry.line}: MetricDefinitions has no name, and none is glued")
    head = previous.description_lines[-1].removesuffix(glued)
    if not head or head[-1].isalnum() or head[-1] == "_":
        raise SpecError(f"line {entry.line}: {glued} is not glued to a description")
    previous.description_lines[-1] = head
    entry.name = glued
    return True


def fix_tags(entry: Entry, previous: Entry | None) -> bool:
    """A bare `Type: UNORDERED_LIST_STRING` right after max_wait_time_in_seconds is `tags`."""
    bare = entry.provider_name is None and not entry.description_lines
    after = previous is not None and previous.name == "max_wait_time_in_seconds"
    if not (bare and after and entry.type == "UNORDERED_LIST_STRING"):
        return False
    entry.name = "tags"
    return True


@dataclass
class Level:
    """An open structure while nesting: its children so far and the model shape they come from."""

    shape: StructureShape
    children: list[Entry]
    owner: str

    def accepts(self, entry: Entry) -> bool:
        """Siblings are alphabetical, so an entry sorting before the last child starts elsewhere."""
        if entry.provider_name not in self.shape.members:
            return False
        last = self.children[-1].name if self.children else None
        return last is None or (entry.name or "") > last


def nest(entries: Sequence[Entry], root_shape: StructureShape) -> list[Entry]:
    """Recover the tree: each entry joins the deepest open structure that has it as a member."""
    root = Level(root_shape, [], owner="DescribeTrainingJob")
    stack = [root]
    for entry in entries:
        if entry.name in TOP_LEVEL_WITHOUT_PROVIDER and entry.provider_name is None:
            del stack[1:]
            append_child(root, entry)
            continue
        while stack and not stack[-1].accepts(entry):
            stack.pop()
        if not stack:
            raise SpecError(f"line {entry.line}: {entry.name} fits no open structure")
        append_child(stack[-1], entry)
        if entry.type in STRUCT_TYPES:
            member = stack[-1].shape.members[entry.provider_name or ""]
            stack.append(Level(structure_of(member), entry.fields, owner=entry.name or ""))
    return root.children


def append_child(level: Level, entry: Entry) -> None:
    last = level.children[-1].name if level.children else None
    if last is not None and (entry.name or "") <= last:
        raise SpecError(f"line {entry.line}: {entry.name} sorts before {last} in {level.owner}")
    level.children.append(entry)


def structure_of(shape: Shape) -> StructureShape:
    """The structure a STRUCT or UNORDERED_LIST_STRUCT field holds."""
    target = shape.member if isinstance(shape, ListShape) else shape
    if not isinstance(target, StructureShape):
        raise SpecError(f"{shape.name} holds no structure")
    return target


def model_type(shape: Shape) -> str:
    if isinstance(shape, ListShape):
        return f"list:{shape.member.type_name}"
    return shape.type_name


def verify(fields: Sequence[Entry], shape: StructureShape, *, top: bool = True) -> None:
    """Every documented type and name must agree with the model at its nesting."""
    for entry in fields:
        if entry.provider_name is None:
            if entry.name not in TOP_LEVEL_WITHOUT_PROVIDER or not top:
                raise SpecError(f"line {entry.line}: {entry.name} has no provider name")
            continue
        member = shape.members[entry.provider_name]
        accepted = MODEL_TYPES.get(entry.type)
        if accepted is None or model_type(member) not in accepted:
            raise SpecError(
                f"line {entry.line}: {entry.name} is {entry.type} in the doc, "
                f"{model_type(member)} in the model"
            )
        expected = NAME_EXCEPTIONS.get(
            (shape.name, entry.provider_name), xform_name(entry.provider_name)
        )
        if entry.name != expected:
            raise SpecError(f"line {entry.line}: {entry.name} is not {expected}")
        if entry.type in STRUCT_TYPES:
            verify(entry.fields, structure_of(member), top=False)


def to_json(entry: Entry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": entry.name,
        "type": entry.type,
        "provider_name": entry.provider_name,
        "description": entry.description,
    }
    if entry.type in STRUCT_TYPES:
        data["fields"] = [to_json(child) for child in entry.fields]
    return data


def derive(text: str, source: str, flaws: Collection[str] = KNOWN_FLAWS) -> dict[str, Any]:
    """The documented shape of one page, as the JSON document the package ships."""
    entries = parse_page(text)
    fix_flaws(entries, flaws)
    shape = describe_output_shape()
    fields = nest(entries, shape)
    verify(fields, shape)
    return {"resource": RESOURCE, "source": source, "fields": [to_json(f) for f in fields]}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if OUT differs from a fresh derivation; write nothing",
    )
    args = parser.parse_args(argv)
    try:
        rendered = render(derive(args.spec.read_text(encoding="utf-8"), args.spec.name))
    except (OSError, SpecError) as error:
        print(f"derive_shape: {error}", file=sys.stderr)
        return 2
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != rendered:
            print(f"derive_shape: {args.out} is stale; rerun without --check", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
