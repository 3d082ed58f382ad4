"""Links in HTML relayed by pods/proxy and services/proxy (pure).

A server behind `/api/v1/namespaces/ns/pods/name/proxy` answers as if it were at
the root: its page links to `/style.css`. Upstream's proxy transport rewrites
such absolute paths in HTML attributes, and in a redirect's Location, to stay
under the proxy prefix, so a browser (or a client following the link) keeps
going through the API server. Relative links, and links to another host, are
left alone: they already resolve correctly, or leave on purpose.
"""
from __future__ import annotations

import re

# The attributes that hold a URL (upstream's list, by HTML attribute name).
URL_ATTRIBUTES = ("action", "background", "cite", "classid", "codebase", "data", "formaction", "href", "icon",
                  "longdesc", "manifest", "poster", "profile", "src", "usemap")
_ATTR = re.compile(r"""(\s(?:%s)\s*=\s*)(["'])(/(?!/)[^"']*)\2""" % "|".join(URL_ATTRIBUTES), re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z][^<>]*>")


def is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "text/html"


def rewrite_html(body: str, prefix: str) -> str:
    """Prefix every absolute-path URL attribute of every tag with `prefix` (no trailing slash)."""
    prefix = prefix.rstrip("/")
    return _TAG.sub(lambda tag: _ATTR.sub(lambda a: f"{a[1]}{a[2]}{prefix}{a[3]}{a[2]}", tag[0]), body)


def rewrite_location(location: str, prefix: str) -> str:
    """A redirect to an absolute path on the same server stays under the prefix."""
    if location.startswith("/") and not location.startswith("//"):
        return prefix.rstrip("/") + location
    return location
