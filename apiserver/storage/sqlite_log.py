"""The SQLite log table, the way kine keeps it: one row per write, the row id is
the revision. Plain synchronous functions over a sqlite3 connection; the async
store (sqlite.py) runs them on its writer thread or reader threads.

A row is a create (created=1), an update, or a delete (deleted=1, a tombstone).
`value` is the value written (NULL for a tombstone), `old_value` the value it
replaced, `prev_revision` the id of the row it replaced (0 for a first create).
The current value of a key is its newest row, unless that row is a tombstone.
"""
from __future__ import annotations

import sqlite3
import time

from .interface import (
    CompactedError,
    FutureRevisionError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    RevisionConflictError,
    WatchEvent,
)
from .keys import prefix_end

SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB,
  old_value BLOB
);
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=10000")
    _enter_wal(conn)
    # NORMAL with WAL: a crash of the machine (not the process) can lose the last
    # commits but never corrupts; that is kine's and most embedded setups' choice.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


def _enter_wal(conn: sqlite3.Connection, timeout: float = 10.0) -> None:
    """PRAGMA journal_mode=WAL, again while another process opening the same file (API server
    workers start together) holds the lock: SQLite can answer "database is locked" at once
    there, without waiting in the busy handler."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def init_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def read_current_revision(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'log'").fetchone()
    return row[0] if row else 0


def read_compacted_revision(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'compact_rev'").fetchone()
    return row[0] if row else 0


def _latest(conn: sqlite3.Connection, key: str):
    """(id, create_revision, deleted, value) of the newest row for key, or None."""
    return conn.execute(
        "SELECT id, create_revision, deleted, value FROM log WHERE name = ? ORDER BY id DESC LIMIT 1",
        (key,),
    ).fetchone()


def read_get(conn: sqlite3.Connection, key: str) -> KeyValue | None:
    row = _latest(conn, key)
    if row is None or row[2]:
        return None
    return KeyValue(key, row[3], row[0], row[1])


_INSERT = (
    "INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value, old_value)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class Writer:
    """Applies writes inside the caller's transaction. The writer thread is the only
    writer of the file, so the next revision is known without asking SQLite and a
    create's create_revision can be written in the same insert."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.revision = read_current_revision(conn)

    def create(self, key: str, value: bytes) -> tuple[int, WatchEvent]:
        row = _latest(self.conn, key)
        if row is not None and not row[2]:
            raise KeyExistsError(key)
        rev = self.revision + 1
        self.conn.execute(_INSERT, (rev, key, 1, 0, rev, row[0] if row else 0, value, None))
        self.revision = rev
        return rev, WatchEvent("ADDED", KeyValue(key, value, rev, rev))

    def _current(self, key: str, expected_revision: int | None) -> KeyValue:
        row = _latest(self.conn, key)
        if row is None or row[2]:
            raise KeyNotFoundError(key)
        current = KeyValue(key, row[3], row[0], row[1])
        if expected_revision is not None and expected_revision != current.mod_revision:
            raise RevisionConflictError(key, current)
        return current

    def update(self, key: str, value: bytes, expected_revision: int | None) -> tuple[int, WatchEvent]:
        cur = self._current(key, expected_revision)
        rev = self.revision + 1
        self.conn.execute(
            _INSERT, (rev, key, 0, 0, cur.create_revision, cur.mod_revision, value, cur.value)
        )
        self.revision = rev
        return rev, WatchEvent("MODIFIED", KeyValue(key, value, rev, cur.create_revision), cur)

    def delete(self, key: str, expected_revision: int | None) -> tuple[KeyValue, WatchEvent]:
        cur = self._current(key, expected_revision)
        rev = self.revision + 1
        self.conn.execute(
            _INSERT, (rev, key, 0, 1, cur.create_revision, cur.mod_revision, None, cur.value)
        )
        self.revision = rev
        gone = KeyValue(key, cur.value, rev, cur.create_revision)
        return gone, WatchEvent("DELETED", gone, cur)

    def mark_compacted(self, revision: int) -> int:
        """Record the horizon (reads below it are refused from now on) without deleting
        anything yet: sweep() deletes the rows it frees, a slice at a time. Returns it."""
        horizon = read_compacted_revision(self.conn)
        revision = min(revision, self.revision)
        if revision <= horizon:
            return horizon
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('compact_rev', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (revision,),
        )
        return revision

    def sweep(self, after: int, horizon: int, limit: int) -> tuple[int, int]:
        """Delete, among the rows with after < id <= horizon (at most `limit` of them
        looked at; 0: all), those a read at or after the horizon cannot need.
        Returns (the id swept up to, horizon when done; rows deleted)."""
        upto = horizon
        if limit > 0:
            row = self.conn.execute(
                "SELECT id FROM log WHERE id > ? AND id <= ? ORDER BY id LIMIT 1 OFFSET ?",
                (after, horizon, limit - 1),
            ).fetchone()
            if row is not None:
                upto = row[0]
        cur = self.conn.execute(
            "DELETE FROM log WHERE id > :lo AND id <= :hi AND (deleted = 1 OR EXISTS ("
            " SELECT 1 FROM log AS newer WHERE newer.name = log.name"
            " AND newer.id > log.id AND newer.id <= :rev))",
            {"lo": after, "hi": upto, "rev": horizon},
        )
        return upto, max(cur.rowcount, 0)


