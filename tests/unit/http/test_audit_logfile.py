"""The audit log file: lines written off the caller's thread, rotation by size and count."""
from __future__ import annotations

import os

from apiserver.http.audit.logfile import AuditLog


def test_lines_rotation_and_backups(tmp_path):
    path = tmp_path / "audit" / "audit.log"
    log = AuditLog(str(path), max_size_mb=1, max_backups=2)
    line = b"x" * 1000
    for _ in range(4 * 1100):           # about 4.2 MiB: four rotations
        log.write(line)
    log.close()
    assert path.stat().st_mode & 0o777 == 0o600
    backups = sorted(f for f in os.listdir(path.parent) if f != "audit.log")
    assert len(backups) == 2 and all(f.startswith("audit-") and f.endswith(".log") for f in backups)
    for f in [path, *(path.parent / b for b in backups)]:
        data = f.read_bytes()
        assert 0 < len(data) <= 1024 * 1024 and data.endswith(b"\n")
        assert set(data.splitlines()) == {line}
