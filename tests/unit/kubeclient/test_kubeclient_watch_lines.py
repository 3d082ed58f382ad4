"""The watch stream's line splitting (kubeclient.client._lines): events split across
chunks, several in one chunk, blank keep-alive lines, and a last line without its newline."""
import httpx

from kubeclient.client import _lines


async def test_lines_come_whole_whatever_the_chunks():
    async def body():
        for chunk in (b'{"a":1}\n{"b"', b':2}\n', b'\n', b'  \n{"c":', b'3}', b'\n{"d":4}\n{"e":"\xc3\xa9"}'):
            yield chunk
    lines = [line async for line in _lines(httpx.Response(200, content=body()))]
    assert lines == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}', b'{"e":"\xc3\xa9"}']
