"""ISO-8601 timestamps in UTC: reading them, writing them, and the date options' ages (`7d`).

The one place that turns text into an aware UTC datetime and back. Records carry the record
convention (`format_timestamp`: a `Z`, milliseconds only when non-zero); run summaries, caches and
messages say times to the second (`format_utc_seconds`). Naive values are taken as UTC throughout,
since every timestamp smi writes is UTC.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import overload

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class BadDateError(ValueError):
    """A date option that is neither ISO-8601 nor a relative age."""


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 text (a `Z`/`z` suffix, an offset, or naive meaning UTC) as an aware UTC datetime.

    Raises ValueError when the text is not ISO-8601.
    """
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat accepts "Z" only from Python 3.11 on
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def parse_timestamp_or_none(value: object) -> datetime | None:
    """Like parse_timestamp, for values read from files: None unless an ISO-8601 string."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def parse_when(value: str, *, now: datetime | None = None) -> datetime:
    """Parse `2026-01-31`, `2026-01-31T12:00:00+02:00`, `...Z`, or an age: `7d`, `12h`, `30m`, `2w`.

    Naive ISO values are taken as UTC (the tool's timestamps are all UTC); relative ages count back
    from `now` (default: the current time).
    """
    match = _RELATIVE.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        reference = now or datetime.now(timezone.utc)
        return reference - timedelta(seconds=amount * _UNIT_SECONDS[unit])
    try:
        return parse_timestamp(value.strip())
    except ValueError:
        raise BadDateError(value) from None


@overload
def format_timestamp(value: datetime | float) -> str: ...


@overload
def format_timestamp(value: None) -> None: ...


def format_timestamp(value: datetime | float | None) -> str | None:
    """The record convention: ISO-8601 UTC with "Z", milliseconds only when non-zero; naive
    datetimes are taken as UTC, numbers as epoch seconds (an API response as sent, before botocore
    makes datetimes of them); None stays None."""
    if value is None:
        return None
    moment = as_utc(value)
    text = moment.replace(tzinfo=None, microsecond=0).isoformat()
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def as_utc(value: datetime | float) -> datetime:
    """An aware UTC datetime from a datetime (naive taken as UTC) or from epoch seconds (an API
    response as sent, before botocore makes datetimes of them); TypeError for anything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def format_utc_seconds(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, to the second (run summaries, the price cache, messages)."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
