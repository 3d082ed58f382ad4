"""HTML link rewriting of pods/proxy and services/proxy (apiserver/http/proxyrewrite.py)."""
from apiserver.http.proxyrewrite import is_html, rewrite_html, rewrite_location

PREFIX = "/api/v1/namespaces/ns/pods/https:web:443/proxy"


def test_absolute_links_go_under_the_proxy_prefix():
    assert rewrite_html('<a href="/rewriteme">test</a>', PREFIX) == f'<a href="{PREFIX}/rewriteme">test</a>'
    assert rewrite_html("<img alt=x SRC='/i.png'>", PREFIX + "/") == f"<img alt=x SRC='{PREFIX}/i.png'>"
    assert rewrite_html('<form method=post action="/go"><p>/not-a-link</p></form>', PREFIX) == \
        f'<form method=post action="{PREFIX}/go"><p>/not-a-link</p></form>'


def test_relative_and_other_host_links_stay():
    for body in ('<a href="rel/x">', '<a href="//other/x">', '<a href="http://h/x">', '<a data-href="/x">',
                 'text href="/x" outside a tag'):
        assert rewrite_html(body, PREFIX) == body


def test_location_and_content_type():
    assert rewrite_location("/login", PREFIX) == PREFIX + "/login"
    assert rewrite_location("http://elsewhere/", PREFIX) == "http://elsewhere/"
    assert is_html("text/html; charset=utf-8") and not is_html("application/json") and not is_html(None)
