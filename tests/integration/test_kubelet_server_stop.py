"""The node agent's kubelet API stops quietly while a client still holds a connection
(issue 20, clean stops): under `pocketkube up`, the API server's connection pool to the
kubelet is open when the node agent stops, and Ctrl-C printed a LifespanFailureError."""
from __future__ import annotations

import asyncio
import logging

import httpx

from nodeagent.server.app import KubeletServer


def test_stop_with_an_idle_client_connection_reports_no_lifespan_failure(tmp_path, caplog):
    reported: list[dict] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: reported.append(context))
        server = KubeletServer(None, lambda _ns, _pod: None, node_name="quiet", address="127.0.0.1", port=0,
                               root_dir=str(tmp_path))
        port = await server.start()
        client = httpx.AsyncClient(verify=False)
        try:
            # a kept-alive TLS connection, idle and never closed by the client while the server stops
            assert (await client.get(f"https://127.0.0.1:{port}/healthz")).text == "ok"
            await server.stop()
        finally:
            await client.aclose()

    with caplog.at_level(logging.ERROR):
        asyncio.run(main())   # what is still pending at the end is cancelled here, as at Ctrl-C
    lifespan = [c for c in reported if "Lifespan" in repr(c.get("exception")) + repr(c.get("task"))]
    assert lifespan == [], lifespan
    assert "Traceback" not in caplog.text and "LifespanFailureError" not in caplog.text, caplog.text
