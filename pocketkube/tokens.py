"""`pocketkube token create|list|delete`: bootstrap tokens, as kubeadm's `token` commands.

  token create        a token good for joining (join.py) and the join command to run
  token list          TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS, as kubeadm prints them
  token delete ID...  removes tokens (ID or ID.SECRET), as kubeadm does
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys

from .join import ca_cert_hash, new_token, token_secret

TOKEN_ID = re.compile(r"^([a-z0-9]{6})(\.[a-z0-9]{16})?$")
USAGE_PREFIX = "usage-bootstrap-"


def add_token_flags(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    sub.required = True
    create = sub.add_parser("create", help="make a bootstrap token and print the join command")
    create.add_argument("--ttl", default="24h", help="how long the token is valid (Go duration; 0: forever)")
    listing = sub.add_parser("list", help="list bootstrap tokens")
    delete = sub.add_parser("delete", help="delete bootstrap tokens (ID or ID.SECRET)")
    delete.add_argument("tokens", nargs="+", metavar="TOKEN")
    for cmd in (create, listing, delete):
        cmd.add_argument("--kubeconfig", default=None, help="admin kubeconfig (default: DATA_DIR/admin.kubeconfig)")
        cmd.add_argument("--data-dir", default="_output/local-up")


def short_human_duration(seconds: float) -> str:
    """Go's duration.ShortHumanDuration, as kubeadm's TTL column uses it (pure)."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s // 60 < 60:
        return f"{s // 60}m"
    if s // 3600 < 48:
        return f"{s // 3600}h"
    if s // 3600 < 24 * 365 * 2:
        return f"{s // 86400}d"
    return f"{s // (86400 * 365)}y"


def token_rows(secrets: list[dict], now: dt.datetime) -> list[list[str]]:
    """kubeadm token list's rows for the token Secrets among `secrets` (pure)."""
    from kubeclient.bootstraptokens import expiration, is_token_secret, secret_data

    rows = []
    for s in secrets:
        if not is_token_secret(s):
            continue
        token = f"{secret_data(s, 'token-id')}.{secret_data(s, 'token-secret')}"
        try:
            expires = expiration(s)
        except ValueError:
            ttl, when = "<invalid>", secret_data(s, "expiration")
        else:
            ttl = "<forever>" if expires is None else short_human_duration((expires - now).total_seconds())
            when = "<never>" if expires is None else expires.strftime("%Y-%m-%dT%H:%M:%SZ")
        usages = ",".join(sorted(k[len(USAGE_PREFIX):] for k in (s.get("data") or {})
                                 if k.startswith(USAGE_PREFIX) and secret_data(s, k) == "true")) or "<none>"
        rows.append([token, ttl, when, usages, secret_data(s, "description") or "<none>",
                     secret_data(s, "auth-extra-groups") or "<none>"])
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows])


def run_token(ns: argparse.Namespace) -> int:
    import asyncio

    from kubeclient import ApiClient, ApiError, load_kubeconfig
    from kubeclient.bootstraptokens import NAMESPACE, SECRET_PREFIX
    from kubeclient.durations import duration
    from kubeclient.resources import SECRETS

    cfg = load_kubeconfig(ns.kubeconfig or os.path.join(ns.data_dir, "admin.kubeconfig"))
    command = ns.token_command
    if command == "delete":
        bad = [t for t in ns.tokens if not TOKEN_ID.match(t)]
        if bad:
            print(f"pocketkube token delete: {bad[0]!r} is not a token ID ([a-z0-9]{{6}}) nor a token "
                  "([a-z0-9]{6}.[a-z0-9]{16})", file=sys.stderr)
            return 1

    async def act() -> str:
        client = ApiClient(cfg, user_agent="pocketkube-token")
        try:
            if command == "create":
                token_id, secret = new_token()
                await client.create(SECRETS, token_secret(token_id, secret, duration(ns.ttl),
                                                          dt.datetime.now(dt.timezone.utc)), NAMESPACE)
                return (f"pocketkube join {cfg.server} --token {token_id}.{secret} "
                        f"--discovery-token-ca-cert-hash {ca_cert_hash((cfg.ca_pem or '').encode())}")
            if command == "list":
                items = (await client.list(SECRETS, NAMESPACE)).get("items") or []
                rows = token_rows([dict(s, metadata={**s.get("metadata", {}), "namespace": NAMESPACE})
                                   for s in items], dt.datetime.now(dt.timezone.utc))
                return table(["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"], rows) if rows \
                    else ""
            done = []
            for t in ns.tokens:
                token_id = TOKEN_ID.match(t).group(1)
                await client.delete(SECRETS, SECRET_PREFIX + token_id, NAMESPACE)
                done.append(f'bootstrap token "{token_id}" deleted')
            return "\n".join(done)
        finally:
            await client.close()
    try:
        out = asyncio.run(act())
    except ApiError as e:
        print(f"pocketkube token {command}: {e}", file=sys.stderr)
        return 1
    if out:
        print(out)
    return 0
