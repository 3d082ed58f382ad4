"""GET /ui/: a read-only page that draws the cluster (nodes, pods, Services, events).

The page itself is static text (HTML, CSS, one script, read from this package at
start) and holds no cluster data, so it is served to any caller, as /version is.
Everything it shows comes from ordinary API requests its script makes with the
bearer token the user hands it in the address's fragment (`/ui/#token=...`, which
browsers never send to the server): lists and `?watch=1` streams, and /metrics,
each authenticated and authorized like any other request. The token `pocketkube up`
prints belongs to a read-only user (pocketkube:cluster-viewers). The headers keep
the page from running anything it did not ship (CSP), being framed, or leaking its
address in a Referer.
"""
from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from apiserver.auth.credentials import PAGE_PATH as PATH

_FILES = {"": ("index.html", "text/html; charset=utf-8"),
          "page.js": ("page.js", "text/javascript; charset=utf-8"),
          "page.css": ("page.css", "text/css; charset=utf-8")}
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _load() -> dict[str, tuple[bytes, str]]:
    here = resources.files(__package__)
    return {path: (here.joinpath(name).read_bytes(), ctype) for path, (name, ctype) in _FILES.items()}


def page_routes() -> list[Route]:
    def serving(body: bytes, ctype: str):
        async def serve(request: Request) -> Response:
            return Response(body, media_type=ctype, headers=_HEADERS)
        return serve

    async def to_slash(request: Request) -> Response:
        return RedirectResponse(PATH, status_code=301)

    return [Route("/ui", to_slash, methods=["GET"]),
            *[Route(PATH + name, serving(body, ctype), methods=["GET", "HEAD"])
              for name, (body, ctype) in _load().items()]]
