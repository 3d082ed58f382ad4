"""Suite-wide test set-up: `tests.harness` importable, and a header saying what is installed."""
from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.harness import kubectl_dir, kubectl_versions  # noqa: E402


def pytest_report_header(config):
    versions = kubectl_versions()
    if versions:
        return [f"kubectl: {', '.join(versions)} in {kubectl_dir()}"]
    return ["kubectl: NOT FOUND (no versioned kubectl.1.* binaries beside `kubectl` on PATH): "
            "tests that drive kubectl will skip"]
