"""The fake endpoint's rate limits (scripts/fake_limits.py): they decide the benchmark's truth."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from fake_limits import (
    BucketLimit,
    FixedWindowLimit,
    Schedule,
    SlidingWindowLimit,
    limit_shape,
)


def admitted(limiter: object, moments: list[float]) -> list[float]:
    admit = limiter.admit  # type: ignore[attr-defined]
    return [t for t in moments if admit(t)]


def test_a_bucket_lets_its_burst_through_then_its_rate() -> None:
    bucket = BucketLimit(Schedule(10.0), burst=3.0, start=0.0)
    assert admitted(bucket, [0.0] * 5) == [0.0] * 3
    assert not bucket.admit(0.05)  # half a token
    assert bucket.admit(0.1)
    assert bucket.allowance(0.0, 2.0) == pytest.approx(3 + 20)


def test_a_refused_request_uses_nothing_up() -> None:
    bucket = BucketLimit(Schedule(10.0), burst=1.0, start=0.0)
    assert bucket.admit(0.0)
    assert admitted(bucket, [0.01 * i for i in range(1, 10)]) == []
    assert bucket.admit(0.1)


def test_a_sliding_window_admits_its_rate_in_any_second() -> None:
    window = SlidingWindowLimit(Schedule(5.0), start=0.0)
    moments = [i * 0.05 for i in range(60)]  # 20 a second for 3 s
    kept = admitted(window, moments)
    for t in moments:
        assert sum(1 for k in kept if t - 1.0 < k <= t) <= 5
    assert kept[:6] == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2, 1.0])  # freed a second later
    assert window.allowance(0.0, 2.5) == 15  # three windows' worth fit in 2.5 s


def test_fixed_windows_admit_their_rate_from_each_boundary() -> None:
    windows = FixedWindowLimit(Schedule(3.0), start=10.0)
    moments = [10.0, 10.1, 10.2, 10.3, 10.9, 11.0, 11.5, 11.6, 11.7]
    assert admitted(windows, moments) == [10.0, 10.1, 10.2, 11.0, 11.5, 11.6]
    assert windows.allowance(10.5, 12.0) == 9  # touches three windows


def test_a_schedule_drops_for_a_while_and_repeats() -> None:
    schedule = Schedule(50.0, drop_to=0.3, at=2.0, lasting=3.0, every=8.0)
    assert [schedule.rate_at(t) for t in (1.9, 2.0, 4.9, 5.0, 10.5, 13.0)] == pytest.approx(
        [50, 15, 15, 50, 15, 50]
    )
    steps = 16000
    numeric = sum(schedule.rate_at(i * 16 / steps) for i in range(steps)) * 16 / steps
    assert schedule.integral(0.0, 16.0) == pytest.approx(numeric, rel=1e-3)
    assert schedule.integral(0.0, 16.0) == pytest.approx(50 * 16 - 35 * 6)


def test_a_shrinking_bucket_admits_the_dropped_rate_while_dropped() -> None:
    bucket = limit_shape("shrinking").limiter(50.0, 5.0, 0.0)  # 15/s from 2 s to 5 s
    moments = [i * 0.001 for i in range(8000)]
    kept = admitted(bucket, moments)
    during = sum(1 for t in kept if 3.0 <= t < 5.0)
    after = sum(1 for t in kept if 6.0 <= t < 8.0)
    assert during == pytest.approx(30, abs=1)
    assert after == pytest.approx(100, abs=1)
    assert len(kept) <= bucket.allowance(0.0, 8.0)


def test_shapes_are_named_and_shrinking_has_default_drops() -> None:
    shape = limit_shape("shrinking")
    assert (shape.drop_to, shape.at, shape.lasting, shape.every) == (0.3, 2.0, 3.0, 8.0)
    assert limit_shape("sliding").lasting == 0.0
    assert limit_shape("fixed", 0.5).drop_to == 0.5
    assert "30% for 3 s at 2 s, every 8 s" in shape.describe(50.0, 5.0)
    with pytest.raises(ValueError, match="unknown limit shape"):
        limit_shape("leaky")
    with pytest.raises(ValueError):
        Schedule(10.0, drop_to=0.5, at=1.0, lasting=5.0, every=2.0)


def test_the_fake_counts_what_its_limiter_allowed() -> None:
    from fake_endpoint import FakeConfig, FakeState

    state = FakeState(FakeConfig(throttle=5.0, limit=limit_shape("fixed")))
    results = [state.admit("DescribeTrainingJob") for _ in range(8)]
    assert results == [True] * 5 + [False] * 3
    stats = state.reset()
    assert stats.allowed("DescribeTrainingJob") == 5  # all within one window
    assert stats.accepted_fraction("DescribeTrainingJob") == 1.0
    assert stats.as_dict()["throttled"] == {"DescribeTrainingJob": 3}
