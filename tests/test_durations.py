"""output.durations: the collect table's exact durations and the report views' compact ones."""

from __future__ import annotations

import pytest

from sagemaker_inventory.output.durations import format_compact_duration, format_exact_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (60, "1m 00s"),
        (123, "2m 03s"),
        (3600, "1h 00m 00s"),
        (3723, "1h 02m 03s"),
        (90061, "25h 01m 01s"),
    ],
)
def test_format_exact_duration(seconds: int, text: str) -> None:
    assert format_exact_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (725, "12m 05s"),
        (3600, "1h 00m"),
        (11279, "3h 07m"),  # the 59 s are dropped, not rounded
        (86400, "1d 00h"),
        (187200 + 3599, "2d 04h"),
    ],
)
def test_format_compact_duration(seconds: int, text: str) -> None:
    assert format_compact_duration(seconds) == text
