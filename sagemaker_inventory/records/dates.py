"""Date options: ISO-8601 timestamps or ages such as `7d` and `12h`, always resolved to UTC."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_RELATIVE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class BadDateError(ValueError):
    """A date option that is neither ISO-8601 nor a relative age."""


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
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat accepts "Z" only from Python 3.11 on
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadDateError(value) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, seconds precision (for run reports and messages)."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
