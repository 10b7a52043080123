"""The Lambda worker's import path: the deployment package, the runtime's boto3 and the standard
library, as on Lambda; never the working tree, nor what this machine's environment installed.

Driven through the runtime's FunctionPool (the gateway's own way to invoke), no network needed.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile
from pathlib import Path

import boto3
import pytest

from roomchat_tools.local.runtime import FunctionPool, FunctionSpec, function_environment

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]

# A deployment package whose own package is called `roomchat`, like the real one, but holds only
# its __init__: `roomchat.handlers` exists in the working tree (functions/) and must not be found.
PROBE = r"""
import importlib
import json
import os
import sys


def on_probe(event, context):
    imports = {}
    for name in json.loads(event["body"])["modules"]:
        try:
            __import__(name)  # an import statement's way, from the package's own code
            module = sys.modules[name]
            imports[name] = getattr(module, "__file__", None) or "(no file)"
        except ImportError as exc:
            imports[name] = "ImportError: " + str(exc)
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "cwd": os.getcwd(),
                "no_site": sys.flags.no_site,
                "safe_path": sys.flags.safe_path,
                "pythonpath": os.environ.get("PYTHONPATH"),
                "imports": imports,
            }
        ),
    }
"""


def _zip(root: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", PROBE)
        archive.writestr("roomchat/__init__.py", '"""Only the package marker."""\n')
    (root / "task").mkdir()
    with zipfile.ZipFile(buffer) as archive:
        archive.extractall(root / "task")
    return (root / "task").resolve()


def _probe(task_root: Path, modules: list[str]) -> dict:
    spec = FunctionSpec(
        name="probe",
        arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
        handler="probe.on_probe",
        code_sha256="-",
        timeout_s=10,
    )
    env = function_environment(
        spec,
        task_root,
        region="us-east-1",
        emulator_endpoint="http://127.0.0.1:9",
        callback_url="http://127.0.0.1:9/cb",
    )
    logs: list[str] = []
    pool = FunctionPool(spec, task_root, env, 1, lambda fn, line: logs.append(line))

    async def invoke():
        try:
            return await pool.invoke({"body": json.dumps({"modules": modules})})
        finally:
            await pool.aclose()

    result = asyncio.run(invoke())
    assert result.ok, (result.error, logs)
    return json.loads(result.result["body"])


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    task_root = _zip(tmp_path_factory.mktemp("isolation"))
    modules = [
        "boto3",
        "roomchat",
        "roomchat.handlers",
        "roomchat_tools",
        "pytest",
        "aiohttp",
        "gateway",  # worker.py's neighbours in roomchat_tools/local/
        "tests",  # the top of the checkout
    ]
    return task_root, _probe(task_root, modules)


def test_isolation_pythonpath_is_the_task_root_then_the_folder_of_boto3(probe):
    task_root, seen = probe
    assert seen["cwd"] == str(task_root)
    entries = seen["pythonpath"].split(os.pathsep)
    assert entries[0] == str(task_root)
    assert str(Path(boto3.__file__).resolve().parent.parent) in entries[1:]
    assert not any(Path(entry).is_relative_to(REPO_ROOT / "scripts") for entry in entries)
    assert not any(Path(entry).is_relative_to(REPO_ROOT / "functions") for entry in entries)


@pytest.mark.parametrize("module", ["gateway", "tests"])
def test_isolation_nothing_of_the_working_tree_can_be_imported(probe, module):
    _, seen = probe
    assert seen["imports"][module].startswith("ImportError: No module named"), seen["imports"]


def test_isolation_the_interpreter_runs_with_safe_path_and_without_site(probe):
    """-P: the worker script's folder is not importable; -S: no .pth file runs (an editable
    install's finder would bring the working tree back)."""
    _, seen = probe
    assert seen["safe_path"] and seen["no_site"]


def test_isolation_boto3_comes_from_the_runtime_libraries(probe):
    _, seen = probe
    assert seen["imports"]["boto3"] == boto3.__file__


def test_isolation_the_package_is_imported_from_the_zip_not_the_working_tree(probe):
    task_root, seen = probe
    assert seen["imports"]["roomchat"] == str(task_root / "roomchat" / "__init__.py")
    # functions/roomchat/handlers.py exists in the checkout, which the venv installs (editable):
    assert (REPO_ROOT / "functions" / "roomchat" / "handlers.py").exists()
    assert seen["imports"]["roomchat.handlers"].startswith("ImportError: No module named")


@pytest.mark.parametrize("module", ["roomchat_tools", "pytest", "aiohttp"])
def test_isolation_what_only_this_machine_installed_cannot_be_imported(probe, module):
    _, seen = probe
    assert seen["imports"][module].startswith("ImportError"), seen["imports"][module]
