"""How often Python's cyclic garbage collector looks at young objects while a run collects.

Every job's DescribeTrainingJob answer is parsed into a few hundred objects, converted, written
and dropped, and reference counting frees nearly all of them: the cyclic collector finds a few
objects a job. CPython still examines the youngest objects every 700 allocations, every few jobs,
which in a region of many jobs cost as much CPU as redacting every record. During a run it does
so every YOUNG_THRESHOLD allocations: the few cyclic objects wait a little longer, nothing else
changes (memory stays flat: at most that many young objects wait for a collection). The older
generations keep their thresholds; a collector the user turned off (threshold 0) stays off.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_THRESHOLD = 10_000


def collect_less_often() -> tuple[int, int, int]:
    """Raise the youngest generation's threshold to YOUNG_THRESHOLD (never lower it); the
    thresholds before, to restore."""
    before = gc.get_threshold()
    young, *older = before
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, *older)
    return before


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """`collect_less_often` for the duration of the block (a run within a longer process)."""
    before = collect_less_often()
    try:
        yield
    finally:
        gc.set_threshold(*before)
