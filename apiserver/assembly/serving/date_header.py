"""The Date header formatted once a second, not once a response.

hypercorn's Config.response_headers formats the current time for every response
(wsgiref's format_date_time, about 2% of a GET's CPU). The header has a resolution of
one second, so the text made for this second serves every response in it: what the
client sees does not change. Other headers hypercorn may add (server, alt-svc) are
left to hypercorn.
"""
from __future__ import annotations

import time
from wsgiref.handlers import format_date_time

from hypercorn.config import Config


class DateCachingConfig(Config):
    _date_second = -1
    _date_value = b""

    def response_headers(self, protocol: str) -> list[tuple[bytes, bytes]]:
        if not self.include_date_header or self.include_server_header or self.alt_svc_headers \
                or self._quic_addresses:
            return super().response_headers(protocol)
        now = time.time()
        second = int(now)
        if second != self._date_second:
            self._date_value = format_date_time(now).encode("ascii")
            self._date_second = second
        return [(b"date", self._date_value)]
