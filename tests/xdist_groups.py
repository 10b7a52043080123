"""Running the suite on several pytest-xdist workers (`make test`: `-n 2 --dist loadgroup`).

Module-, package- and session-scoped fixtures are built once per worker process. Those that start
a stack or apply Terraform are worth building once, so every test that uses one (even
indirectly) is put in that fixture's group, and a group runs on one worker; groups that share
such a fixture are merged. The cheap shared fixtures below may be built once per worker.
tests/unit/test_parallel_groups.py checks on a small suite that a group really stays on one
worker (pytest 9.2 and pytest-xdist 3.8 disagree on how a test's id is stored, which turns the
groups off without a word: pyproject.toml pins pytest below 9.2 for that).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

from tests.stack import SEEDED_FIXTURES

# `stack` among them: it starts from the suite's seed (tests/stack.py, suite_seed) in a few
# seconds, so its tests spread over the workers, each with a stack of its own, rather than all
# waiting on one.
CHEAP_SHARED_FIXTURES = frozenset(
    {
        "stack",
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


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Generator[None, object, object]:
    # A wrapper, so the order and marks are there before xdist's own hook reads them.
    # Tests on a stack from the suite's seed run last: the seed is built while the rest run.
    items[:] = sorted(items, key=lambda item: bool(SEEDED_FIXTURES & set(item.fixturenames)))
    if config.pluginmanager.hasplugin("xdist"):
        groups = _groups(items)
        for item in items:
            if item.nodeid in groups:
                item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    return (yield)
