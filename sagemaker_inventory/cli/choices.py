"""Option values that are lists (`--status Failed,Stopped`, `-r a,b`, `--columns x,y`) and their
shell completion (`_SMI_COMPLETE=bash_source smi`): each completes the item after the last comma.

Completion runs in a fresh process on every Tab, so the candidates come from botocore's data files
and the AWS config files, never from an AWS call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import click
from click.shell_completion import CompletionItem

from sagemaker_inventory.cli.common import ParamType


def complete_items(candidates: Iterable[str], incomplete: str) -> list[CompletionItem]:
    """Candidates for the item being typed after the last comma, each with the items before it."""
    head, _, last = incomplete.rpartition(",")
    prefix = f"{head}," if head else ""
    taken = set(head.split(",")) if head else set()
    return [
        CompletionItem(prefix + candidate)
        for candidate in candidates
        if candidate.lower().startswith(last.lower()) and candidate not in taken
    ]


class CommaChoice(ParamType[tuple[str, ...]]):
    """One or more values from a fixed list, comma-separated, case-insensitive; with
    `multiple=True` the option is repeatable too. Converts to the canonical spellings."""

    def __init__(self, name: str, choices: Iterable[str]) -> None:
        self.name = name
        self.choices = tuple(choices)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        canonical = {c.lower(): c for c in self.choices}
        items: list[str] = []
        for part in str(value).split(","):
            item = part.strip()
            if not item:
                continue
            if item.lower() not in canonical:
                self.fail(
                    f"{item!r} is not one of {', '.join(self.choices)}",
                    param,
                    ctx,
                )
            items.append(canonical[item.lower()])
        if not items:
            self.fail(f"{value!r} names no {self.name.lower()}", param, ctx)
        return tuple(items)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        return complete_items(self.choices, incomplete)


def flatten(values: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """The items of a repeated CommaChoice option, in order, without duplicates."""
    return tuple(dict.fromkeys(item for group in values for item in group))


def completer(
    candidates: Callable[[], Iterable[str]],
) -> Callable[[click.Context, click.Parameter, str], list[CompletionItem]]:
    """A `shell_complete=` callback offering `candidates()` for the item after the last comma."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        try:
            return complete_items(candidates(), incomplete)
        except Exception:  # a broken config file must not break the user's shell
            return []

    return complete


def region_names() -> list[str]:
    from sagemaker_inventory.aws.regions import known_regions

    return sorted(known_regions())


def profile_names() -> list[str]:
    from sagemaker_inventory.aws.profiles import profile_names

    return profile_names()


def column_names() -> list[str]:
    from sagemaker_inventory.output.columns import valid_columns

    return sorted(valid_columns(all_fields=True))


def by_dimensions() -> list[str]:
    """`smi report --by` values: the fixed dimensions and `tag:` (its KEY is the user's)."""
    from sagemaker_inventory.report.aggregate import FIXED_DIMENSIONS, TAG_PREFIX

    return [*FIXED_DIMENSIONS, TAG_PREFIX]
