"""Facts about the host the Node object reports: capacity, addresses, OS (read from /proc)."""

from __future__ import annotations

import os
import platform
import shutil
import socket

ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


def _meminfo_bytes(field: str) -> int:
    """One line of /proc/meminfo ("MemTotal:  16318412 kB") in bytes; 0 if unreadable."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def memory_bytes() -> int:
    return _meminfo_bytes("MemTotal")


def memory_available_bytes() -> int:
    return _meminfo_bytes("MemAvailable")


def os_image() -> str:
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def machine_id() -> str:
    for p in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(p) as f:
                return f.read().strip()
        except OSError:
            continue
    return ""


def host_ip() -> str:
    """The address other machines (and pods) reach this host on: the source address
    of the default route, found without sending anything."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 1))
        return s.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        s.close()


def capacity(root_dir: str) -> dict[str, str]:
    disk = shutil.disk_usage(root_dir if os.path.exists(root_dir) else "/")
    return {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{memory_bytes() // 1024}Ki",
        "ephemeral-storage": f"{disk.total // 1024}Ki",
        "pods": "110",
        "hugepages-2Mi": "0",
        "hugepages-1Gi": "0",
    }


def allocatable(cap: dict[str, str], reserved_memory: int = 0, eviction_memory: int = 100 * 2**20) -> dict[str, str]:
    """Capacity less the reservations (--kube-reserved, --system-reserved) and the hard
    eviction threshold for memory.available (100Mi by default), as upstream."""
    out = dict(cap)
    mem_ki = int(cap["memory"].removesuffix("Ki"))
    out["memory"] = f"{max(mem_ki - (reserved_memory + eviction_memory) // 1024, 0)}Ki"
    disk_ki = int(cap["ephemeral-storage"].removesuffix("Ki"))
    out["ephemeral-storage"] = str(disk_ki * 1024 * 9 // 10)
    return out


def node_info(runtime_version: str, kubelet_version: str) -> dict[str, str]:
    uname = platform.uname()
    mid = machine_id()
    return {
        "machineID": mid,
        "systemUUID": mid,
        "bootID": _boot_id(),
        "kernelVersion": uname.release,
        "osImage": os_image(),
        "containerRuntimeVersion": f"podman://{runtime_version}",
        "kubeletVersion": kubelet_version,
        "kubeProxyVersion": kubelet_version,
        "operatingSystem": "linux",
        "architecture": ARCH.get(uname.machine, uname.machine),
    }


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""
