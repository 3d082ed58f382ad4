from nodeagent.pods.spec import argv, qos_class
from nodeagent.runtime.specgen import container_spec, resource_limits, sandbox_spec
from nodeagent.runtime.podman import RLIMITS

POD = {"metadata": {"name": "web", "namespace": "ns", "uid": "0123456789abcdef"},
       "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 80, "hostPort": 8080}]}],
                "hostAliases": [{"ip": "1.2.3.4", "hostnames": ["foo"]}]}}


def test_argv_follows_upstream_rules():
    img = {"Entrypoint": ["/entry"], "Cmd": ["default"]}
    assert argv({}, img, {}) == ["/entry", "default"]
    assert argv({"args": ["a"]}, img, {}) == ["/entry", "a"]
    assert argv({"command": ["sh"]}, img, {}) == ["sh"]
    assert argv({"command": ["echo", "$(X)"], "args": ["$(Y)"]}, img, {"X": "1"}) == ["echo", "1", "$(Y)"]


def test_resource_limits_and_qos():
    c = {"resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}
    lim = resource_limits(c)
    assert lim["memory"]["limit"] == 64 * 2**20
    assert lim["cpu"]["quota"] == 50000 and lim["cpu"]["period"] == 100000
    assert qos_class({"spec": {"containers": [c]}}) == "Guaranteed"
    assert qos_class({"spec": {"containers": [{"resources": {"requests": {"cpu": "1"}}}]}}) == "Burstable"
    assert qos_class({"spec": {"containers": [{}]}}) == "BestEffort"


def test_sandbox_and_container_specs():
    sb = sandbox_spec(POD, "n1")
    assert sb["hostname"] == "web" and sb["share"] == ["net", "ipc", "uts"]
    assert sb["portmappings"] == [{"container_port": 80, "host_port": 8080, "protocol": "tcp"}]
    assert sb["hostadd"] == ["foo:1.2.3.4"]
    c = {"name": "c", "image": "i", "command": ["sleep", "1"],
         "securityContext": {"runAsUser": 1000, "capabilities": {"add": ["NET_ADMIN"]}}}
    cs = container_spec(POD, c, command=argv(c, {}, {}), node="n1", kind="app", attempt=2, sandbox_id="sb",
                        image="i", env={}, mounts=[])
    assert cs["entrypoint"] == ["sleep"] and cs["command"] == ["1"]
    assert cs["user"] == "1000" and cs["cap_add"] == ["CAP_NET_ADMIN"]
    assert cs["labels"]["io.pocketkube.container.restartCount"] == "2"
    # both rlimits or none: one alone replaces the containers.conf defaults and breaks starts here
    assert {r["type"] for r in cs["r_limits"]} == {"nofile", "nproc"} and cs["r_limits"] is RLIMITS
    assert all(r["hard"] <= 20000 for r in RLIMITS)


def test_seccomp_is_runtime_default_unless_turned_off():
    """No profile is RuntimeDefault (--seccomp-default, on by default) and, with the flag
    off, Unconfined as upstream's kubelet; the sandbox (catatonit alone in its PID namespace)
    is unconfined unless the pod names a profile; the container's profile wins over the pod's."""
    import copy

    import pytest

    def spec(pod_sc=None, c_sc=None, seccomp_default=True):
        pod = copy.deepcopy(POD)
        if pod_sc:
            pod["spec"]["securityContext"] = {"seccompProfile": pod_sc}
        c = {"name": "c", "image": "i", "command": ["true"], **({"securityContext": {"seccompProfile": c_sc}}
                                                                 if c_sc else {})}
        cs = container_spec(pod, c, command=["true"], node="n1", kind="app", attempt=0, sandbox_id="sb",
                            image="i", env={}, mounts=[], seccomp_root="/var/lib/agent/seccomp",
                            seccomp_default=seccomp_default)
        return sandbox_spec(pod, "n1").get("security_opt"), cs.get("seccomp_profile_path")

    assert spec() == (["seccomp=unconfined"], None)
    assert spec(seccomp_default=False) == (["seccomp=unconfined"], "unconfined")
    assert spec({"type": "Unconfined"}) == (["seccomp=unconfined"], "unconfined")
    assert spec({"type": "RuntimeDefault"}) == (None, None)
    assert spec({"type": "RuntimeDefault"}, seccomp_default=False) == (None, None)
    assert spec({"type": "RuntimeDefault"}, {"type": "Unconfined"}) == (None, "unconfined")
    assert spec(None, {"type": "RuntimeDefault"}, seccomp_default=False) == (["seccomp=unconfined"], None)
    assert spec(None, {"type": "Localhost", "localhostProfile": "p/audit.json"}) == \
        (["seccomp=unconfined"], "/var/lib/agent/seccomp/p/audit.json")
    with pytest.raises(ValueError, match="localhostProfile"):
        spec(None, {"type": "Localhost", "localhostProfile": "../../etc/x.json"})
