"""/healthz, /livez, /readyz (and /<check>/<name>), upstream's plain-text form."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse


def health_routes(store, extra_checks=None):
    """extra_checks: name -> async () -> bool, listed after etcd (the start-up gate's
    poststarthook while the server is still bootstrapping)."""
    async def ping() -> bool:
        return True

    async def etcd() -> bool:
        return await store.healthy()

    checks = {"ping": ping, "log": ping, "etcd": etcd, **(extra_checks or {})}

    async def endpoint(request: Request):
        parts = request.url.path.strip("/").split("/")
        which = parts[0]
        only = parts[1] if len(parts) > 1 else None
        if only is not None:
            check = checks.get(only)
            if check is None:
                return PlainTextResponse("404 page not found\n", status_code=404)
            ok = await check()
            return PlainTextResponse("ok" if ok else f"internal server error: {only} check failed",
                                     status_code=200 if ok else 500)
        lines, all_ok = [], True
        excluded = set(request.query_params.getlist("exclude"))
        for name, check in checks.items():
            if name in excluded:
                lines.append(f"[+]{name} excluded: ok")
                continue
            ok = await check()
            all_ok &= ok
            lines.append(f"[+]{name} ok" if ok else f"[-]{name} failed: reason withheld")
        verbose = "verbose" in request.query_params
        if all_ok:
            body = "\n".join(lines) + f"\n{which} check passed\n" if verbose else "ok"
            return PlainTextResponse(body)
        return PlainTextResponse("\n".join(lines) + f"\n{which} check failed\n", status_code=500)

    return endpoint
