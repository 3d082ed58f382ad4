"""Headless Chromium (Debian's `chromium` package) driven over the DevTools protocol.

A small client of our own on the `websockets` package the project already uses,
rather than a WebDriver stack: one browser process, one page, and the four
commands the tests need (navigate, evaluate, screenshot, size). The browser may
reach loopback only: every other address goes to a proxy that does not exist.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import shutil
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium")
# what the page loaded, and how each load went (for a failure's message)
_RESOURCES = ("JSON.stringify(performance.getEntriesByType('resource').map("
              "e => [e.name, e.responseStatus, Math.round(e.duration)]))")


def spki_pin(cert_pem: bytes) -> str:
    """base64(sha256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list
    takes, so the browser trusts exactly this server's key and nothing else."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


class Browser:
    def __init__(self, profile: Path, *, trust_spki: str, log: Path, width: int = 1280, height: int = 900):
        profile.mkdir(parents=True, exist_ok=True)
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={profile}", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
            "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
            f"--ignore-certificate-errors-spki-list={trust_spki}", f"--window-size={width},{height}",
            "about:blank"], stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"chromium did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self._stack = contextlib.ExitStack()
        self._ws = self._stack.enter_context(connect(f"ws://127.0.0.1:{port}{path}", max_size=64 * 2 ** 20,
                                                     open_timeout=10))
        self._ids = itertools.count(1)
        target = self._call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def _call(self, method: str, session: str | None = None, **params) -> dict:
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        self._ws.send(json.dumps(msg))
        while True:   # events arrive in between; only our answer counts
            reply = json.loads(self._ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def call(self, method: str, **params) -> dict:
        return self._call(method, self._session, **params)

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def open_page(self, url: str, ready: str, timeout: float = 20) -> None:
        """Navigate and wait for `ready` (a JavaScript expression). Under heavy load a
        document has been seen complete with its script not run; then it is loaded once
        more, and what it had loaded is printed (pytest shows it on a failure)."""
        self.navigate(url)
        try:
            self.wait_for(f"{url} ready", ready, timeout)
        except AssertionError as e:
            print(f"page not ready, loading it again: {e}")
            self.navigate(url)
            self.wait_for(f"{url} ready (second load)", ready, timeout)

    def evaluate(self, expression: str):
        got = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in got:
            raise RuntimeError(f"{expression}: {got['exceptionDetails']}")
        return got["result"].get("value")

    def wait_for(self, what: str, expression: str, timeout: float = 60):
        """Poll a JavaScript expression until it is truthy; its value. An error counts as
        not yet: while a navigation commits, the old document's context goes away."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.evaluate(expression)
            except RuntimeError as e:
                last = e
            else:
                if last:
                    return last
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what} (last: {last!r}) at {self.evaluate('location.href')}; "
                             f"page text:\n{self.evaluate('document.body.innerText')}\nresources: "
                             f"{self.evaluate(_RESOURCES)}")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        if getattr(self, "_stack", None) is not None:
            self._stack.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
