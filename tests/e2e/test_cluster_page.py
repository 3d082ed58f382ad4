"""The cluster page (/ui/) in headless Chromium, against `pocketkube up` with a node
agent on real Podman: opened at the address `up` prints, it shows the nodes, pods
and Services the API reports, and follows a pod's creation and deletion through
its watches. Saves a screenshot (POCKETKUBE_PAGE_SCREENSHOT names where; default
beside the test's data)."""
from __future__ import annotations

import os
import re
import ssl
import uuid
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config

from tests.e2e.browser import CHROMIUM, Browser, spki_pin
from tests.e2e.conftest import IMAGE

pytestmark = pytest.mark.podman


@pytest.fixture(scope="module")
def up(up_cluster):
    return up_cluster


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
    browser.navigate(base + "?fresh")
    browser.wait_for("the new page", "location.search === '?fresh' && document.readyState === 'complete'")
    browser.wait_for("the token form", "document.getElementById('login')?.hidden === false")
    assert browser.evaluate("document.getElementById('cluster').hidden")
    browser.navigate(base + "#token=not-a-token")
    browser.wait_for("the page again", "location.search === '' && document.readyState === 'complete'")
    browser.wait_for("the refusal", "document.getElementById('login-error')?.textContent.includes('Unauthorized')")
    assert browser.evaluate("document.querySelectorAll('[data-node]').length") == 0


def test_page_shows_the_cluster_and_follows_a_pod(up, core, browser, tmp_path):
    data, _ = up
    browser.navigate(printed_page_url(data))
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
        node = browser.wait_for("the new pod on its node", f"{chip}?.closest('[data-node]')?.dataset.node")
        assert node in nodes
        browser.wait_for("the pod drawn running and ready", f"{chip}?.classList.contains('running-ready')")
        browser.wait_for("its events", f"document.getElementById('events').textContent.includes('{ns}/watched')")
        browser.wait_for("request rates", "/[0-9]\\/s/.test(document.querySelector("
                                          "'[data-component=\"apiserver\"]').textContent)")
        shot = Path(os.environ.get("POCKETKUBE_PAGE_SCREENSHOT") or tmp_path / "cluster-page.png")
        browser.screenshot(shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        core.delete_namespaced_pod("watched", ns, grace_period_seconds=0)
        browser.wait_for("the deleted pod gone from the page", f"{chip} === null")
    finally:
        core.delete_namespace(ns)

