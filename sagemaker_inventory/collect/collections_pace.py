"""How often Python's cyclic garbage collector looks at young objects while a run collects.

Every job's DescribeTrainingJob answer is parsed into a few hundred objects, converted, written
and dropped, and reference counting frees nearly all of them: the cyclic collector finds a few
objects a job. CPython still examines the youngest objects every 700 allocations, every few jobs,
which in a region of many jobs cost as much CPU as redacting every record. During a run it does
so every YOUNG_THRESHOLD allocations, and examines the middle generation each time (by default
every 7,000 allocations): what a scope leaves in reference cycles (its clients, when it ends) is
found about as soon as before, so the memory of a run over many accounts stays where it was;
raising the young threshold alone left such garbage to the rare full collections and added a
quarter to the peak memory of 1,001 accounts x 4 regions. The oldest generation keeps its
threshold (every tenth time); a collector the user turned off (threshold 0) stays off.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_THRESHOLD = 10_000


def collect_less_often() -> tuple[int, int, int]:
    """Examine the young and middle generations together every YOUNG_THRESHOLD allocations (a
    young threshold already higher, or 0, is left alone); the thresholds before, to restore."""
    before = gc.get_threshold()
    young, _, oldest = before
    if 0 < young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, 1, oldest)
    return before


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """`collect_less_often` for the duration of the block (a run within a longer process)."""
    before = collect_less_often()
    try:
        yield
    finally:
        gc.set_threshold(*before)
