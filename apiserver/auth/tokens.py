"""Bearer-token authentication from CSV token files (kube-apiserver's --token-auth-file).

Format, one user per line:  token,user,uid,"group1,group2"   (groups optional;
lines starting with # are comments). Two sources are read:
  - the operator's --token-auth-file, if given (read-only to us);
  - DATA_DIR/tokens.csv, which we own: the generated admin token and every
    token handed out by issue_token() to node agents and controllers. It is
    written once and reused on restart, so kubeconfigs keep working.

A token another process appended to our file is picked up on the next miss
(we re-read when the file's mtime changed), so `pocketkube up` can mint
credentials for components it starts without restarting the server.
"""
from __future__ import annotations

import csv
import io
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from apiserver.machinery.user import UserInfo

ADMIN_USER = "kubernetes-admin"
MASTERS_GROUP = "system:masters"
AUTHENTICATED_GROUP = "system:authenticated"


@dataclass(frozen=True)
class TokenEntry:
    token: str
    user: str
    uid: str
    groups: tuple[str, ...]

    def user_info(self) -> UserInfo:
        groups = self.groups if AUTHENTICATED_GROUP in self.groups else (*self.groups, AUTHENTICATED_GROUP)
        return UserInfo(self.user, uid=self.uid, groups=groups)


class TokenFileError(ValueError):
    pass


def parse_token_csv(text: str, source: str = "token file") -> list[TokenEntry]:
    """Parse the token CSV; a malformed line is an error naming the line (as upstream refuses to start)."""
    out = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 3:
            raise TokenFileError(f"{source}: line {lineno}: want token,user,uid[,\"groups\"], got {len(row)} fields")
        token, user, uid = (c.strip() for c in row[:3])
        if not token or not user:
            raise TokenFileError(f"{source}: line {lineno}: empty token or user")
        groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
        out.append(TokenEntry(token, user, uid, groups))
    return out


def format_token_csv(entries: list[TokenEntry]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for e in entries:
        w.writerow([e.token, e.user, e.uid, ",".join(e.groups)])
    return buf.getvalue()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def bearer_token(headers: dict[str, str]) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    value = headers.get("authorization") or headers.get("Authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    return token or None


class TokenAuthenticator:
    """Maps bearer tokens to users; owns DATA_DIR/tokens.csv."""

    def __init__(self, generated_file: Path, static_file: Path | None = None):
        self._generated_file = Path(generated_file)
        self._static: list[TokenEntry] = []
        if static_file is not None:
            self._static = parse_token_csv(Path(static_file).read_text(), str(static_file))
        self._lock = threading.Lock()  # issue_token may be called from threads of `pocketkube up`
        self._generated: list[TokenEntry] = []
        self._mtime: float | None = None
        self._by_token: dict[str, TokenEntry] = {}
        self._reload()

    # -- loading ---------------------------------------------------------
    def _reload(self) -> None:
        f = self._generated_file
        if f.exists():
            self._mtime = f.stat().st_mtime
            self._generated = parse_token_csv(f.read_text(), str(f))
        else:
            self._generated = []
        # Static entries win over generated ones with the same token: the operator's file is the authority.
        self._by_token = {e.token: e for e in self._generated}
        self._by_token.update({e.token: e for e in self._static})

    def _reload_if_changed(self) -> bool:
        try:
            mtime = self._generated_file.stat().st_mtime
        except FileNotFoundError:
            return False
        if mtime == self._mtime:
            return False
        with self._lock:
            self._reload()
        return True

    def _save(self) -> None:
        f = self._generated_file
        f.parent.mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(format_token_csv(self._generated))
        os.replace(tmp, f)
        self._mtime = f.stat().st_mtime

    # -- API -------------------------------------------------------------
    def issue_token(self, user: str, groups: list[str] | tuple[str, ...] = (), uid: str = "") -> str:
        """The token for `user`, minted and persisted on first call, the same one after.

        Re-issuing with different groups replaces the user's groups (keeping the token).
        """
        with self._lock:
            self._reload()  # another process may have added tokens since we last looked
            groups = tuple(groups)
            for i, e in enumerate(self._generated):
                if e.user == user:
                    if e.groups != groups:
                        self._generated[i] = TokenEntry(e.token, user, e.uid, groups)
                        self._save()
                        self._reload()
                    return e.token
            entry = TokenEntry(new_token(), user, uid or user, groups)
            self._generated.append(entry)
            self._save()
            self._by_token[entry.token] = entry
            return entry.token

    def admin_token(self) -> str:
        return self.issue_token(ADMIN_USER, (MASTERS_GROUP,))

    def lookup(self, token: str) -> UserInfo | None:
        entry = self._find(token)
        if entry is None and self._reload_if_changed():
            entry = self._find(token)
        return entry.user_info() if entry else None

    def _find(self, token: str) -> TokenEntry | None:
        return self._by_token.get(token)

    async def authenticate(self, headers: dict[str, str]) -> UserInfo | None:
        """None when there is no bearer token or it is unknown (the HTTP layer answers 401)."""
        token = bearer_token(headers)
        if token is None:
            return None
        return self.lookup(token)
