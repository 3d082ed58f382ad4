"""Routing log records to their component's file, in the CRI format the node agent reads."""
from __future__ import annotations

import logging

from nodeagent.server import logs as LG
from pocketkube.componentlogs import ComponentLogHandler, component_of, cri_lines


def test_component_of_takes_the_longest_prefix():
    assert component_of("apiserver.http") == "kube-apiserver"
    assert component_of("hypercorn.error") == "kube-apiserver"
    assert component_of("controllers.deployments") == "kube-controller-manager"
    assert component_of("controllers.scheduler.scheduler") == "kube-scheduler"
    assert component_of("clusterdns.server") == "coredns"
    assert component_of("proxy.proxier") == "kube-proxy"
    assert component_of("proxyish") is None and component_of("nodeagent.agent") is None


def test_cri_lines_parse_back_line_by_line():
    data = cri_lines("first\nTraceback:\n  second", 1700000000.25)
    lines, rest = LG.parse(data)
    assert rest == b"" and [ln.text for ln in lines] == [b"first\n", b"Traceback:\n", b"  second\n"]
    assert lines[0].stream == "stderr" and lines[0].ts == "2023-11-14T22:13:20.250000000Z"


def test_handler_writes_each_component_its_own_file(tmp_path):
    h = ComponentLogHandler(str(tmp_path))
    h.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    for name in ("apiserver", "controllers.scheduler.scheduler", "elsewhere"):
        h.emit(logging.LogRecord(name, logging.INFO, __file__, 1, "hello %s", (name,), None))
    h.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kube-apiserver.log", "kube-scheduler.log"]
    (line,), _ = LG.parse((tmp_path / "kube-scheduler.log").read_bytes())
    assert line.text == b"controllers.scheduler.scheduler: hello controllers.scheduler.scheduler\n"
