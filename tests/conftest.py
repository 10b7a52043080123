import contextlib
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from roomchat_tools.local import dynamodb_local
from tests import engines

# The local stacks, shared by every folder: the plain one and the one with Cognito sign-in.
from tests.stack import cognito_user, oidc_stack, sign_in, stack  # noqa: F401

# DynamoDB Local started as soon as collection shows a test will need it, so the JVM's start-up
# (3-7 s here) overlaps the tests that run first instead of stalling the first one that needs it.
_early: list[dynamodb_local.Launched] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    needed = any(
        getattr(item, "callspec", None) is not None
        and item.callspec.params.get("dynamodb") == engines.LOCAL
        for item in session.items
    )
    if needed:
        with contextlib.suppress(dynamodb_local.Unavailable):  # the fixture skips with why
            _early.append(dynamodb_local.launch())


def pytest_sessionfinish(session: pytest.Session) -> None:
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


# ---- running in parallel (pytest-xdist, `make test` passes -n and --dist loadgroup) ---------
# Module-, package- and session-scoped fixtures are built once per worker process. Those that
# start a stack or apply Terraform are worth building once, so every test that uses one (even
# indirectly) is put in that fixture's group, and a group runs on one worker; groups that share
# such a fixture are merged. The cheap shared fixtures below may be built once per worker.
CHEAP_SHARED_FIXTURES = frozenset(
    {
        *("dynamodb_local_server", "emulator", "aws", "aws_emulator", "moto_server"),
        *("test_zip", "real_zip", "authorizer_zip", "lambda_zip", "web_dir", "tf_config_dir"),
        *("playwright_sync", "browser", "artifacts", "offline_stack", "tmp_path_factory"),
        *("worker_id", "testrun_uid"),
    }
)


def _shared_fixtures(item: pytest.Item) -> set[str]:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    return {
        name
        for name, defs in info.name2fixturedefs.items()
        if defs and defs[-1].scope != "function" and name not in CHEAP_SHARED_FIXTURES
    }


def _groups(items: list[pytest.Item]) -> dict[str, str]:
    """nodeid -> group name: the connected components of tests and the costly fixtures they
    share (union-find over fixture names)."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    uses = {item.nodeid: sorted(_shared_fixtures(item)) for item in items}
    for names in uses.values():
        for other in names[1:]:
            parent[find(other)] = find(names[0])
    return {nodeid: find(names[0]) for nodeid, names in uses.items() if names}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    groups = _groups(items)
    for item in items:
        if item.nodeid in groups:
            item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
