import contextlib
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from roomchat_tools.local import dynamodb_local
from tests import engines

# The local stacks, shared by every folder: the plain one, and those with sign-in (Cognito, JWT).
from tests.stack import (  # noqa: F401
    SEEDED_FIXTURES,
    cognito_user,
    join_seed_build,
    jwt_stack,
    oidc_stack,
    sign_in,
    stack,
    start_seed_build,
)

# Tests sharing a stack run on one pytest-xdist worker (`make test` runs two).
from tests.xdist_groups import pytest_collection_modifyitems  # noqa: F401

# DynamoDB Local started as soon as collection shows a test will need it, so the JVM's start-up
# (3-7 s here) overlaps the tests that run first instead of stalling the first one that needs it.
_early: list[dynamodb_local.Launched] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    # The suite's seed stack (tests/stack.py) is built in the background from now on, when a test
    # will start a stack from it.
    if any(SEEDED_FIXTURES & set(item.fixturenames) for item in session.items):
        # The tmp_path_factory fixture's own factory (pytest keeps it on the config).
        start_seed_build(session.config._tmp_path_factory.getbasetemp())
    needed = any(
        getattr(item, "callspec", None) is not None
        and item.callspec.params.get("dynamodb") == engines.LOCAL
        for item in session.items
    )
    if needed:
        with contextlib.suppress(dynamodb_local.Unavailable):  # the fixture skips with why
            _early.append(dynamodb_local.launch())


def pytest_sessionfinish(session: pytest.Session) -> None:
    join_seed_build()
    while _early:  # launched but never used (e.g. every such test deselected or failed early)
        _early.pop().stop()


@pytest.fixture(scope="session")
def dynamodb_local_server() -> Iterator[dynamodb_local.Server]:
    """AWS's DynamoDB Local, started once per session on a free loopback port (only when a test
    asks for it) and stopped at the end; skipped with the reason when Java or the jar is missing
    (`make test` installs the jar)."""
    with ExitStack() as exits:
        try:
            launched = _early.pop() if _early else None
            server = exits.enter_context(dynamodb_local.running(launched=launched))
        except dynamodb_local.Unavailable as error:
            pytest.skip(f"DynamoDB Local unavailable: {error}")
        yield server


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch):
    """Fake credentials and region for every test, so nothing can ever reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
