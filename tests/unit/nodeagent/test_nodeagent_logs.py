import datetime as dt

from nodeagent.server.logs import Limiter, LogOptions, parse, parse_time, render, select

LOG = (b"2024-05-01T10:00:00.100000000+00:00 stdout F one\n"
       b"2024-05-01T10:00:01.200000000+00:00 stderr F two\n"
       b"2024-05-01T10:00:02.300000000+00:00 stdout P par\n"
       b"2024-05-01T10:00:02.300000001+00:00 stdout F tial\n"
       b"2024-05-01T10:00:03.000000000+00:00 stdout F incompl")


def test_parse_joins_partial_records_and_keeps_the_unfinished_tail():
    lines, rest = parse(LOG)
    assert [ln.text for ln in lines] == [b"one\n", b"two\n", b"partial\n"]
    assert [ln.stream for ln in lines] == ["stdout", "stderr", "stdout"]
    assert rest.endswith(b"incompl")


def test_select_tail_and_since():
    lines, _ = parse(LOG)
    assert [ln.text for ln in select(lines, LogOptions(tail_lines=1))] == [b"partial\n"]
    assert select(lines, LogOptions(tail_lines=0)) == []
    since = dt.datetime(2024, 5, 1, 10, 0, 1, tzinfo=dt.timezone.utc)
    assert [ln.text for ln in select(lines, LogOptions(since=since))] == [b"two\n", b"partial\n"]


def test_render_timestamps_and_limit():
    lines, _ = parse(LOG)
    assert render(lines[0], True) == b"2024-05-01T10:00:00.100000000Z one\n"
    lim = Limiter(5)
    assert lim.take(b"one\n") == (b"one\n", False)
    assert lim.take(b"two\n") == (b"t", True)
    assert parse_time("2024-05-01T10:00:00.123456789Z").microsecond == 123456
