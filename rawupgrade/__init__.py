"""HTTP/1.1 upgrades to a raw byte stream, for ASGI apps served by hypercorn.

kubectl before 1.30 runs exec, attach, cp and port-forward by upgrading an
HTTP/1.1 request to SPDY/3.1 (`Connection: Upgrade`, `Upgrade: SPDY/3.1`); the
kubelet and kube-apiserver then speak SPDY on the bare connection. ASGI only
knows WebSocket upgrades, and hypercorn passes any other upgrade to the app as a
plain request with no way to take the connection over. `install()` adds that
way, as a convention any ASGI app can follow without knowing the server:

  * a request asking for an upgrade other than WebSocket or h2c carries the
    scope extension EXTENSION ("http.upgrade.raw");
  * the app accepts by sending `http.response.start` with status 101 (and the
    headers it agrees to, e.g. `Upgrade: SPDY/3.1`); from then on every
    `http.request` message it receives carries bytes the peer sent, every
    `http.response.body` it sends goes to the peer as it is, a body with
    `more_body` false closes the connection, and `http.disconnect` says the peer
    went away;
  * any other status is an ordinary answer and nothing is switched.

Used by the API server's serving layer and by the node agent's kubelet API.
"""
from .hypercorn_switch import EXTENSION, asks_raw_upgrade, install

__all__ = ["EXTENSION", "asks_raw_upgrade", "install"]
