"""roomchat_tools.stackfile: the one place that finds and reads a running local stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from roomchat_tools import stackfile


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setenv("ROOMCHAT_LOCAL_DIR", str(tmp_path))
    return tmp_path


def _gone_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_stack_file_lives_in_roomchat_local_dir(local):
    assert stackfile.local_dir() == local.resolve()
    assert stackfile.path() == local.resolve() / "stack.json"


def test_without_roomchat_local_dir_it_is_dot_local_at_the_top_of_the_checkout(monkeypatch):
    monkeypatch.delenv("ROOMCHAT_LOCAL_DIR", raising=False)
    assert stackfile.path() == stackfile.REPO_ROOT / ".local" / "stack.json"
    assert (stackfile.REPO_ROOT / "functions" / "roomchat").is_dir()


def test_the_stack_writer_and_the_readers_agree_on_the_place(local):
    from roomchat_tools.local import stack

    assert stack.stack_file() == stackfile.path()
    assert stack.stack_file(local / "other") == stackfile.path(local / "other")


def test_a_running_stack_is_read_as_written(local):
    info = {"pid": os.getpid(), "websocket_url": "ws://127.0.0.1:1/live"}
    (local / "stack.json").write_text(json.dumps(info))
    assert stackfile.running() == info


def test_no_file_says_the_stack_is_not_running(local):
    with pytest.raises(stackfile.StackFileError, match=r"not running \(no .*stack\.json\)"):
        stackfile.read()


def test_a_file_that_is_not_json_is_unreadable(local):
    (local / "stack.json").write_text("{half")
    with pytest.raises(stackfile.StackFileError, match="unreadable"):
        stackfile.read()


def test_a_file_left_by_a_stack_whose_process_is_gone_is_refused(local):
    pid = _gone_pid()
    (local / "stack.json").write_text(json.dumps({"pid": pid, "websocket_url": "ws://x"}))
    assert stackfile.read()["pid"] == pid  # read() says what the file says
    with pytest.raises(stackfile.StackFileError, match=f"pid {pid} is gone"):
        stackfile.running()


@pytest.mark.parametrize("pid", [None, 0, "x"])
def test_a_file_without_a_usable_pid_is_refused(local, pid):
    (local / "stack.json").write_text(json.dumps({"pid": pid}))
    with pytest.raises(stackfile.StackFileError, match="is gone"):
        stackfile.running()
