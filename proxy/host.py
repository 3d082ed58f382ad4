"""The proxy's effects on this host outside its nft table: the service-range route,
IP forwarding, hairpin mode on the pod bridge's ports, conntrack entries, and
running `nft -f -`. Every function does one thing and says what failed.
"""
from __future__ import annotations

import asyncio
import glob
import hashlib
import logging
import os
import shutil
import socket

log = logging.getLogger(__name__)


class CommandFailed(RuntimeError):
    pass


async def run(argv: list[str], stdin: str | None = None, *, check: bool = True) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate(stdin.encode() if stdin is not None else None)
    text = out.decode(errors="replace")
    if check and proc.returncode != 0:
        raise CommandFailed(f"{argv[0]} exited {proc.returncode}: {text.strip()[:2000]}")
    return proc.returncode, text


async def nft_apply(script: str) -> None:
    """One `nft -f -`: the whole script is one transaction, applied entirely or not at all."""
    await run(["nft", "-f", "-"], script)


async def nft_delete_table(table: str) -> None:
    await run(["nft", "delete", "table", "ip", table], check=False)


async def nft_ruleset() -> str:
    return (await run(["nft", "list", "ruleset"]))[1]


def route_metric(table: str) -> int:
    """Each proxy's route has a metric of its own, so two clusters sharing a range (tests,
    side by side on one host) each remove only their own route on cleanup."""
    return 1 + int(hashlib.sha256(table.encode()).hexdigest()[:8], 16) % 65000


async def route_service_range(cidr: str, table: str) -> None:
    """Keep the whole service range on this machine.

    A `local` route rather than `unreachable`: the kernel refuses a connect() to an
    unreachable destination before the nat output hook runs, so the host itself could
    not reach a ClusterIP; with `local` it can (the output DNAT reroutes the packet),
    and an address with no rule is answered here (refused), never sent out."""
    await run(["ip", "route", "replace", "local", cidr, "dev", "lo", "table", "local",
               "metric", str(route_metric(table))])


async def unroute_service_range(cidr: str, table: str) -> None:
    await run(["ip", "route", "del", "local", cidr, "dev", "lo", "table", "local", "metric", str(route_metric(table))],
              check=False)


def enable_ip_forward() -> None:
    path = "/proc/sys/net/ipv4/ip_forward"
    try:
        with open(path) as f:
            if f.read().strip() == "1":
                return
        with open(path, "w") as f:
            f.write("1")
        log.info("set net.ipv4.ip_forward=1")
    except OSError as e:
        log.warning("cannot set net.ipv4.ip_forward: %s", e)


def enable_route_localnet(bridge: str) -> bool:
    """route_localnet on the pod bridge: a host client's 127.0.0.1 -> NodePort connection,
    DNAT'd to a pod, leaves through the bridge with a loopback source (masqueraded only
    after routing), and its replies come back to 127.0.0.1 through it; without the
    sysctl the kernel drops both as martians. Only this interface, not conf/all.
    Returns whether it is on (False until the bridge exists)."""
    path = f"/proc/sys/net/ipv4/conf/{bridge}/route_localnet"
    try:
        with open(path) as f:
            if f.read().strip() == "1":
                return True
        with open(path, "w") as f:
            f.write("1")
        log.info("set net.ipv4.conf.%s.route_localnet=1 (NodePorts on 127.0.0.1)", bridge)
        return True
    except OSError:
        return False


def set_hairpin(bridge: str) -> int:
    """hairpin_mode on every port of the pod bridge (netavark leaves it off), so a pod
    reaches itself through its own Service. Returns how many ports were switched on."""
    changed = 0
    for port in glob.glob(f"/sys/class/net/{bridge}/brif/*/hairpin_mode"):
        try:
            with open(port) as f:
                if f.read().strip() == "1":
                    continue
            with open(port, "w") as f:
                f.write("1")
            changed += 1
        except OSError as e:
            log.debug("hairpin %s: %s", port, e)
    return changed


_warned_conntrack = False


async def conntrack_delete(args: list[str]) -> None:
    """`conntrack -D ...`; exit 1 means nothing matched, which is fine."""
    global _warned_conntrack
    if shutil.which("conntrack") is None:
        if not _warned_conntrack:
            log.warning("conntrack is not installed: stale UDP entries are not cleared (apt-get install conntrack)")
            _warned_conntrack = True
        return
    await run(["conntrack", "-D", *args], check=False)


def node_ip() -> str:
    """The source address of the default route (nothing is sent), else loopback."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def is_root() -> bool:
    return os.geteuid() == 0
