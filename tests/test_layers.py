"""The import contracts in pyproject.toml hold: API server layers point down only, clients
never import the server, controllers and the node agent share only kubeclient, the node
agent's layers point down (runtime, pods, kubelet API and Node status, agent), Podman is
reached only through nodeagent.runtime, the catalogue imports nothing of ours."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    cp = subprocess.run([exe, "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, f"lint-imports found a broken contract:\n{cp.stdout}\n{cp.stderr}"
