"""The pacer against every shape of rate limit, in virtual time (tests/rate_simulation.py).

32 describe workers, 30 ms round trips and botocore's retries, as in a run against
scripts/fake_endpoint.py, but deterministic: these assert what the algorithm sustains, not how fast
this machine is. The fraction is accepted requests over what the limiter allowed between the first
and the last of them, as scripts/bench.py measures it.
"""

from __future__ import annotations

import pytest
from rate_simulation import limit_shape, simulate

JOBS = 3000  # a minute at 50/s: start-up and the last stragglers weigh little


@pytest.mark.parametrize("shape", ["bucket", "sliding", "fixed"])
@pytest.mark.parametrize("rate", [50.0, 200.0])
def test_a_steady_limit_of_any_shape_is_sustained_at_90_percent(shape: str, rate: float) -> None:
    jobs = int(rate * 40)
    phase = simulate(limit_shape(shape).limiter(rate, 5.0, 0.0), jobs=jobs)
    assert phase.accepted == jobs  # every job described once
    assert phase.fraction >= 0.9
    assert phase.throttled_share <= 0.1
    assert phase.outer_retries == 0  # botocore's retry quota never ran out


@pytest.mark.parametrize(
    ("shape", "drops"),
    [
        ("shrinking", ()),  # a token bucket at 30% for 3 s, 2 s in and every 8 s
        ("shrinking", (0.1, 2.0, 2.0, 6.0)),
        ("sliding", (0.3, 2.0, 3.0, 8.0)),
        ("fixed", (0.5, 1.0, 2.0, 5.0)),
    ],
)
def test_an_allowance_that_drops_and_recovers_is_sustained_at_80_percent(
    shape: str, drops: tuple[float, ...]
) -> None:
    phase = simulate(limit_shape(shape, *drops).limiter(50.0, 5.0, 0.0), jobs=JOBS)
    assert phase.accepted == JOBS
    assert phase.fraction >= 0.8  # of the allowance integrated over the phase
    assert phase.outer_retries == 0


def test_a_window_limit_no_longer_collapses_the_pace() -> None:
    """Regression: under a sliding window smi sustained 8% of the allowance (the rate measured
    since the last cut read zero and fell to 0.5/s); under fixed windows 6%."""
    for shape in ("sliding", "fixed"):
        phase = simulate(limit_shape(shape).limiter(50.0, 5.0, 0.0), jobs=1000)
        accepted_per_s = (phase.accepted - 1) / (phase.last_ok - phase.first_ok)
        assert accepted_per_s >= 45.0


def test_a_rate_cap_below_the_service_limit_holds_and_meets_no_throttle() -> None:
    phase = simulate(limit_shape("sliding").limiter(50.0, 5.0, 0.0), jobs=400, cap=20.0)
    assert phase.throttled == 0
    assert (phase.accepted - 1) / (phase.last_ok - phase.first_ok) <= 20.0 + 1e-6


def test_a_rate_cap_above_the_service_limit_still_learns_the_limit() -> None:
    phase = simulate(limit_shape("bucket").limiter(50.0, 5.0, 0.0), jobs=JOBS, cap=80.0)
    assert phase.fraction >= 0.9
