"""The Pod Security Standards checks (baseline and restricted, "latest").

Each check looks at a PodSpec (plus pod metadata) and returns None or
(forbidden reason, detail) worded as upstream's pod-security admission, e.g.
("privileged", 'container "c" must not set securityContext.privileged=true').
Checks are kept in upstream's check-ID order, which is the order of the reasons
in the refusal message.
"""
from __future__ import annotations

from typing import Callable

Result = tuple[str, str] | None

BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                 "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret", "image"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}


def _containers(spec: dict) -> list[dict]:
    return [c for key in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(key) or [] if isinstance(c, dict)]


def _sc(c: dict) -> dict:
    return c.get("securityContext") or {}


def _plural(noun: str, names: list[str]) -> str:
    quoted = ", ".join(f'"{n}"' for n in names)
    return f"{noun}s {quoted}" if len(names) > 1 else f"{noun} {quoted}"


def _containers_where(spec: dict, bad: Callable[[dict], bool]) -> list[str]:
    return [c.get("name", "") for c in _containers(spec) if bad(c)]


def allow_privilege_escalation(spec: dict, meta: dict) -> Result:
    bad = _containers_where(spec, lambda c: _sc(c).get("allowPrivilegeEscalation") is not False)
    if bad:
        verb = "must set" if len(bad) == 1 else "must set"
        return ("allowPrivilegeEscalation != false",
                f"{_plural('container', bad)} {verb} securityContext.allowPrivilegeEscalation=false")
    return None


def capabilities_baseline(spec: dict, meta: dict) -> Result:
    details = []
    for c in _containers(spec):
        extra = [cap for cap in ((_sc(c).get("capabilities") or {}).get("add") or []) if cap not in BASELINE_CAPS]
        if extra:
            caps = ", ".join(f'"{x}"' for x in extra)
            details.append(f'container "{c.get("name", "")}" must not include {caps} in securityContext.capabilities.add')
    return ("non-default capabilities", "; ".join(details)) if details else None


def capabilities_restricted(spec: dict, meta: dict) -> Result:
    no_drop, details = [], []
    for c in _containers(spec):
        caps = _sc(c).get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            no_drop.append(c.get("name", ""))
    if no_drop:
        details.append(f'{_plural("container", no_drop)} must set securityContext.capabilities.drop=["ALL"]')
    for c in _containers(spec):
        extra = [cap for cap in ((_sc(c).get("capabilities") or {}).get("add") or []) if cap != "NET_BIND_SERVICE"]
        if extra:
            caps = ", ".join(f'"{x}"' for x in extra)
            details.append(f'container "{c.get("name", "")}" must not include {caps} in securityContext.capabilities.add')
    return ("unrestricted capabilities", "; ".join(details)) if details else None


def host_namespaces(spec: dict, meta: dict) -> Result:
    on = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    return ("host namespaces", ", ".join(on)) if on else None


def host_path_volumes(spec: dict, meta: dict) -> Result:
    bad = [v.get("name", "") for v in spec.get("volumes") or [] if isinstance(v, dict) and v.get("hostPath") is not None]
    return ("hostPath volumes", _plural("volume", bad)) if bad else None


def host_ports(spec: dict, meta: dict) -> Result:
    details = []
    for c in _containers(spec):
        ports = [str(p["hostPort"]) for p in c.get("ports") or [] if isinstance(p, dict) and p.get("hostPort")]
        if ports:
            details.append(f'container "{c.get("name", "")}" uses hostPort{"s" if len(ports) > 1 else ""} {", ".join(ports)}')
    return ("hostPort", "; ".join(details)) if details else None


def privileged(spec: dict, meta: dict) -> Result:
    bad = _containers_where(spec, lambda c: _sc(c).get("privileged") is True)
    return ("privileged", f"{_plural('container', bad)} must not set securityContext.privileged=true") if bad else None


def proc_mount(spec: dict, meta: dict) -> Result:
    bad = _containers_where(spec, lambda c: _sc(c).get("procMount") not in (None, "Default"))
    return ("procMount", f'{_plural("container", bad)} must not set securityContext.procMount="Unmasked"') if bad else None


def restricted_volumes(spec: dict, meta: dict) -> Result:
    details = []
    for v in spec.get("volumes") or []:
        if not isinstance(v, dict):
            continue
        kinds = [k for k in v if k != "name" and k not in RESTRICTED_VOLUMES]
        if kinds:
            details.append(f'volume "{v.get("name", "")}" uses restricted volume type "{kinds[0]}"')
    return ("restricted volume types", ", ".join(details)) if details else None


