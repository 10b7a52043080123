"""`make run`, Ctrl-C, `make run` again at once: the emulator's port still holds the last run's
connections in TIME_WAIT, which the server's own bind (SO_REUSEADDR) ignores, so the check made
before starting it must ignore them too."""

from __future__ import annotations

import socket

import pytest

from roomchat_tools.local import emulator


def _leave_time_wait_on(port: int) -> None:
    """A server on ``port`` that closes an accepted connection first: that side of it stays in
    TIME_WAIT on the port after the listener is gone."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((emulator.HOST, port))
        listener.listen()
        with socket.create_connection((emulator.HOST, port)) as client:
            accepted, _ = listener.accept()
            accepted.close()
            assert client.recv(1) == b""  # the server's FIN has arrived


def test_the_emulator_starts_on_a_port_left_in_time_wait_by_the_last_run() -> None:
    port = emulator.free_port()
    _leave_time_wait_on(port)
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind((emulator.HOST, port))  # what a bind without SO_REUSEADDR meets now
    with emulator.running(port=port) as emu:
        assert emu.endpoint == f"http://{emulator.HOST}:{port}"


def test_a_port_another_server_listens_on_is_still_refused() -> None:
    with socket.socket() as other:
        other.bind((emulator.HOST, 0))
        other.listen()
        port = other.getsockname()[1]
        with pytest.raises(OSError, match="cannot start the emulator"), emulator.running(port=port):
            pass
