import datetime as dt

from kubeclient import timestamps

AT = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)


def test_time_and_micro_time_formats():
    assert timestamps.now(AT) == "2026-01-02T03:04:05Z"
    assert timestamps.micro_time(AT) == "2026-01-02T03:04:05.678901Z"
    assert timestamps.parse_time(timestamps.now()) is not None


def test_parse_time_round_trips_and_refuses_garbage():
    assert timestamps.parse_time("2026-01-02T03:04:05.678901Z") == AT.timestamp()
    assert timestamps.parse_time(timestamps.now(AT)) == AT.replace(microsecond=0).timestamp()
    assert timestamps.parse_time("") is None and timestamps.parse_time("yesterday") is None


def test_epoch_time_is_whole_seconds_utc():
    assert timestamps.epoch_time(AT.timestamp()) == "2026-01-02T03:04:05Z"
    assert timestamps.parse_time(timestamps.epoch_time(1767323045.9)) == 1767323045


def test_from_epoch_ignores_unset_times():
    assert timestamps.from_epoch(int(AT.timestamp())) == "2026-01-02T03:04:05Z"
    assert timestamps.from_epoch("1767323045") == "2026-01-02T03:04:05Z"
    assert timestamps.from_epoch(0) is None and timestamps.from_epoch(None) is None
    assert timestamps.from_epoch("-1") is None