def run_as_non_root(spec: dict, meta: dict) -> Result:
    pod_level = (spec.get("securityContext") or {}).get("runAsNonRoot")
    explicit_false = _containers_where(spec, lambda c: _sc(c).get("runAsNonRoot") is False)
    if pod_level is False:
        return ("runAsNonRoot != true", "pod must not set securityContext.runAsNonRoot=false")
    if explicit_false:
        return ("runAsNonRoot != true", f"{_plural('container', explicit_false)} must not set securityContext.runAsNonRoot=false")
    if pod_level is True:
        return None
    unset = _containers_where(spec, lambda c: _sc(c).get("runAsNonRoot") is not True)
    if unset:
        return ("runAsNonRoot != true", f"pod or {_plural('container', unset)} must set securityContext.runAsNonRoot=true")
    return None


def run_as_user(spec: dict, meta: dict) -> Result:
    if (spec.get("securityContext") or {}).get("runAsUser") == 0:
        return ("runAsUser=0", "pod must not set runAsUser=0")
    bad = _containers_where(spec, lambda c: _sc(c).get("runAsUser") == 0)
    return ("runAsUser=0", f"{_plural('container', bad)} must not set runAsUser=0") if bad else None


def _seccomp_type(sc: dict) -> str | None:
    return (sc.get("seccompProfile") or {}).get("type")


def seccomp_baseline(spec: dict, meta: dict) -> Result:
    if _seccomp_type(spec.get("securityContext") or {}) == "Unconfined":
        return ("seccompProfile", 'pod must not set securityContext.seccompProfile.type to "Unconfined"')
    bad = _containers_where(spec, lambda c: _seccomp_type(_sc(c)) == "Unconfined")
    if bad:
        return ("seccompProfile", f'{_plural("container", bad)} must not set securityContext.seccompProfile.type to "Unconfined"')
    return None


def seccomp_restricted(spec: dict, meta: dict) -> Result:
    pod_type = _seccomp_type(spec.get("securityContext") or {})
    if pod_type == "Unconfined":
        return ("seccompProfile", 'pod must not set securityContext.seccompProfile.type to "Unconfined"')
    bad = _containers_where(spec, lambda c: _seccomp_type(_sc(c)) == "Unconfined")
    if bad:
        return ("seccompProfile", f'{_plural("container", bad)} must not set securityContext.seccompProfile.type to "Unconfined"')
    if pod_type in ("RuntimeDefault", "Localhost"):
        return None
    unset = _containers_where(spec, lambda c: _seccomp_type(_sc(c)) not in ("RuntimeDefault", "Localhost"))
    if unset:
        return ("seccompProfile", f'pod or {_plural("container", unset)} must set securityContext.seccompProfile.type '
                                  'to "RuntimeDefault" or "Localhost"')
    return None


def sysctls(spec: dict, meta: dict) -> Result:
    bad = [s.get("name", "") for s in (spec.get("securityContext") or {}).get("sysctls") or []
           if isinstance(s, dict) and s.get("name") not in SAFE_SYSCTLS]
    return ("forbidden sysctls", ", ".join(bad)) if bad else None


# (check, applies at baseline too?) in upstream's check-ID order.
CHECKS: list[tuple[Callable[[dict, dict], Result], bool]] = [
    (allow_privilege_escalation, False),
    (capabilities_baseline, True),
    (capabilities_restricted, False),
    (host_namespaces, True),
    (host_path_volumes, True),
    (host_ports, True),
    (privileged, True),
    (proc_mount, True),
    (restricted_volumes, False),
    (run_as_non_root, False),
    (run_as_user, False),
    (seccomp_baseline, True),
    (seccomp_restricted, False),
    (sysctls, True),
]


def evaluate(level: str, spec: dict, meta: dict | None = None) -> list[str]:
    """`reason (detail)` for each failed check at `level` (privileged: none)."""
    if level not in ("baseline", "restricted"):
        return []
    out = []
    for check, baseline in CHECKS:
        if level == "baseline" and not baseline:
            continue
        if level == "restricted" and check is seccomp_baseline:
            continue  # the restricted seccomp check covers it
        if level == "restricted" and check is capabilities_baseline:
            continue  # the restricted capabilities check covers it
        res = check(spec, meta or {})
        if res is not None:
            out.append(f"{res[0]} ({res[1]})")
    return out
