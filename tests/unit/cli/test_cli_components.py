"""The CLI finds other components' entry points, or says plainly that they are missing."""
import pytest

from pocketkube.components import ComponentMissing, load_entry, run_entry
from pocketkube.main import main


def test_missing_module_is_a_plain_error():
    with pytest.raises(ComponentMissing, match="the widgets is not available"):
        load_entry("pocketkube.no_such_module", "run", "the widgets")


def test_missing_function_is_a_plain_error():
    with pytest.raises(ComponentMissing, match="has no nothing"):
        load_entry("pocketkube.components", "nothing", "x")


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
