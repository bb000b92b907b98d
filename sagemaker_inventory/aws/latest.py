"""A cache that keeps only its latest entries, for what a run builds once per account.

A run covers its accounts one after the other (scopes start account by account), so what it
builds for one account (an assumed-role session) is asked for again only while that account's
scopes start; keeping it to the end of the run would make memory, and the work of the garbage
collector, grow with the size of the organization.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

# Assumed-role sessions a run keeps (aws/sessions.py): an older account's scopes have all started,
# and their clients hold what they need.
ROLE_SESSIONS_KEPT = 32

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Latest(Generic[K, V]):
    """The `kept` entries asked for last; `forget` is told of each one dropped. Not thread-safe:
    the caller holds its own lock."""

    def __init__(self, kept: int, forget: Callable[[V], None] | None = None) -> None:
        self._kept = kept
        self._forget = forget
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The entry of `key`, made by `make` if it is not (or no longer) kept."""
        if key not in self._entries:
            self._entries[key] = make()
            while len(self._entries) > self._kept:
                _, dropped = self._entries.popitem(last=False)
                if self._forget is not None:
                    self._forget(dropped)
        self._entries.move_to_end(key)
        return self._entries[key]
