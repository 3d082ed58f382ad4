"""Pure helpers about store keys: prefix ranges and the resource a key belongs to."""
from __future__ import annotations

# Keys are text compared byte-wise as UTF-8, which orders like code points; no real
# key contains this character, so it bounds "every key" from above.
_TOP = "\U0010ffff"


def prefix_end(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`
    (the exclusive upper end of a prefix range, like etcd's range_end)."""
    if not prefix:
        return _TOP
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def resource_prefix(key: str) -> str | None:
    """The `/registry/<resource>/` prefix a key or list prefix belongs to, or None
    when it is too short to name one resource (e.g. `/registry/`).

    The watch cache keeps one backend watch per such prefix."""
    parts = key.split("/", 3)
    # ['', 'registry', '<resource>', '<rest>'] for '/registry/<resource>/<rest>'
    if len(parts) < 4 or parts[0] != "" or not parts[1] or not parts[2]:
        return None
    return f"/{parts[1]}/{parts[2]}/"
