"""A real moto server behind the fault-injecting DynamoDB proxy, for the reliability tests."""

from __future__ import annotations

import pytest

from roomchat_tools.local import emulator
from roomchat_tools.local.dynamoproxy import DynamoDBProxy


@pytest.fixture(scope="package")
def moto_server():
    with emulator.running() as emu:
        yield emu.endpoint, int(emu.endpoint.rsplit(":", 1)[1])


@pytest.fixture
def fault_proxy(moto_server):
    """``DynamoDBProxy`` in front of the emulator: ``fail("PutItem", times=2)`` answers the next
    two PutItem calls with DynamoDB's throttling error, then lets them through."""
    proxy = DynamoDBProxy(moto_server[0], emulator.REGION)
    yield proxy
    proxy.close()