def _check_readable(revision: int, current: int, compacted: int) -> int:
    if revision == 0:
        return current
    if revision > current:
        raise FutureRevisionError(revision, current)
    if revision < compacted:
        raise CompactedError(revision, compacted)
    return revision


# Walk the (name, id) index in key order and keep each key's newest row at or
# below the revision: a page of N costs about N index seeks, however long the
# range is (a GROUP BY would visit the whole range for every page).
_NEWEST_AT = (
    " FROM log AS l WHERE l.name >= ? AND l.name < ?"
    " AND l.id = (SELECT MAX(m.id) FROM log AS m WHERE m.name = l.name AND m.id <= ?)"
    " AND l.deleted = 0"
)
_LIST_LATEST = "SELECT l.name, l.id, l.create_revision, l.value" + _NEWEST_AT + " ORDER BY l.name"
_COUNT_LATEST = "SELECT COUNT(*)" + _NEWEST_AT


def read_list(
    conn: sqlite3.Connection, prefix: str, limit: int, start_key: str | None, revision: int
) -> ListResult:
    """A consistent snapshot: one read transaction, everything at one revision."""
    conn.execute("BEGIN")
    try:
        rev = _check_readable(
            revision, read_current_revision(conn), read_compacted_revision(conn)
        )
        lo = prefix if start_key is None or start_key < prefix else start_key
        hi = prefix_end(prefix)
        if limit > 0:
            rows = conn.execute(_LIST_LATEST + " LIMIT ?", (lo, hi, rev, limit + 1)).fetchall()
        else:
            rows = conn.execute(_LIST_LATEST, (lo, hi, rev)).fetchall()
        more = limit > 0 and len(rows) > limit
        remaining = 0
        if more:
            rows = rows[:limit]
            after = rows[-1][0] + "\x00"  # the smallest key after the last one returned
            remaining = conn.execute(_COUNT_LATEST, (after, hi, rev)).fetchone()[0]
    finally:
        conn.execute("COMMIT")
    items = [KeyValue(name, value, mod, create) for name, mod, create, value in rows]
    return ListResult(items, rev, more, remaining)


def row_to_event(row) -> WatchEvent:
    rid, name, created, deleted, create_rev, prev_rev, value, old_value = row
    if created:
        return WatchEvent("ADDED", KeyValue(name, value, rid, create_rev))
    prev = KeyValue(name, old_value, prev_rev, create_rev)
    if deleted:
        return WatchEvent("DELETED", KeyValue(name, old_value, rid, create_rev), prev)
    return WatchEvent("MODIFIED", KeyValue(name, value, rid, create_rev), prev)


def read_history(
    conn: sqlite3.Connection, prefix: str, after: int, up_to: int, limit: int
) -> list[WatchEvent]:
    """Changes under prefix with after < revision <= up_to, oldest first, at most
    `limit` of them. CompactedError when `after` is below the horizon."""
    conn.execute("BEGIN")
    try:
        compacted = read_compacted_revision(conn)
        if after < compacted:
            raise CompactedError(after, compacted)
        rows = conn.execute(
            "SELECT id, name, created, deleted, create_revision, prev_revision, value, old_value"
            " FROM log WHERE id > ? AND id <= ? AND name >= ? AND name < ? ORDER BY id LIMIT ?",
            (after, up_to, prefix, prefix_end(prefix), limit),
        ).fetchall()
    finally:
        conn.execute("COMMIT")
    return [row_to_event(r) for r in rows]


def read_log_after(conn: sqlite3.Connection, after: int, up_to: int | None,
                   limit: int) -> tuple[list[WatchEvent], int, int]:
    """Every change with after < revision <= up_to (None: the newest), oldest first, at most
    `limit`, for a process following writes other processes make to the file. Returns
    (events, the revision the caller has now seen everything up to, the compacted horizon);
    CompactedError when rows after `after` may already be gone."""
    conn.execute("BEGIN")
    try:
        compacted = read_compacted_revision(conn)
        if after < compacted:
            raise CompactedError(after, compacted)
        head = read_current_revision(conn)
        end = head if up_to is None else min(up_to, head)
        rows = conn.execute(
            "SELECT id, name, created, deleted, create_revision, prev_revision, value, old_value"
            " FROM log WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
            (after, end, limit),
        ).fetchall()
    finally:
        conn.execute("COMMIT")
    if len(rows) == limit:
        end = rows[-1][0]
    return [row_to_event(r) for r in rows], max(end, after), compacted
