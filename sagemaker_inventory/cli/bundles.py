"""Option bundles: one decorator adds a group of click options to a command and hands the command
one value made from them, so that a command's signature names a few ideas rather than every flag
(the way sqlite-utils' `output_options` adds its options, one step further)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def option_bundle(
    options: Sequence[Decorator], names: Sequence[str], into: str, build: Callable[..., object]
) -> Callable[[F], F]:
    """A decorator adding `options` (in this order in --help) whose values, named `names`, reach
    the command as one keyword argument `into`, made by `build(*values)` (in `names` order);
    `build` may raise click errors (a usage error is exit 2)."""

    def decorator(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kwargs[into] = build(*[kwargs.pop(name) for name in names])
            return command(*args, **kwargs)

        decorated: Callable[..., Any] = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return cast(F, decorated)

    return decorator
