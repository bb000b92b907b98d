"""collect/in_order: results in input order, a bounded window, errors at their turn, clean stops."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest

from sagemaker_inventory.collect.in_order import in_order


def names_of_live_threads(prefix: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def test_results_come_in_input_order_whatever_order_the_work_ends_in() -> None:
    rng = random.Random(0)
    delays = [rng.random() / 500 for _ in range(200)]

    def work(index: int) -> int:
        time.sleep(delays[index])
        return index * 10

    out = list(in_order(range(200), work, workers=8, window=32, thread_name="t-order"))
    assert out == [(i, i * 10) for i in range(200)]
    assert names_of_live_threads("t-order") == []


def test_at_most_window_items_are_handed_out_ahead_of_the_reader() -> None:
    taken = 0

    def items() -> Iterator[int]:
        nonlocal taken
        for index in range(100):
            taken += 1
            yield index

    for index, _ in in_order(items(), lambda i: i, workers=4, window=10, thread_name="t-win"):
        assert taken <= index + 10


def test_threads_are_named_and_no_more_than_workers_nor_items() -> None:
    seen: set[str] = set()
    lock = threading.Lock()

    def work(index: int) -> int:
        with lock:
            seen.add(threading.current_thread().name)
        time.sleep(0.001)
        return index

    list(in_order(range(50), work, workers=3, window=12, thread_name="t-names"))
    assert seen <= {"t-names_0", "t-names_1", "t-names_2"}
    seen.clear()
    list(in_order(range(2), work, workers=16, window=64, thread_name="t-few"))
    assert seen <= {"t-few_0", "t-few_1"}
    assert list(in_order([], work, workers=4, window=8, thread_name="t-none")) == []


def test_an_error_of_the_work_is_raised_at_its_items_turn() -> None:
    def work(index: int) -> int:
        if index == 5:
            raise ValueError("job 5")
        return index

    got = []
    with pytest.raises(ValueError, match="job 5"):
        for _, result in in_order(range(20), work, workers=4, window=8, thread_name="t-err"):
            got.append(result)
    assert got == [0, 1, 2, 3, 4]
    assert names_of_live_threads("t-err") == []


def test_closing_early_drops_unstarted_items_and_waits_for_started_ones() -> None:
    started: list[int] = []
    finished: list[int] = []
    lock = threading.Lock()

    def work(index: int) -> int:
        with lock:
            started.append(index)
        time.sleep(0.005)
        with lock:
            finished.append(index)
        return index

    described = in_order(range(1000), work, workers=2, window=40, thread_name="t-close")
    assert next(described) == (0, 0)
    described.close()
    assert sorted(started) == sorted(finished)  # nothing still running once closed
    assert len(started) < 40  # the rest of the window was dropped, not run
    assert names_of_live_threads("t-close") == []


def test_an_error_of_the_items_stops_the_workers() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise RuntimeError("listing failed")

    with pytest.raises(RuntimeError, match="listing failed"):
        list(in_order(items(), lambda i: i, workers=4, window=8, thread_name="t-list"))
    assert names_of_live_threads("t-list") == []
