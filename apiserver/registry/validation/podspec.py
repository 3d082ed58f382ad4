"""PodSpec rules (upstream's ValidatePodSpec, the parts clients meet in practice),
shared by pods, pod templates and replication controllers."""
from __future__ import annotations

from apiserver.machinery import names
from apiserver.machinery.errors import Cause

from . import field, meta, quantities

RESTART_POLICIES = ("Always", "OnFailure", "Never")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
PROTOCOLS = ("SCTP", "TCP", "UDP")
TERMINATION_MESSAGE_POLICIES = ("FallbackToLogsOnError", "File")
TOLERATION_OPERATORS = ("Equal", "Exists")
TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")

VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc",
    "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image",
)


def _volumes(volumes, path: str) -> tuple[set[str], list[Cause]]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for p, v in field.objects(volumes, path):
        name = v.get("name") or ""
        if not name:
            causes.append(field.required(field.child(p, "name"), ""))
        else:
            causes += field.unique_name(field.child(p, "name"), name, seen, names.is_dns1123_label)
        sources = [s for s in VOLUME_SOURCES if v.get(s) is not None]
        if not sources:
            causes.append(field.required(p, "must specify a volume type"))
        elif len(sources) > 1:
            causes.append(field.forbidden(field.child(p, sources[1]), "may not specify more than 1 volume type"))
        for kind, ref in (("configMap", "name"), ("secret", "secretName"), ("persistentVolumeClaim", "claimName")):
            src = v.get(kind)
            if isinstance(src, dict) and kind != "configMap" and not src.get(ref):
                causes.append(field.required(field.child(field.child(p, kind), ref), ""))
        host_path = v.get("hostPath")
        if isinstance(host_path, dict) and not host_path.get("path"):
            causes.append(field.required(field.child(field.child(p, "hostPath"), "path"), ""))
    return seen, causes


