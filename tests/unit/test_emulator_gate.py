"""The emulator's gate (local/emulator.py): a snapshot of moto's state (local/snapshot.py) is
taken with no request half handled, and requests that come meanwhile wait for it."""

from __future__ import annotations

import threading
import time

import pytest

from roomchat_tools.local import emulator as emulator_mod


def _gated_app(gate: emulator_mod.Gate, release: threading.Event, seen: list[str]):
    def app(environ, start_response):
        seen.append(f"start {environ['name']}")
        release.wait(10)
        seen.append(f"end {environ['name']}")
        return [b""]

    return gate.wrap(app)


def _call(app, name: str) -> threading.Thread:
    thread = threading.Thread(target=app, args=({"name": name}, None), daemon=True)
    thread.start()
    return thread


def test_the_gate_waits_for_requests_in_flight_and_holds_new_ones():
    gate, release, seen = emulator_mod.Gate(), threading.Event(), []
    app = _gated_app(gate, release, seen)
    first = _call(app, "a")
    while not seen:
        time.sleep(0.01)
    closing = threading.Event()
    closed = threading.Event()
    reopen = threading.Event()

    def snapshot_taker():
        closing.set()
        with gate.closed():
            closed.set()
            seen.append("snapshot")
            reopen.wait(10)

    taker = threading.Thread(target=snapshot_taker, daemon=True)
    taker.start()
    closing.wait(5)
    assert not closed.wait(0.2)  # request a is still being handled
    release.set()
    assert closed.wait(5)
    later = _call(app, "b")
    time.sleep(0.2)
    assert seen == ["start a", "end a", "snapshot"]  # b waits while the gate is closed
    reopen.set()
    for thread in (first, taker, later):
        thread.join(5)
    assert seen == ["start a", "end a", "snapshot", "start b", "end b"]


def test_a_gate_that_cannot_close_in_time_lets_requests_through_again():
    gate, release, seen = emulator_mod.Gate(), threading.Event(), []
    app = _gated_app(gate, release, seen)
    first = _call(app, "a")
    while not seen:
        time.sleep(0.01)
    with pytest.raises(TimeoutError, match="busy"), gate.closed(timeout_s=0.2):
        pass
    release.set()
    first.join(5)
    _call(app, "b").join(5)
    assert seen[-1] == "end b"


def test_the_list_of_moto_modules_is_made_once():
    """moto's server looks every request's service up in it (emulator._cache_module_list)."""
    from moto import backends

    with emulator_mod.running():
        listed = backends.list_of_moto_modules()
        assert {"awslambda", "dynamodb", "sqs", "apigatewayv2"} <= set(listed)
        assert backends.list_of_moto_modules() is listed
