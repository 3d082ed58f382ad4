"""The `pocketkube` command.

  pocketkube up --data-dir DIR     API server + controllers + node agent in one process
  pocketkube apiserver ...         the API server alone (kube-apiserver's flags)
  pocketkube controllers ...       scheduler and controllers (delegates to controllers.main)
  pocketkube nodeagent ...         the node agent (delegates to nodeagent.main)
  pocketkube proxy ...             the Service proxy, nftables (delegates to proxy.main)
  pocketkube dns ...               the cluster DNS server (delegates to clusterdns.main)
  pocketkube snapshot save FILE    copy the cluster's store (SQLite online backup; etcd's snapshot)
  pocketkube snapshot restore FILE replace the store with a snapshot (server stopped)
  pocketkube version

Each component is imported only when its command runs.
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from importlib import metadata

from .components import run_component
from .up import add_up_flags, run_up

KUBERNETES_API_VERSION = "v1.33"


def _version() -> str:
    try:
        return metadata.version("pocketkube")
    except metadata.PackageNotFoundError:
        return "0.0.0+unknown"


def cmd_version(_: argparse.Namespace, __: list[str]) -> int:
    print(f"pocketkube v{_version()} (serves the Kubernetes {KUBERNETES_API_VERSION} API)")
    return 0


def cmd_apiserver(ns: argparse.Namespace, rest: list[str]) -> int:
    from apiserver.assembly.options import options_from_args
    from apiserver.assembly.server import ServerSetupError, configure_logging, install_signal_handlers, serve

    opts = options_from_args(ns)
    configure_logging()
    if opts.workers > 1:
        from apiserver.assembly.workers import run_workers

        try:
            return run_workers(opts)
        except ServerSetupError as e:
            print(f"pocketkube apiserver: {e}", file=sys.stderr)
            return 1

    async def main() -> None:
        shutdown = asyncio.Event()
        install_signal_handlers(shutdown)
        await serve(opts, shutdown)

    try:
        asyncio.run(main())
    except ServerSetupError as e:
        print(f"pocketkube apiserver: {e}", file=sys.stderr)
        return 1
    return 0


def _delegate(module: str):
    def cmd(_: argparse.Namespace, rest: list[str]) -> int:
        return run_component(module, rest)
    return cmd


def build_parser() -> argparse.ArgumentParser:
    from apiserver.assembly.options import add_flags, add_worker_flags

    p = argparse.ArgumentParser(prog="pocketkube", description="Kubernetes, small enough to read.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    up = sub.add_parser("up", help="run the API server, controllers and a node agent in one process")
    add_up_flags(up)
    up.set_defaults(func=lambda ns, rest: run_up(ns))

    api = sub.add_parser("apiserver", help="run the API server alone")
    add_flags(api)
    add_worker_flags(api)
    api.set_defaults(func=cmd_apiserver)

    # The components parse their own flags: everything after the subcommand is theirs.
    ctl = sub.add_parser("controllers", help="run the scheduler and controllers (--kubeconfig K)", add_help=False)
    ctl.set_defaults(func=_delegate("controllers.main"))
    agent = sub.add_parser("nodeagent", help="run a node agent (--kubeconfig K --node-name N)", add_help=False)
    agent.set_defaults(func=_delegate("nodeagent.main"))
    proxy = sub.add_parser("proxy", help="run the Service proxy (--kubeconfig K [--cleanup])", add_help=False)
    proxy.set_defaults(func=_delegate("proxy.main"))
    dns = sub.add_parser("dns", help="run the cluster DNS server (--kubeconfig K)", add_help=False)
    dns.set_defaults(func=_delegate("clusterdns.main"))

    from . import join, snapshot, tokens

    tok = sub.add_parser("token", help="bootstrap tokens for joining nodes (token create|list|delete)")
    tokens.add_token_flags(tok)
    tok.set_defaults(func=lambda ns, rest: tokens.run_token(ns))
    jn = sub.add_parser("join", help="run a node agent that joins with a bootstrap token (as `token create` prints)")
    join.add_join_flags(jn)
    jn.set_defaults(func=join.run_join)

    snap = sub.add_parser("snapshot", help="save or restore a snapshot of the cluster's store")
    snapshot.add_flags(snap)
    snap.set_defaults(func=lambda ns, rest: snapshot.run(ns))

    ver = sub.add_parser("version", help="print the version")
    ver.set_defaults(func=cmd_version)
    return p


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Until the API server installs its own handlers (its graceful stop), SIGTERM stops it
    # the way SIGINT does: importing it takes a second or two, and a stop asked for then
    # ends the process quietly, with nothing started yet to clean up.
    early_stop = threading.current_thread() is threading.main_thread() and argv[:1] in (["apiserver"], ["up"])
    previous = signal.signal(signal.SIGTERM, _interrupt) if early_stop else None
    try:
        parser = build_parser()
        # Delegated commands take their argv untouched (including --help).
        if argv and argv[0] in ("controllers", "nodeagent", "proxy", "dns"):
            ns, rest = parser.parse_args(argv[:1]), argv[1:]
        elif argv and argv[0] == "join":   # flags it does not know go to the node agent
            ns, rest = parser.parse_known_args(argv)
        else:
            ns, rest = parser.parse_args(argv), []
        return ns.func(ns, rest)
    except KeyboardInterrupt:
        return 0
    finally:
        if early_stop and signal.getsignal(signal.SIGTERM) is _interrupt:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
