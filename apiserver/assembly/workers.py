"""`pocketkube apiserver --workers N`: N API-server processes on one port and one store.

One Python process uses one core. As several kube-apiservers share one etcd, N
worker processes share the store here, each with its own watch cache fed from the
store's change stream (etcd's watch; on SQLite the log table, sqlite_follow.py).

The parent binds one listening socket per worker on the one port (SO_REUSEPORT: the
kernel spreads connections over them by address, so an HTTP/2 client's single
connection stays on one worker while many clients spread over all) and makes the
credentials (so --secure-port 0 works and the kubeconfig names the real port), then
forks the workers, each inheriting its socket. The parent keeps every socket open and
serves nothing; it supervises:

- a worker that dies (kill -9, a crash) is forked again on the same socket, with back-off
  if it keeps dying; the connections the kernel gave that socket meanwhile wait in its
  backlog for the new worker, none is refused;
- SIGTERM or SIGINT (Ctrl-C) stops accepting and sends each worker one SIGTERM: they
  drain as a single server does; a second signal kills them at once;
- a worker that cannot start for good (a bad flag) stops the whole server, exit 1;
- workers die with the parent (PR_SET_PDEATHSIG), so nothing is left behind.

Worker 0 does what must happen once per server: compaction and the `kubernetes`
endpoints. The bootstrap (default objects, RBAC policy) runs in every worker, as in
every API server sharing a store: it only creates what is missing, and tolerates losing
a race to another server.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
import traceback

from .options import ServerOptions
from .server import ServerSetupError, WorkerRole, install_signal_handlers, listen_with_credentials, serve

log = logging.getLogger("apiserver")

EXIT_SETUP_ERROR = 3        # a worker's "this will not get better by restarting"
RESTART_BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0)
STABLE_AFTER_S = 30.0       # a worker up this long has its back-off reset
_PR_SET_PDEATHSIG = 1
_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def run_workers(opts: ServerOptions) -> int:
    """Serve with opts.workers processes until SIGTERM/SIGINT; the exit code."""
    socks, creds = listen_with_credentials(opts, sockets=opts.workers)
    return _Supervisor(opts, socks, creds).run()


class _Supervisor:
    def __init__(self, opts: ServerOptions, socks: list, creds):
        self.opts, self.socks, self.creds = opts, socks, creds
        self.children: dict[int, int] = {}        # pid -> worker index
        self.started_at: dict[int, float] = {}    # index -> when last forked
        self.failures: dict[int, int] = {}        # index -> quick deaths in a row
        self.signals = 0
        self.setup_failed = False

    def run(self) -> int:
        if threading.active_count() > 1:
            log.warning("forking workers from a process with %d threads", threading.active_count())
        for sig in _SIGNALS:
            signal.signal(sig, self._on_signal)
        log.info("starting %d API server workers on port %d", self.opts.workers, self.socks[0].getsockname()[1])
        for index in range(self.opts.workers):
            self._fork(index)
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = self.children.pop(pid, None)
            if index is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if self.signals:
                continue
            if code == EXIT_SETUP_ERROR:
                log.error("worker %d cannot start; stopping the server", index)
                self.setup_failed = True
                self._stop_all(signal.SIGTERM)
                continue
            log.warning("worker %d (pid %d) exited with %s; starting it again", index, pid, code)
            self._restart(index)
        self._close_sockets()
        log.info("all workers stopped")
        return 1 if self.setup_failed else 0

    def _restart(self, index: int) -> None:
        quick = time.monotonic() - self.started_at.get(index, 0) < STABLE_AFTER_S
        self.failures[index] = self.failures.get(index, 0) + 1 if quick else 0
        delay = RESTART_BACKOFF_S[min(self.failures[index], len(RESTART_BACKOFF_S) - 1)]
        deadline = time.monotonic() + delay
        while not self.signals and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        if not self.signals:
            self._fork(index)

    def _on_signal(self, signum: int, frame) -> None:
        self.signals += 1
        if self.signals == 1:
            log.info("signal %s: stopping %d workers", signal.Signals(signum).name, len(self.children))
            self._close_sockets()   # new connections are refused rather than left waiting in a backlog
            self._stop_all(signal.SIGTERM)
        else:
            log.warning("second signal %s: killing the workers", signal.Signals(signum).name)
            self._stop_all(signal.SIGKILL)

    def _close_sockets(self) -> None:
        for sock in self.socks:
            sock.close()

    def _stop_all(self, sig: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _fork(self, index: int) -> None:
        pid = _fork_worker(self.opts, self.socks, self.creds, index)
        self.children[pid] = index
        self.started_at[index] = time.monotonic()


def _fork_worker(opts: ServerOptions, socks: list, creds, index: int) -> int:
    """Fork worker `index` on socks[index]; its pid (in the parent)."""
    parent = os.getpid()
    # Signals wait until the child has put its own handlers in place (the parent's would
    # signal the child's copies of its siblings).
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        pid = os.fork()
        if pid == 0:
            for i, sock in enumerate(socks):
                if i != index:
                    sock.close()   # the other workers' queues are theirs alone
            _worker_process(opts, WorkerRole(index, socks[index], creds), parent)  # never returns
        log.info("worker %d is pid %d", index, pid)
        return pid
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


class HelperWorkers:
    """Workers 1..N-1 of a process that is worker 0 itself: `pocketkube up`, whose controllers,
    node agent and proxy share worker 0's event loop. Forked before that process starts any
    thread or event loop. Not restarted when they die (forking again from a process running
    threads is not safe): their socket is theirs alone, so the kernel then sends every new
    connection to the workers left, and the death is logged."""

    def __init__(self, opts: ServerOptions, socks: list, creds):
        self._signalled = False
        self.pids = [_fork_worker(opts, socks, creds, index) for index in range(1, len(socks))]
        for sock in socks[1:]:
            sock.close()   # a dead helper's queue must close with it, not wait for a restart
        self._watcher = threading.Thread(target=self._watch, name="worker-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        for pid in self.pids:
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, -signal.SIGTERM):
                log.warning("API server worker pid %d exited with %s; the other workers serve on", pid, code)

    def stop_soon(self) -> None:
        """One SIGTERM each: they drain as the server does (a second one would stop them at once)."""
        if not self._signalled:
            self._signalled = True
            for pid in self.pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)

    def stop(self, timeout: float = 30.0) -> None:
        """stop_soon, then wait for them; SIGKILL what is left after `timeout`."""
        self.stop_soon()
        self._watcher.join(timeout)
        if self._watcher.is_alive():
            for pid in self.pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._watcher.join(5)


def _die_with_parent(parent: int) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        try:
            ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:   # the parent died before the call above
        os._exit(0)


def _worker_process(opts: ServerOptions, role: WorkerRole, parent: int):
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C reaches the parent, which stops us once
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        _die_with_parent(parent)

        async def main() -> None:
            shutdown = asyncio.Event()
            install_signal_handlers(shutdown, signals=(signal.SIGTERM,))
            await serve(opts, shutdown, worker=role)

        asyncio.run(main())
    except ServerSetupError as e:
        print(f"pocketkube apiserver: worker {role.index}: {e}", file=sys.stderr)
        code = EXIT_SETUP_ERROR
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
