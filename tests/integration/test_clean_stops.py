"""Clean stops of real processes (issue 20): SIGINT/SIGTERM with open watches and writes in
flight, or while storage was never reached, exit 0 with no traceback; a second signal
exits at once, quietly."""
from __future__ import annotations

import contextlib
import time
import signal
import threading
from tests.harness import ServerProcess, free_port

GENEROUS_S = 60


@contextlib.contextmanager
def _busy(srv: ServerProcess, watches: int = 5, writers: int = 2):
    """Open watches and a stream of writes against `srv` until the block ends."""
    stop = threading.Event()
    started = threading.Barrier(watches + writers + 1, timeout=GENEROUS_S)

    def watch():
        with contextlib.suppress(Exception), srv.http_client(timeout=None) as c, \
                c.stream("GET", "/api/v1/namespaces/default/configmaps?watch=true") as r:
            started.wait()
            for _ in r.iter_lines():
                if stop.is_set():
                    return

    def write(n: int):
        with contextlib.suppress(Exception), srv.http_client(http2=True) as c:
            c.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": f"w{n}-first"}})
            started.wait()
            i = 0
            while not stop.is_set():
                c.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": f"w{n}-{i}"}})
                i += 1

    threads = [threading.Thread(target=watch, daemon=True) for _ in range(watches)]
    threads += [threading.Thread(target=write, args=(n,), daemon=True) for n in range(writers)]
    for t in threads:
        t.start()
    started.wait()
    try:
        yield
    finally:
        stop.set()


def _stopped(srv: ServerProcess, *signals: signal.Signals) -> int:
    for s in signals:
        srv.proc.send_signal(s)
    try:
        return srv.proc.wait(GENEROUS_S)
    finally:
        srv.stop()


def _wait_for_log(srv: ServerProcess, text: str) -> None:
    deadline = time.monotonic() + GENEROUS_S
    while text not in srv.log(100000):
        assert srv.alive() and time.monotonic() < deadline, srv.log()
        time.sleep(0.1)


def _assert_quiet(srv: ServerProcess) -> None:
    log = srv.log(100000)
    assert "Traceback" not in log and " ERROR " not in log, log[-4000:]


def test_a_signal_under_load_stops_cleanly(tmp_path):
    # `up`: the API server with the controllers in-process, as hack/local-up-cluster.sh runs it
    srv = ServerProcess(tmp_path, extra_args=["--no-nodeagent"], subcommand="up").start().wait_ready()
    with _busy(srv):
        code = _stopped(srv, signal.SIGINT)
    assert code == 0, srv.log()
    _assert_quiet(srv)


def test_a_second_signal_exits_at_once_quietly(tmp_path):
    srv = ServerProcess(tmp_path, extra_args=["--shutdown-timeout", "5m"]).start().wait_ready()
    with _busy(srv, writers=0):
        srv.proc.send_signal(signal.SIGINT)
        # (two signals sent back to back may reach the process as one)
        _wait_for_log(srv, "signal SIGINT: shutting down")
        code = _stopped(srv, signal.SIGINT)
    assert code == 1
    assert "second signal SIGINT: exiting now" in srv.log()
    _assert_quiet(srv)


def test_a_server_that_never_reached_its_storage_stops_cleanly(tmp_path):
    srv = ServerProcess(tmp_path, extra_args=["--etcd-servers", f"http://127.0.0.1:{free_port()}"]).start()
    _wait_for_log(srv, "Running on https://")   # it listens (503s) and keeps retrying its storage
    assert _stopped(srv, signal.SIGTERM) == 0, srv.log()
    log_text = srv.log(100000)
    assert "Traceback" not in log_text, log_text[-4000:]


def test_an_idle_pooled_connection_does_not_hold_the_stop(tmp_path):
    # The official client keeps its TLS connection in a pool and reads nothing from it, so it
    # never answers the server's close_notify; asyncio would wait 30 s for that answer.
    from kubernetes import client, config

    srv = ServerProcess(tmp_path, extra_args=["--shutdown-timeout", "2s"]).start().wait_ready()
    api = config.new_client_from_config(config_file=str(srv.kubeconfig))
    try:
        client.CoreV1Api(api).list_namespace()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            # well inside asyncio's 30 s SSL shutdown wait: the stop honours --shutdown-timeout
            code = srv.proc.wait(15)
        finally:
            srv.stop()
    finally:
        api.close()
    assert code == 0, srv.log()
    _assert_quiet(srv)