def _ports(ports, path: str, host_network: bool, port_names: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    for p, port in field.objects(ports, path):
        name = port.get("name")
        if name:
            causes += field.unique_name(field.child(p, "name"), name, port_names, names.is_valid_port_name)
        cp = port.get("containerPort")
        if cp is None:
            causes.append(field.required(field.child(p, "containerPort"), ""))
        elif isinstance(cp, int):
            causes += field.each_invalid(field.child(p, "containerPort"), cp, names.is_valid_port_num(cp))
        hp = port.get("hostPort")
        if isinstance(hp, int) and hp != 0:
            causes += field.each_invalid(field.child(p, "hostPort"), hp, names.is_valid_port_num(hp))
            if host_network and isinstance(cp, int) and hp != cp:
                causes.append(field.invalid(field.child(p, "hostPort"), hp,
                                            "must match `containerPort` when `hostNetwork` is true"))
        proto = port.get("protocol")
        if proto is None:
            causes.append(field.required(field.child(p, "protocol"), ""))
        else:
            causes += field.supported(field.child(p, "protocol"), proto, PROTOCOLS)
    return causes


def _resources(res, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if not isinstance(res, dict):
        return causes
    limits, requests = res.get("limits") or {}, res.get("requests") or {}
    causes += quantities.validate_resource_list(limits, field.child(path, "limits"))
    causes += quantities.validate_resource_list(requests, field.child(path, "requests"))
    if isinstance(limits, dict) and isinstance(requests, dict):
        for name, req in requests.items():
            lim = limits.get(name)
            rq, lq = quantities.parse(req), quantities.parse(lim)
            if lim is not None and rq is not None and lq is not None and rq > lq:
                causes.append(field.invalid(field.key(field.child(path, "requests"), name), req,
                                            f"must be less than or equal to {name} limit of {lim}"))
    return causes


def _env(env, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for p, e in field.objects(env, path):
        name = e.get("name")
        if not name:
            causes.append(field.required(field.child(p, "name"), ""))
        else:
            causes += field.each_invalid(field.child(p, "name"), name, names.is_relaxed_env_var_name(name))
        if e.get("value") and e.get("valueFrom"):
            causes.append(field.invalid(field.child(p, "valueFrom"), "",
                                        "may not be specified when `value` is not empty"))
    return causes


def _container(c: dict, path: str, volumes: set[str], require_image: bool, host_network: bool,
               port_names: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = c.get("name") or ""
    if not name:
        causes.append(field.required(field.child(path, "name"), ""))
    else:
        causes += field.each_invalid(field.child(path, "name"), name, names.is_dns1123_label(name))
    if require_image and not c.get("image"):
        causes.append(field.required(field.child(path, "image"), ""))
    causes += field.supported(field.child(path, "imagePullPolicy"), c.get("imagePullPolicy"), PULL_POLICIES)
    causes += field.supported(field.child(path, "terminationMessagePolicy"), c.get("terminationMessagePolicy"), TERMINATION_MESSAGE_POLICIES)
    causes += _ports(c.get("ports"), field.child(path, "ports"), host_network, port_names)
    causes += _env(c.get("env"), field.child(path, "env"))
    causes += _resources(c.get("resources"), field.child(path, "resources"))
    mount_paths: set[str] = set()
    for p, m in field.objects(c.get("volumeMounts"), field.child(path, "volumeMounts")):
        mname = m.get("name") or ""
        if not mname:
            causes.append(field.required(field.child(p, "name"), ""))
        elif mname not in volumes:
            causes.append(field.not_found(field.child(p, "name"), mname))
        mp = m.get("mountPath") or ""
        if not mp:
            causes.append(field.required(field.child(p, "mountPath"), ""))
        elif mp in mount_paths:
            causes.append(field.invalid(field.child(p, "mountPath"), mp, "must be unique"))
        mount_paths.add(mp)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if not isinstance(pr, dict):
            continue
        pp = field.child(path, probe)
        handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if pr.get(h) is not None]
        if not handlers:
            causes.append(field.required(pp, "must specify a handler type"))
        elif len(handlers) > 1:
            causes.append(field.forbidden(field.child(pp, handlers[1]), "may not specify more than 1 handler type"))
        if probe in ("livenessProbe", "startupProbe") and pr.get("successThreshold") not in (None, 1):
            causes.append(field.invalid(field.child(pp, "successThreshold"), pr["successThreshold"], "must be 1"))
    return causes


def validate_pod_spec(spec, path: str, require_image: bool = True) -> list[Cause]:
    if not isinstance(spec, dict):
        return [field.required(path, "")]
    causes: list[Cause] = []
    volumes, vol_causes = _volumes(spec.get("volumes"), field.child(path, "volumes"))
    causes += vol_causes
    host_network = bool((spec.get("hostNetwork")))
    containers = spec.get("containers") or []
    if not containers:
        causes.append(field.required(field.child(path, "containers"), ""))
    seen: set[str] = set()
    port_names: set[str] = set()
    for key in ("initContainers", "containers"):
        for p, c in field.objects(spec.get(key), field.child(path, key)):
            causes += _container(c, p, volumes, require_image, host_network, port_names)
            name = c.get("name")
            if name:
                if name in seen:
                    causes.append(field.duplicate(field.child(p, "name"), name))
                seen.add(name)
    causes += field.supported(field.child(path, "restartPolicy"), spec.get("restartPolicy"), RESTART_POLICIES)
    causes += field.supported(field.child(path, "dnsPolicy"), spec.get("dnsPolicy"), DNS_POLICIES)
    ads = spec.get("activeDeadlineSeconds")
    if isinstance(ads, int) and ads <= 0:
        causes.append(field.invalid(field.child(path, "activeDeadlineSeconds"), ads,
                                    "must be between 1 and 2147483647, inclusive"))
    sa = spec.get("serviceAccountName")
    if sa:
        causes += field.each_invalid(field.child(path, "serviceAccountName"), sa, names.is_dns1123_subdomain(sa))
    node = spec.get("nodeName")
    if node:
        causes += field.each_invalid(field.child(path, "nodeName"), node, names.is_dns1123_subdomain(node))
    for p, t in field.objects(spec.get("tolerations"), field.child(path, "tolerations")):
        causes += field.supported(field.child(p, "operator"), t.get("operator") or None, TOLERATION_OPERATORS)
        causes += field.supported(field.child(p, "effect"), t.get("effect") or None, TAINT_EFFECTS)
        if t.get("operator") == "Exists" and t.get("value"):
            causes.append(field.invalid(field.child(p, "operator"), t.get("operator"),
                                        "value must be empty when `operator` is 'Exists'"))
        if t.get("tolerationSeconds") is not None and t.get("effect") != "NoExecute":
            causes.append(field.invalid(field.child(p, "effect"), t.get("effect") or "",
                                        "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    for i, gate in enumerate(spec.get("readinessGates") or []):
        if isinstance(gate, dict) and gate.get("conditionType"):
            p = field.child(field.index(field.child(path, "readinessGates"), i), "conditionType")
            causes += field.each_invalid(p, gate["conditionType"], names.is_qualified_name(gate["conditionType"]))
    return causes


def validate_pod_template(template, path: str, selector: dict | None) -> list[Cause]:
    """A PodTemplateSpec (pod templates, replication controllers): its labels
    must carry the owner's selector; its spec is a PodSpec."""
    if not isinstance(template, dict):
        return [field.required(path, "")]
    causes: list[Cause] = []
    labels = (template.get("metadata") or {}).get("labels") or {}
    causes += meta.validate_labels(labels, field.child(path, "metadata.labels"))
    if selector and any(labels.get(k) != v for k, v in selector.items()):
        causes.append(field.invalid(field.child(path, "metadata.labels"), labels,
                                    "`selector` does not match template `labels`"))
    spec = template.get("spec") or {}
    causes += validate_pod_spec(spec, field.child(path, "spec"))
    return causes
