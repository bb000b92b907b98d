"""records.timestamps is the one reader and writer of ISO-8601 UTC timestamps, and parses the date
options (ISO-8601 or ages) to UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sagemaker_inventory.records.timestamps import (
    BadDateError,
    as_utc,
    format_timestamp,
    format_utc_seconds,
    parse_timestamp,
    parse_timestamp_or_none,
    parse_when,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=timezone.utc)),
        ("2026-01-31T12:00:00Z", datetime(2026, 1, 31, 12, tzinfo=timezone.utc)),
        ("2026-01-31T12:00:00+02:00", datetime(2026, 1, 31, 10, tzinfo=timezone.utc)),
    ],
)
def test_dates_parse_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_when(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "7x", "2026-13-01", "", "d7"])
def test_bad_dates_are_rejected(text: str) -> None:
    with pytest.raises(BadDateError):
        parse_when(text, now=NOW)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-31T12:00:00.500Z",
        "2026-01-31T12:00:00.500z",
        "2026-01-31T13:00:00.500+01:00",
        "2026-01-31T12:00:00.500",  # naive: UTC, like every timestamp smi writes
    ],
)
def test_timestamps_parse_to_aware_utc(text: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed == datetime(2026, 1, 31, 12, 0, 0, 500000, tzinfo=timezone.utc)
    assert parsed.tzinfo is timezone.utc


def test_unreadable_timestamps_are_value_errors_or_none() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("31/01/2026")
    for value in ("31/01/2026", "", None, 1769860800, ["2026-01-31"]):
        assert parse_timestamp_or_none(value) is None


def test_format_timestamp_keeps_milliseconds_only_when_not_zero() -> None:
    assert format_timestamp(datetime(2026, 3, 1, 12, tzinfo=timezone.utc)) == "2026-03-01T12:00:00Z"
    plus_two = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2026, 3, 1, 14, 0, 0, 250999, tzinfo=plus_two)) == (
        "2026-03-01T12:00:00.250Z"
    )
    assert format_timestamp(datetime(2026, 3, 1, 12)) == "2026-03-01T12:00:00Z"  # naive: UTC
    assert format_timestamp(None) is None


def test_format_timestamp_refuses_strings() -> None:
    with pytest.raises(TypeError, match="expected a datetime"):
        format_timestamp("2026-03-01T12:00:00Z")  # type: ignore[call-overload]


def test_format_utc_seconds_converts_offsets_and_drops_fractions() -> None:
    moment = datetime(2026, 1, 31, 12, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert format_utc_seconds(moment) == "2026-01-31T10:00:00Z"
    assert format_utc_seconds(datetime(2026, 1, 31, 10)) == "2026-01-31T10:00:00Z"


def test_what_is_written_reads_back() -> None:
    moment = datetime(2026, 1, 31, 10, 0, 0, 123000, tzinfo=timezone.utc)
    assert parse_timestamp(format_timestamp(moment)) == moment
    assert parse_timestamp(format_utc_seconds(moment)) == moment.replace(microsecond=0)


def test_as_utc_reads_datetimes_and_epoch_seconds() -> None:
    moment = datetime(2026, 1, 31, 10, 0, 0, 500000, tzinfo=timezone.utc)
    assert as_utc(moment.timestamp()) == moment  # a response as sent
    assert as_utc(int(moment.timestamp())) == moment.replace(microsecond=0)
    assert as_utc(moment.astimezone(timezone(timedelta(hours=-7)))) == moment
    assert as_utc(moment.replace(tzinfo=None)).tzinfo is timezone.utc
    for value in (True, "2026-01-31T10:00:00Z", None):
        with pytest.raises(TypeError, match="expected a datetime"):
            as_utc(value)  # type: ignore[arg-type]
