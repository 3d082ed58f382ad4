"""`pocketkube snapshot save|restore FILE`: a point-in-time copy of the cluster's store.

As `etcdctl snapshot` and k3s's `etcd-snapshot` do, a snapshot holds every object
at every revision the store still keeps, so a restored cluster serves the same
objects with the same resourceVersions (watchers and clients holding a
resourceVersion carry on). What the data directory holds besides the store (its
CA, keys and tokens) is not in the snapshot: restore into the same data
directory, or copy those along.

SQLite (the default store, DATA_DIR/state.db): `save` uses SQLite's online backup
API, so the server may keep running and writing; `restore` replaces state.db and
must be run with the server stopped.

etcd (--etcd-servers): `save` streams etcd's own snapshot through its maintenance
API (as `etcdctl snapshot save`); restoring an etcd snapshot is etcd's business
(`etcdutl snapshot restore FILE --data-dir NEW`, `etcdctl snapshot restore` on etcd 3.5,
then run etcd on NEW).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from pathlib import Path

STATE_DB = "state.db"


class SnapshotError(Exception):
    """A snapshot that cannot be taken or restored; str() says why."""


def add_flags(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="snapshot_command", metavar="save|restore")
    sub.required = True
    for name, text in (("save", "copy the store into FILE (the server may be running)"),
                       ("restore", "replace the store with FILE (stop the server first)")):
        s = sub.add_parser(name, help=text)
        s.add_argument("file", type=Path, metavar="FILE")
        s.add_argument("--data-dir", type=Path, default=Path("_output/pocketkube"),
                       help="the cluster's data directory (default: %(default)s)")
        s.add_argument("--etcd-servers", default="", help="comma-separated etcd URLs (save only)")


def _sqlite_copy(src: Path, dst: Path) -> int:
    """Online backup of src into dst (written beside, then renamed); returns the pages copied."""
    tmp = dst.with_name(dst.name + ".partial")
    tmp.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    try:
        target = sqlite3.connect(tmp)
        try:
            source.backup(target)
            pages = target.execute("PRAGMA page_count").fetchone()[0]
            ok = target.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                raise SnapshotError(f"the copy of {src} fails SQLite's integrity check: {ok}")
            target.execute("PRAGMA journal_mode=DELETE")   # one self-contained file
        finally:
            target.close()
    finally:
        source.close()
    os.replace(tmp, dst)
    return pages


def save_sqlite(data_dir: Path, file: Path) -> str:
    db = data_dir / STATE_DB
    if not db.exists():
        raise SnapshotError(f"no store at {db} (is --data-dir right?)")
    pages = _sqlite_copy(db, file)
    return f"Snapshot saved at {file} ({pages} pages, {file.stat().st_size:,} bytes)"


def _in_use(db: Path) -> bool:
    """Whether another process has the database open: every connection to a WAL database
    holds a shared lock on it, so an exclusive one is refused."""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()


def restore_sqlite(data_dir: Path, file: Path) -> str:
    if not file.exists():
        raise SnapshotError(f"no snapshot at {file}")
    try:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as snap:
            ok = snap.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise SnapshotError(f"{file} is not a pocketkube SQLite snapshot: {e}") from None
    if ok != "ok":
        raise SnapshotError(f"{file} fails SQLite's integrity check: {ok}")
    db = data_dir / STATE_DB
    wal = db.with_name(STATE_DB + "-wal")
    if db.exists() and _in_use(db):
        raise SnapshotError(f"{db} is in use: stop the server running on {data_dir} first")
    data_dir.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(file, db)
    for leftover in (wal, db.with_name(STATE_DB + "-shm")):
        leftover.unlink(missing_ok=True)
    return f"Snapshot {file} restored into {db}"


async def _save_etcd(servers: list[str], file: Path) -> str:
    import aetcd

    host, _, port = servers[0].split("://")[-1].partition(":")
    tmp = file.with_name(file.name + ".partial")
    async with aetcd.Client(host=host, port=int(port or 2379)) as client:
        with open(tmp, "wb") as out:
            await client.snapshot(out)
    os.replace(tmp, file)
    return f"Snapshot saved at {file} ({file.stat().st_size:,} bytes, etcd's format)"


def run(ns: argparse.Namespace) -> int:
    servers = [s for s in ns.etcd_servers.split(",") if s]
    try:
        if ns.snapshot_command == "save":
            msg = asyncio.run(_save_etcd(servers, ns.file)) if servers else save_sqlite(ns.data_dir, ns.file)
        elif servers:
            raise SnapshotError("restore an etcd snapshot with etcd's own tool: "
                                "etcdutl snapshot restore FILE --data-dir NEW (etcdctl on etcd 3.5), "
                                "then run etcd on NEW")
        else:
            msg = restore_sqlite(ns.data_dir, ns.file)
    except (SnapshotError, OSError, sqlite3.Error) as e:
        print(f"pocketkube snapshot: {e}", file=sys.stderr)
        return 1
    print(msg)
    return 0
