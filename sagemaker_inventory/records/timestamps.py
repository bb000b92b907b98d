"""ISO-8601 timestamps in UTC: reading them, writing them, and the date options' ages (`7d`).

The one place that turns text into an aware UTC datetime and back. Records carry the record
convention (`format_timestamp`: a `Z`, milliseconds only when non-zero); run summaries, caches and
messages say times to the second (`format_utc_seconds`). Naive values are taken as UTC throughout,
since every timestamp smi writes is UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import overload

# The epoch seconds written without a datetime (see _format_epoch_seconds): plain numbers (not
# bools, nor subclasses with arithmetic of their own) from the epoch to the last whole second of
# datetime's year 9999, before which no rounding carries past it.
_EPOCH_TYPES = frozenset({float, int})
_LAST_SECOND = 253402300799
_MAX_REMEMBERED_DAYS = 10_000
_DAYS: dict[int, str] = {}  # days since the epoch -> "YYYY-MM-DDT"
_TWO_DIGITS = tuple(f"{number:02d}" for number in range(60))
_MILLIS_AND_Z = ("Z", *(f".{millis:03d}Z" for millis in range(1, 1000)))
_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_EPOCH_DATE = date(1970, 1, 1)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_EPOCH = _NAIVE_EPOCH.replace(tzinfo=timezone.utc)
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
    # By exact type, which isinstance (and with it mypy's narrowing) would not spare the check of
    # every timestamp of every record.
    if type(value) in _EPOCH_TYPES and 0 <= value < _LAST_SECOND:  # type: ignore[operator]
        return _format_epoch_seconds(value)  # type: ignore[arg-type]
    if type(value) is datetime:
        text = _format_datetime(value)
        if text is not None:
            return text
    if value is None:
        return None
    moment = as_utc(value)
    millis = moment.microsecond // 1000
    return f"{moment.isoformat(timespec='seconds')[:19]}{_MILLIS_AND_Z[millis]}"


def _format_epoch_seconds(seconds: float) -> str:
    """format_timestamp of epoch seconds (how a response as sent carries timestamps), without
    the datetime that costs most of a record's conversion otherwise: the same text, since the
    fraction is rounded as datetime.fromtimestamp rounds it (to the microsecond, half to even)."""
    whole = int(seconds)
    millis = round((seconds - whole) * 1e6) // 1000
    if millis == 1000:
        whole, millis = whole + 1, 0
    day, second = divmod(whole, 86400)
    return _format_utc(day, second, millis)


def _format_datetime(value: datetime) -> str | None:
    """format_timestamp of a datetime (naive: UTC) from its exact distance to the epoch, without
    the UTC datetime astimezone would make; None for a tzinfo that gives no offset."""
    try:
        since = value - (_EPOCH if value.tzinfo else _NAIVE_EPOCH)
    except TypeError:  # aware, but no offset: as_utc takes it as astimezone does
        return None
    return _format_utc(since.days, since.seconds, since.microseconds // 1000)


def _format_utc(day: int, second: int, millis: int) -> str:
    """The text of day `day` since the epoch, `second` of that day and `millis` of that second."""
    hours, minutes = _TWO_DIGITS[second // 3600], _TWO_DIGITS[second // 60 % 60]
    # Jobs cluster in time: the date of a day is worked out once (a bounded memo: days are data).
    prefix = _DAYS.get(day) or _day_prefix(day)
    return f"{prefix}{hours}:{minutes}:{_TWO_DIGITS[second % 60]}{_MILLIS_AND_Z[millis]}"


def _day_prefix(day: int) -> str:
    prefix = (_EPOCH_DATE + timedelta(days=day)).isoformat() + "T"
    if len(_DAYS) < _MAX_REMEMBERED_DAYS:
        _DAYS[day] = prefix
    return prefix


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
