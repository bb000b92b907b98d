"""AdaptiveRate, the estimator of what an operation may send, step by step on explicit times."""

from __future__ import annotations

import pytest

from sagemaker_inventory.aws.adaptive_rate import AdaptiveRate


def accept(rate: AdaptiveRate, start: float, count: int, every: float) -> float:
    """`count` accepted answers `every` seconds apart, the first `every` after `start`; returns
    the time of the last one."""
    for i in range(1, count + 1):
        rate.accepted(start + i * every)
    return start + count * every


def test_the_rate_is_unlimited_until_the_first_throttle() -> None:
    rate = AdaptiveRate()
    accept(rate, 0.0, 100, 0.01)
    assert rate.limit(1.0) is None


def test_a_window_limit_does_not_collapse_the_rate() -> None:
    """Regression: the accepted rate was counted since the last cut over a fraction of a second,
    which reads zero while a window limit refuses everything until the window moves on."""
    rate = AdaptiveRate()
    accept(rate, 0.0, 50, 0.004)  # the window's 50 go through in 0.2 s
    rate.throttled(0.2)
    assert rate.limit(0.2) == pytest.approx(50.0)  # 50 in the last second, not 250/s nor 0
    for moment in (0.3, 0.5, 0.7, 0.9):  # refused until the window moves on
        rate.throttled(moment)
        limit = rate.limit(moment)
        assert limit is not None and 50.0 <= limit <= 100.0


def test_a_cut_never_goes_below_the_rate_accepted_over_the_last_second() -> None:
    rate = AdaptiveRate(backoff=0.5)
    end = accept(rate, 0.0, 100, 0.02)  # 50/s for 2 s
    rate.throttled(end)
    assert rate.limit(end) == pytest.approx(50.0)
    rate.throttled(end + 0.1)  # 45 in the last second, more than 0.5 x 50
    assert rate.limit(end + 0.1) == pytest.approx(45.0)


def test_a_cut_is_multiplicative_when_far_above_what_is_accepted() -> None:
    rate = AdaptiveRate(backoff=0.7)
    end = accept(rate, 0.0, 100, 0.02)
    rate.throttled(end)  # learnt 50/s
    # The allowance dropped: nothing accepted for a second while the curve climbed above 50.
    later = end + 1.0
    before = rate.limit(later)
    assert before is not None and before > 50.0
    rate.throttled(later)
    assert rate.limit(later) == pytest.approx(0.7 * before)


def test_throttles_of_requests_sent_before_the_cut_do_not_cut_again() -> None:
    rate = AdaptiveRate()
    end = accept(rate, 0.0, 100, 0.02)
    rate.throttled(end + 1.0)
    learnt = rate.limit(end + 1.0)
    rate.throttled(end + 1.1, sent=end + 0.99)  # in flight when the limit was cut
    assert rate.limit(end + 1.0) == learnt
    rate.throttled(end + 1.1, sent=end + 1.05)
    assert rate.limit(end + 1.1) != pytest.approx(learnt)


def test_after_a_cut_the_curve_climbs_back_to_the_best_recent_rate_then_probes_beyond() -> None:
    rate = AdaptiveRate(backoff=0.7, scale=0.2)
    end = accept(rate, 0.0, 100, 0.02)
    rate.throttled(end)  # 50/s accepted: the target
    later = end + 1.0
    rate.throttled(later)  # nothing accepted for a second: cut to 0.7 x the limit then
    start = rate.limit(later)
    assert start is not None and start < 50.0
    k = ((50.0 - start) / (0.2 * 50.0)) ** (1 / 3)  # CUBIC: back at the target after k s
    assert rate.limit(later + k / 2) == pytest.approx(50.0 - 10.0 * (k / 2) ** 3)
    assert rate.limit(later + k) == pytest.approx(50.0)
    assert rate.limit(later + k + 1.0) == pytest.approx(60.0)  # probing for more


def test_an_allowance_that_dropped_and_came_back_is_found_again_within_two_seconds() -> None:
    rate = AdaptiveRate()
    end = accept(rate, 0.0, 150, 0.02)  # 50/s for 3 s
    rate.throttled(end)
    # Another tool takes 70%: 15/s accepted for 3 s, throttled every 0.2 s.
    moment = end
    for _ in range(15):
        moment = accept(rate, moment, 3, 1 / 15)
        rate.throttled(moment)
    low = rate.limit(moment)
    assert low is not None and low < 25.0
    assert rate.limit(moment + 1.5) == pytest.approx(50.0, rel=0.01)


def test_a_target_is_forgotten_after_memory_seconds() -> None:
    rate = AdaptiveRate(memory=10.0)
    end = accept(rate, 0.0, 100, 0.02)
    rate.throttled(end)  # 50/s
    moment = end
    for _ in range(30):  # 3 s at 10/s, throttled after each answer
        moment = accept(rate, moment, 1, 0.1)
        rate.throttled(moment)
    assert rate.limit(moment + 1.5) == pytest.approx(50.0, rel=0.01)  # back to 50/s at once
    for _ in range(90):  # 9 s more: 50/s was last seen more than `memory` seconds ago
        moment = accept(rate, moment, 1, 0.1)
        rate.throttled(moment)
    assert rate.limit(moment + 1.5) < 20.0  # probing slowly up from 10/s, not racing to 50


def test_a_first_throttle_within_the_first_second_starts_slowly_and_doubles() -> None:
    rate = AdaptiveRate(doubling=0.25)
    accept(rate, 0.0, 10, 0.01)  # a token bucket's burst and then some
    rate.throttled(0.1)
    assert rate.limit(0.1) == pytest.approx(10.0)  # 10 accepted within the last second
    accept(rate, 0.1, 20, 0.01)
    assert rate.limit(0.35) == pytest.approx(20.0)  # doubled in 0.25 s
    assert rate.limit(0.6) == pytest.approx(40.0)  # but no more than twice the accepted 30/s
    assert rate.limit(0.6) == pytest.approx(2 * rate.accepted_rate(0.6) / 1.5)


def test_slow_rates_are_measured_over_the_last_sample_requests() -> None:
    rate = AdaptiveRate(sample=10)
    end = accept(rate, 0.0, 20, 0.5)  # 2/s for 10 s: a second holds just 2 of them
    assert rate.accepted_rate(end) == pytest.approx(10 / 5.0)
    rate.throttled(end)
    assert rate.limit(end) == pytest.approx(2.0)


def test_a_throttle_with_nothing_accepted_falls_to_the_floor() -> None:
    rate = AdaptiveRate(floor=0.5)
    rate.throttled(0.0)
    assert rate.limit(0.0) == 0.5
