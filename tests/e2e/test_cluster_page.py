"""What `pocketkube up` (node agent on real Podman, proxy and DNS) prints, used as a user would.

The cluster page (/ui/) in headless Chromium: opened at the address `up` prints, it
shows the nodes, pods and Services the API reports, and follows a pod's creation and
deletion through its watches. Saves a screenshot (POCKETKUBE_PAGE_SCREENSHOT names
where; default beside the test's data).

The components' /metrics at the loopback address `up` prints: the scheduler's, the
controllers' work queues, the proxy's syncs and the cluster DNS's queries are there,
and move as the cluster works."""
from __future__ import annotations

import os
import re
import socket
import ssl
import time
import uuid
from pathlib import Path

import httpx
import pytest
from dnslib import DNSRecord
from kubernetes import client, config

from tests.e2e.browser import CHROMIUM, Browser, spki_pin
from tests.conformance.cluster import fresh_pocketkube
from tests.e2e.conftest import IMAGE, podman_problem
from tests.e2e.test_metrics_nodeagent_proxy import parse, value

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def up(tmp_path_factory):
    """`pocketkube up` as a user runs it (one process: API server, controllers, node agent,
    proxy and DNS), with the components' metrics on a free loopback port. Yields (its data
    dir, the admin kubeconfig); what it printed is in data_dir/pocketkube.log."""
    problem = podman_problem()
    if problem:
        pytest.skip(problem)
    data = tmp_path_factory.mktemp("up")
    with fresh_pocketkube(data, extra_args=["--metrics-bind-address", "127.0.0.1:0"]) as kubeconfig:
        yield data, kubeconfig


@pytest.fixture(scope="module")
def core(up):
    return client.CoreV1Api(config.new_client_from_config(config_file=str(up[1])))


def printed_page_url(data: Path) -> str:
    m = re.search(r"^\s+(https://\S+/ui/#token=\S+)$", (data / "pocketkube.log").read_text(), re.M)
    assert m, "pocketkube up did not print the page's address"
    return m.group(1)


