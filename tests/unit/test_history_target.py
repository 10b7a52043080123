"""`roomchat history` and `roomchat export` name their table with the same options (target.py):
the same choices, the same refusals, the same errors when there is no table to read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from roomchat_tools import export, history, target

# Each command with the arguments it needs besides the target.
COMMANDS = {
    "history": (history.main, ["--room", "lobby", "--json"]),
    "export": (export.main, ["--room", "lobby"]),
}


@pytest.fixture(params=sorted(COMMANDS))
def command(request):
    return COMMANDS[request.param]


def test_table_options_name_the_table_endpoint_and_region():
    parser = _parser()
    args = parser.parse_args(["--table", "t", "--endpoint-url", "http://h:1", "--region", "r"])
    assert target.from_args(args) == {
        "table": "t",
        "endpoint_url": "http://h:1",
        "region": "r",
        "local": False,
    }


def test_table_without_endpoint_or_region_leaves_them_to_boto3():
    args = _parser().parse_args(["--table", "t"])
    assert target.from_args(args) == {
        "table": "t",
        "endpoint_url": None,
        "region": None,
        "local": False,
    }


def test_deployed_and_table_together_are_refused(command, capsys):
    main, needed = command
    with pytest.raises(SystemExit) as refused:
        main([*needed, "--deployed", "--table", "t"])
    assert refused.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_no_running_stack_is_an_error_naming_make_run(command, tmp_path, monkeypatch, capsys):
    # given: a local dir with no stack file
    monkeypatch.setenv("ROOMCHAT_LOCAL_DIR", str(tmp_path))
    main, needed = command

    assert main(needed) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: the local stack is not running")
    assert "make run" in err and "Traceback" not in err


def test_a_stale_stack_file_is_an_error(command, tmp_path, monkeypatch, capsys):
    # given: a stack file whose process is gone
    (tmp_path / "stack.json").write_text(
        json.dumps({"pid": 999999, "emulator_endpoint": "http://127.0.0.1:1", "history_table": "x"})
    )
    monkeypatch.setenv("ROOMCHAT_LOCAL_DIR", str(tmp_path))
    main, needed = command

    assert main(needed) == 1
    assert "pid 999999 is gone" in capsys.readouterr().err


def test_deployed_without_a_deployment_is_an_error(command, tmp_path: Path, capsys):
    main, needed = command

    assert main([*needed, "--deployed", "--tf-workdir", str(tmp_path)]) == 1

    err = capsys.readouterr().err
    assert err.startswith(f"error: no deployed stack found in {tmp_path}")
    assert "make deploy" in err


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    target.add_arguments(parser)
    return parser
