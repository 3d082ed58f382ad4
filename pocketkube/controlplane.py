"""The components `pocketkube up` runs on its node, as static pods for its node agent.

kubeadm runs the API server, controller manager and scheduler as static pods, and
users find them as mirror pods in kube-system (`kube-apiserver-<node>`, ...), as
they find the proxy and DNS there. Here they run in this process; each is given to
the node agent as a StaticComponent: its own log file (componentlogs) and its
health: the API server's /readyz, as kubeadm's probe asks it, and for the others
whether their task still runs (they serve no health endpoint of their own).
"""
from __future__ import annotations

import argparse
import asyncio
import ssl
from importlib import metadata

from nodeagent.staticpods import StaticComponent

from .componentlogs import ComponentLogHandler

CONTROL_PLANE = {"tier": "control-plane"}


def pocketkube_image() -> str:
    """What the mirror pods name as their image: this program, at its version."""
    try:
        return f"localhost/pocketkube:v{metadata.version('pocketkube')}"
    except metadata.PackageNotFoundError:
        return "localhost/pocketkube:latest"


def _apiserver_ready(host: str, port: int):
    async def healthy() -> bool:
        # as the kubelet's HTTPS probe: the serving certificate is not verified
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
        try:
            writer.write(f"GET /readyz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            status = await reader.readline()
            return status.split(b" ")[1:2] == [b"200"]
        finally:
            writer.close()
    return healthy


def _task_running(tasks: dict[str, asyncio.Task], name: str):
    async def healthy() -> bool:
        task = tasks.get(name)
        return task is not None and not task.done()
    return healthy


def components(ns: argparse.Namespace, running, logs: ComponentLogHandler, tasks: dict[str, asyncio.Task],
               *, network: bool, dns: bool, image: str) -> list[StaticComponent]:
    """`tasks` (name -> the component's task) may be filled after this returns."""
    bind = running.opts.bind_address
    host = "127.0.0.1" if bind in ("0.0.0.0", "::") else bind
    out = [StaticComponent("kube-apiserver", ["pocketkube", "apiserver", f"--secure-port={running.port}",
                                              f"--data-dir={running.opts.data_dir}"],
                           logs.path_of("kube-apiserver"), _apiserver_ready(host, running.port), image,
                           {"component": "kube-apiserver", **CONTROL_PLANE})]
    if not ns.no_controllers:
        for name in ("kube-controller-manager", "kube-scheduler"):
            out.append(StaticComponent(name, ["pocketkube", "controllers"], logs.path_of(name),
                                       _task_running(tasks, "controllers"), image,
                                       {"component": name, **CONTROL_PLANE}))
    if network:
        out.append(StaticComponent("kube-proxy", ["pocketkube", "proxy"], logs.path_of("kube-proxy"),
                                   _task_running(tasks, "proxy"), image, {"k8s-app": "kube-proxy"}))
    if network and dns:
        out.append(StaticComponent("coredns", ["pocketkube", "dns"], logs.path_of("coredns"),
                                   _task_running(tasks, "dns"), image, {"k8s-app": "kube-dns"}))
    return out