@pytest.fixture(scope="module")
def browser(up, tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (hack/test.sh installs Debian's package)")
    data, _ = up
    b = Browser(tmp_path_factory.mktemp("chromium"), log=data / "chromium.log",
                trust_spki=spki_pin((data / "pki" / "apiserver.crt").read_bytes()))
    yield b
    b.close()


def test_page_token_is_read_only_and_the_page_is_locked_down(up):
    data, _ = up
    url = printed_page_url(data)
    base, token = url.split("/ui/#token=")
    verify = ssl.create_default_context(cafile=str(data / "pki" / "ca.crt"))
    with httpx.Client(base_url=base, verify=verify) as anon:
        page = anon.get("/ui/")
        assert page.status_code == 200 and "page.js" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
        assert anon.get("/api/v1/pods").status_code == 401   # the data needs the token
    with httpx.Client(base_url=base, verify=verify, headers={"Authorization": f"Bearer {token}"}) as viewer:
        assert viewer.get("/api/v1/nodes").status_code == 200
        assert viewer.get("/metrics").status_code == 200
        assert viewer.get("/api/v1/secrets").status_code == 403
        made = viewer.post("/api/v1/namespaces/default/configmaps",
                           json={"metadata": {"name": "nope"}, "data": {}})
        assert made.status_code == 403, made.text


def test_page_without_a_token_asks_for_one_and_refuses_a_bad_one(up, browser):
    data, _ = up
    base = printed_page_url(data).split("#")[0]
    ran = "document.documentElement.dataset.script"   # page.js marks the page once it runs
    browser.open_page(base + "?fresh", f"location.search === '?fresh' && {ran}")
    browser.wait_for("the token form", "document.getElementById('login')?.hidden === false")
    assert browser.evaluate("document.getElementById('cluster').hidden")
    browser.open_page(base + "#token=not-a-token", f"location.search === '' && {ran}")
    browser.wait_for("the refusal", "document.getElementById('login-error')?.textContent.includes('Unauthorized')")
    assert browser.evaluate("document.querySelectorAll('[data-node]').length") == 0


def test_page_shows_the_cluster_and_follows_a_pod(up, core, browser, tmp_path):
    data, _ = up
    browser.open_page(printed_page_url(data), "document.documentElement.dataset.script")
    browser.wait_for("all watches live", "document.getElementById('conn')?.textContent === 'live'")
    # the token left the address bar once the page took it
    assert "token" not in browser.evaluate("location.href")

    nodes = {n.metadata.name for n in core.list_node().items}
    assert nodes
    browser.wait_for("the API's nodes", f"""(() => {{
        const shown = [...document.querySelectorAll('[data-node]')].map(e => e.dataset.node).filter(n => n);
        return JSON.stringify(shown.sort()) === {str(sorted(nodes)).replace("'", '"')!r};
    }})()""")
    pods = {f"{p.metadata.namespace}/{p.metadata.name}" for p in core.list_pod_for_all_namespaces().items}
    for key in pods:
        browser.wait_for(f"pod {key}", f"document.querySelector('[data-pod=\"{key}\"]') !== null")
    browser.wait_for("the kubernetes Service's endpoint",
                     "(document.querySelector('[data-service=\"default/kubernetes\"]') || {}).textContent"
                     "?.includes(':')")

    ns = f"page-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    try:
        core.create_namespaced_pod(ns, {
            "metadata": {"name": "watched"},
            "spec": {"terminationGracePeriodSeconds": 0,
                     "containers": [{"name": "c", "image": IMAGE, "command": ["sleep", "3600"]}]}})
        chip = f"document.querySelector('[data-pod=\"{ns}/watched\"]')"
        node = browser.wait_for("the new pod on its node", f"{chip}?.closest('[data-node]')?.dataset.node",
                                timeout=120)
        assert node in nodes
        browser.wait_for("the pod drawn running and ready", f"{chip}?.classList.contains('running-ready')",
                         timeout=120)
        browser.wait_for("its events", f"document.getElementById('events').textContent.includes('{ns}/watched')")
        browser.wait_for("request rates", "/[0-9]\\/s/.test(document.querySelector("
                                          "'[data-component=\"apiserver\"]').textContent)")
        shot = Path(os.environ.get("POCKETKUBE_PAGE_SCREENSHOT") or tmp_path / "cluster-page.png")
        browser.screenshot(shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        core.delete_namespaced_pod("watched", ns, grace_period_seconds=0)
        browser.wait_for("the deleted pod gone from the page", f"{chip} === null", timeout=120)
    finally:
        core.delete_namespace(ns)


def printed_metrics_url(data) -> str:
    m = re.search(r"^Metrics of the scheduler, controllers, proxy and DNS: (http://127\.0\.0\.1:\d+/metrics)$",
                  (data / "pocketkube.log").read_text(), re.M)
    assert m, "pocketkube up did not print its metrics address"
    return m.group(1)


def poll(what: str, check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def is_local_address(ip: str) -> bool:
    """An address of this machine (binding to it succeeds), so a packet sent there stays here."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((ip, 0))
            return True
        except OSError:
            return False


def dns_endpoint(kubeconfig) -> tuple[str, int]:
    api = client.DiscoveryV1Api(config.new_client_from_config(config_file=str(kubeconfig)))

    def published():
        for sl in api.list_namespaced_endpoint_slice("kube-system",
                                                     label_selector="kubernetes.io/service-name=kube-dns").items:
            udp = [p.port for p in sl.ports or [] if p.protocol == "UDP"]
            for e in sl.endpoints or []:
                if udp and e.addresses:
                    return e.addresses[0], udp[0]
        return None
    return poll("the cluster DNS's endpoint", published)


def test_up_serves_the_components_metrics_on_loopback(up):
    data, kubeconfig = up
    url = printed_metrics_url(data)
    page = poll("the scheduler and the controllers at work", lambda: (
        p if value(p := parse(httpx.get(url).text), "workqueue_queue_duration_seconds_count") > 0 else None))
    assert "scheduler_pending_pods" in page
    assert value(page, "workqueue_work_duration_seconds_count") > 0
    assert value(page, "workqueue_adds_total", name="serviceaccount") > 0
    assert value(page, "process_resident_memory_bytes") > 0
    # the proxy has synced the Services it found (as root it runs beside the node agent)
    page = poll("a proxy sync", lambda: (
        p if value(p := parse(httpx.get(url).text), "kubeproxy_sync_proxy_rules_duration_seconds_count") else None))

    # one query to the cluster DNS, at its published endpoint (this machine's address)
    ip, port = dns_endpoint(kubeconfig)
    assert is_local_address(ip), f"the DNS endpoint {ip} is not an address of this machine"
    before = value(page, "coredns_dns_requests_total", proto="udp", type="A")
    reply = DNSRecord.parse(DNSRecord.question("kubernetes.default.svc.cluster.local", "A").send(ip, port, timeout=5))
    assert reply.header.rcode == 0 and reply.rr
    after = parse(httpx.get(url).text)
    assert value(after, "coredns_dns_requests_total", proto="udp", type="A") == before + 1
    assert value(after, "coredns_dns_responses_total", rcode="NOERROR") >= 1
