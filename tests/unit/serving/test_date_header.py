"""DateCachingConfig: the headers hypercorn's Config would send, the date made once a second."""
from __future__ import annotations

import email.utils
import time

from hypercorn.config import Config

from apiserver.assembly.serving.date_header import DateCachingConfig


def test_same_headers_as_hypercorn_with_the_current_date():
    ours, theirs = DateCachingConfig(), Config()
    ours.include_server_header = theirs.include_server_header = False
    before = int(time.time())
    (name, value), = ours.response_headers("h11")
    after = time.time()
    assert name == b"date"
    assert before <= email.utils.parsedate_to_datetime(value.decode()).timestamp() <= after
    assert [n for n, _ in theirs.response_headers("h11")] == [b"date"]


def test_other_headers_are_left_to_hypercorn():
    cfg = DateCachingConfig()
    cfg.include_server_header = True
    cfg.alt_svc_headers = ['h3=":443"']
    assert [n for n, _ in cfg.response_headers("h2")] == [b"date", b"server", b"alt-svc"]
