"""Token files: upstream's CSV format, issuing, persistence, and the authorizer's modes."""
import pytest

from apiserver.auth.authorizer import ModeAuthorizer, parse_modes
from apiserver.auth.tokens import (AUTHENTICATED_GROUP, MASTERS_GROUP, TokenAuthenticator, TokenFileError,
                                   bearer_token, parse_token_csv)
from apiserver.machinery.user import UserInfo


def test_parse_token_csv_upstream_format():
    entries = parse_token_csv('# comment\nt1,alice,u1,"dev,ops"\n\nt2,bob,u2\n')
    assert [(e.token, e.user, e.uid, e.groups) for e in entries] == [
        ("t1", "alice", "u1", ("dev", "ops")), ("t2", "bob", "u2", ())]


def test_parse_token_csv_rejects_short_line():
    with pytest.raises(TokenFileError, match="line 1"):
        parse_token_csv("onlytoken,user\n")


@pytest.mark.parametrize("value,want", [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None)])
def test_bearer_token(value, want):
    assert bearer_token({"authorization": value}) == want


async def test_issue_token_persists_and_is_stable(tmp_path):
    f = tmp_path / "tokens.csv"
    a = TokenAuthenticator(f)
    tok = a.issue_token("system:node:n1", ["system:nodes"])
    assert a.issue_token("system:node:n1", ["system:nodes"]) == tok
    user = await a.authenticate({"authorization": f"Bearer {tok}"})
    assert user.name == "system:node:n1"
    assert set(user.groups) == {"system:nodes", AUTHENTICATED_GROUP}
    # A second instance (a restart) reads the same token back.
    assert (await TokenAuthenticator(f).authenticate({"authorization": f"Bearer {tok}"})).name == "system:node:n1"
    assert oct(f.stat().st_mode & 0o777) == "0o600"


async def test_token_added_by_another_process_is_seen(tmp_path):
    f = tmp_path / "tokens.csv"
    server_side = TokenAuthenticator(f)
    server_side.admin_token()
    tok = TokenAuthenticator(f).issue_token("late", [])
    assert (await server_side.authenticate({"authorization": f"Bearer {tok}"})).name == "late"


async def test_static_file_and_unknown_token(tmp_path):
    static = tmp_path / "static.csv"
    static.write_text('s3cret,carol,42,"team"\n')
    a = TokenAuthenticator(tmp_path / "tokens.csv", static)
    assert (await a.authenticate({"authorization": "Bearer s3cret"})).uid == "42"
    assert await a.authenticate({"authorization": "Bearer nope"}) is None
    assert await a.authenticate({}) is None


async def test_authorizer_modes():
    masters = UserInfo("root", groups=(MASTERS_GROUP,))
    alice = UserInfo("alice", groups=(AUTHENTICATED_GROUP,))
    assert (await ModeAuthorizer(parse_modes("AlwaysAllow")).authorize(alice, None))[0]
    assert (await ModeAuthorizer(parse_modes("AlwaysDeny")).authorize(masters, None))[0]
    allowed, reason = await ModeAuthorizer(parse_modes("RBAC")).authorize(alice, None)
    assert not allowed and "RBAC" in reason
    assert (await ModeAuthorizer(parse_modes("RBAC,AlwaysAllow")).authorize(alice, None))[0]
    with pytest.raises(ValueError):
        parse_modes("Webhook")
