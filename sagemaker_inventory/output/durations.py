"""Durations for people: seconds as the collect table shows them and as report views show them.

Two styles on purpose. A job table states each job's time to the second ("1h 02m 03s", hours never
folded into days), so two rows can be compared exactly; report views show only the two largest
units ("3h 07m", "2d 04h"), which is what a glance at running jobs needs.
"""

from __future__ import annotations


def format_exact_duration(seconds: int) -> str:
    """Every unit down to the second: "45s", "2m 03s", "1h 02m 03s", "25h 01m 01s"."""
    return _join(_units(seconds, with_days=False))


def format_compact_duration(seconds: int) -> str:
    """The two largest units, the rest dropped: "45s", "12m 05s", "3h 07m", "2d 04h"."""
    return _join(_units(seconds, with_days=True)[:2])


def _units(seconds: int, *, with_days: bool) -> list[tuple[int, str]]:
    """(amount, unit) from the largest non-zero unit down to seconds."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24) if with_days else (0, hours)
    units = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    while len(units) > 1 and units[0][0] == 0:
        del units[0]
    return units


def _join(units: list[tuple[int, str]]) -> str:
    # The leading unit as it is, the others two digits wide: "1h 02m 03s".
    first, *rest = units
    return " ".join([f"{first[0]}{first[1]}", *(f"{amount:02d}{unit}" for amount, unit in rest)])
