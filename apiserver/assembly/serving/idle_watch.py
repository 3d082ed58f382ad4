"""A connection's idle timeout kept by one long-lived task, not a new task per request.

hypercorn times a connection's idleness (keep_alive_timeout, our --idle-timeout) with a
task it cancels when a request arrives and creates again when the answer is sent: per
request one cancellation waited for, one new task and one asyncio.wait_for (itself a
task), about 7% of a GET's CPU at 32 keep-alive clients. Here hypercorn's `idle_task`
(the same restart()/stop() contract) only notes when the connection went idle; one task
per connection wakes when that time plus the timeout has passed (or the server is
stopping) and closes the connection then if it is still idle, exactly when hypercorn
would have: after keep_alive_timeout of continuous idleness, or at once when the server
stops while the connection is idle. Applied once, at server start.
"""
from __future__ import annotations

import asyncio
import contextlib


class IdleWatch:
    """TCPServer.idle_task: restart() = the connection is idle from now, stop() = busy
    (or, once the connection is closing, end the watch)."""

    def __init__(self, server):
        self._server = server
        self._idle_since: float | None = None
        self._idle = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def restart(self, task_group, action) -> None:
        self._idle_since = asyncio.get_running_loop().time()
        self._idle.set()
        if self._task is None or self._task.done():
            self._task = task_group._task_group.create_task(self._watch())

    async def stop(self) -> None:
        self._idle_since = None
        self._idle.clear()
        if self._server.writer.is_closing() and self._task is not None:
            # hypercorn's _close(): nothing is left to time
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def reader_done(self) -> None:
        """The client's side ended (EOF, reset). hypercorn then waits for the connection's
        tasks: a busy connection has no idle timer there, so the watch must not hold it."""
        if self._idle_since is None and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _watch(self) -> None:
        server = self._server
        loop = asyncio.get_running_loop()
        timeout = server.config.keep_alive_timeout
        terminated = server.context.terminated
        while True:
            await self._idle.wait()
            since = self._idle_since
            if since is None:
                continue
            remaining = since + timeout - loop.time()
            if remaining <= 0 or terminated.is_set():
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(terminated.wait(), remaining)
        await asyncio.shield(server._initiate_server_close())


def install() -> None:
    from hypercorn.asyncio.tcp_server import TCPServer

    original_init, original_read = TCPServer.__init__, TCPServer._read_data
    if getattr(original_init, "pocketkube_idle_watch", False):
        return

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.idle_task = IdleWatch(self)

    async def read_data(self):
        try:
            await original_read(self)
        finally:
            self.idle_task.reader_done()

    init.pocketkube_idle_watch = True
    TCPServer.__init__ = init
    TCPServer._read_data = read_data
