"""The CLI runs other components' entry points, sync or async."""
import pytest

from pocketkube.components import run_entry
from pocketkube.main import main


def test_run_entry_sync_and_async():
    assert run_entry(lambda argv: len(argv), ["a", "b"]) == 2
    assert run_entry(lambda argv: None, []) == 0

    async def entry(argv):
        return 3
    assert run_entry(entry, []) == 3


def test_version_command(capsys):
    assert main(["version"]) == 0
    assert "pocketkube v" in capsys.readouterr().out


def test_bad_apiserver_flag_exits_with_usage():
    with pytest.raises(SystemExit) as e:
        main(["apiserver", "--data-dir", "x", "--secure-port", "nope"])
    assert e.value.code == 2
