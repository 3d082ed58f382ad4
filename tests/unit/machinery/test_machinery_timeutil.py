"""RFC 3339 timestamps: metav1.Time and metav1.MicroTime."""
from datetime import datetime, timedelta, timezone

import pytest

from apiserver.machinery import timeutil

UTC = timezone.utc


def test_format():
    dt = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert timeutil.format_time(dt) == "2024-01-02T03:04:05Z"
    assert timeutil.format_micro_time(dt) == "2024-01-02T03:04:05.123456Z"
    assert timeutil.format_micro_time(dt.replace(microsecond=0)) == "2024-01-02T03:04:05.000000Z"
    plus_two = dt.astimezone(timezone(timedelta(hours=2)))
    assert timeutil.format_time(plus_two) == "2024-01-02T03:04:05Z"
    assert timeutil.format_time(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05Z"


@pytest.mark.parametrize("text,expected", [
    ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-02T03:04:05.123456Z", datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
    ("2024-01-02T03:04:05.123456789Z", datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)),
    ("2024-01-02T03:04:05.5Z", datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)),
    ("2024-01-02T05:04:05+02:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2024-01-01T23:04:05-04:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
])
def test_parse(text, expected):
    got = timeutil.parse_time(text)
    assert got == expected and got.tzinfo == UTC
    assert timeutil.parse_micro_time(text) == expected


def test_empty_is_none():
    assert timeutil.parse_time(None) is None
    assert timeutil.parse_time("") is None
    assert timeutil.normalize_time(None) is None


@pytest.mark.parametrize("text", ["2024-01-02", "2024-01-02 03:04:05Z", "2024-13-02T03:04:05Z",
                                  "2024-01-02T03:04:05", "2024-02-30T00:00:00Z", "x", "2024-01-02T03:04:05+2:00", 5])
def test_parse_errors(text):
    with pytest.raises(timeutil.TimeError) as e:
        timeutil.parse_time(text)
    assert str(e.value).startswith(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00"')


def test_normalize_and_now():
    assert timeutil.normalize_time("2024-01-02T05:04:05.9+02:00") == "2024-01-02T03:04:05Z"
    assert timeutil.normalize_micro_time("2024-01-02T03:04:05.1Z") == "2024-01-02T03:04:05.100000Z"
    assert timeutil.parse_time(timeutil.now_time()) is not None
    assert timeutil.parse_micro_time(timeutil.now_micro_time()) is not None
