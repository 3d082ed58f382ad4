"""Audit set-up shared by the tests that read an audit log: a Policy's text, the flags that
turn the log on, and the events written so far."""
from __future__ import annotations

import json
from pathlib import Path


def audit_policy(rules: str) -> str:
    """An audit.k8s.io/v1 Policy with these rules (YAML list items, first column), omitting
    the RequestReceived stage as every test here does (it only doubles the events)."""
    return "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n" + rules


def audit_log_flags(tmp: Path, policy: str, log: Path) -> list[str]:
    """The API server's flags for `policy` (written beside the data under tmp) logging to `log`."""
    (tmp / "policy.yaml").write_text(policy)
    return ["--audit-policy-file", str(tmp / "policy.yaml"), "--audit-log-path", str(log)]


def audit_events(log: Path) -> list[dict]:
    """The events the log holds now. Only whole lines: the writer thread may be between
    the two halves of a long line."""
    text = log.read_text() if log.exists() else ""
    return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()]
