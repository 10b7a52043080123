"""Fixtures for the end-to-end tests.

Two levels:
- gateway level: a moto server in this process, a test API built with boto3 and a zip of test
  handlers, and the gateway on its own thread (fast; checks API Gateway behaviour in detail);
- stack level: the `stack` fixture of tests/stack.py (`python -m roomchat_tools.local` as `make run`
  starts it), once per session, driven over the network.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from roomchat_tools.infra import build_lambda
from roomchat_tools.local import emulator as emulator_mod
from roomchat_tools.local.apimodel import emulator_clients, load_api
from roomchat_tools.local.gateway import Gateway, GatewaySettings, GatewayThread
from roomchat_tools.local.runtime import CodeStore
from tests.e2e.support import build_test_zip, create_auth_api, create_test_api

EVENTS_TABLE = "gw-test-events"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="package")
def emulator():
    with emulator_mod.running() as emu:
        yield emu


@pytest.fixture(scope="package")
def aws(emulator):
    """boto3 clients for the emulator."""
    kwargs = emulator.client_kwargs()
    return {
        name: boto3.client(name, **kwargs) for name in ("iam", "lambda", "apigatewayv2", "dynamodb")
    }


@pytest.fixture(scope="package")
def test_zip(tmp_path_factory) -> Path:
    return build_test_zip(tmp_path_factory.mktemp("gwzip") / "gw_handlers.zip")


@pytest.fixture(scope="package")
def test_api(emulator, aws, test_zip):
    ids = create_test_api(aws, test_zip, EVENTS_TABLE)
    apigw, lam = emulator_clients(emulator.endpoint, emulator.region)
    return load_api(apigw, lam, api_id=ids["api_id"])


@pytest.fixture(scope="package")
def real_zip(tmp_path_factory) -> Path:
    """The project's deployment zip (functions/), as roomchat_tools.infra.build_lambda builds it."""
    path, _ = build_lambda.build(tmp_path_factory.mktemp("realzip") / "functions.zip")
    return path


@pytest.fixture(scope="package")
def authorizer_zip(tmp_path_factory) -> Path:
    """The authorizer's zip (the package with PyJWT and cryptography)."""
    out = tmp_path_factory.mktemp("authzip") / "authorizer.zip"
    path, _ = build_lambda.build_authorizer(out)
    return path


@pytest.fixture(scope="package")
def auth_gateway(emulator, aws, test_zip, authorizer_zip, test_api):
    """An API with the project's token authorizer on $connect, served by its own gateway."""
    ids = create_auth_api(aws, test_zip, authorizer_zip, EVENTS_TABLE)
    apigw, lam = emulator_clients(emulator.endpoint, emulator.region)
    api = load_api(apigw, lam, api_id=ids["api_id"])
    thread = _gateway_thread(emulator, api, test_zip, extra_zips=[authorizer_zip])
    gw = thread.start()
    yield gw
    thread.stop()


def _gateway_thread(
    emulator, test_api, test_zip, web_dir=None, extra_zips=(), **limits
) -> GatewayThread:
    settings = GatewaySettings(
        host="127.0.0.1", port=0, web_dir=web_dir, concurrency=4, worker_idle_s=2.0, **limits
    )

    def factory() -> Gateway:
        return Gateway(
            test_api,
            CodeStore([test_zip, *extra_zips]),
            settings,
            emulator_endpoint=emulator.endpoint,
            region=emulator.region,
            log_sink=lambda fn, line: None,
        )

    return GatewayThread(factory)


@pytest.fixture(scope="package")
def web_dir(tmp_path_factory) -> Path:
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<!doctype html><title>roomchat</title>")
    (web / "app.js").write_text("console.log('hi')")
    return web


@pytest.fixture(scope="package")
def gateway(emulator, test_api, test_zip, web_dir):
    """The gateway with AWS's limits (10 min idle, 2 h)."""
    thread = _gateway_thread(emulator, test_api, test_zip, web_dir=web_dir)
    gw = thread.start()
    yield gw
    thread.stop()


@pytest.fixture(scope="package")
def short_gateway(emulator, test_api, test_zip):
    """The same API served with short limits, to watch them act."""
    thread = _gateway_thread(emulator, test_api, test_zip, idle_timeout_s=1.5, max_connection_s=4.0)
    gw = thread.start()
    yield gw
    thread.stop()
