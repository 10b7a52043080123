"""Fixtures for the infra tests: the emulator, the zip and ONE terraform apply per session.

The apply runs in a temporary working copy of infra/ (roomchat_tools.infra.tf copies it), with its own
state and CLI config, so the repository is untouched and the tests can run again at once.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from roomchat_tools.infra import build_lambda, tf
from roomchat_tools.local import emulator

# One apply takes about a minute on 2 cores; a hung emulator should fail the run, not stall CI.
TERRAFORM_TIMEOUT = 600

needs_terraform = pytest.mark.skipif(
    shutil.which("terraform") is None,
    reason="terraform is not on PATH (install Terraform >= 1.7; make does not install it)",
)


@pytest.fixture(scope="package")
def tf_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where roomchat_tools.infra.tf writes its generated CLI config during the tests."""
    return tmp_path_factory.mktemp("tf-cli-config")


@pytest.fixture(scope="package")
def lambda_zip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The deployment zip of the real functions/roomchat, built into a temporary folder."""
    return build_lambda.build(tmp_path_factory.mktemp("build") / "functions.zip")


@pytest.fixture(scope="package")
def aws_emulator() -> Iterator[emulator.Emulator]:
    with emulator.running() as emu:
        yield emu


@dataclass
class Applied:
    """The root module applied to the emulator, shared by the tests of one session."""

    stack: tf.Stack
    variables: dict[str, Any]
    outputs: dict[str, Any]
    emu: emulator.Emulator
    zip_path: Path
    zip_sha256: str
    destroyed: bool = False
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, **self.emu.client_kwargs())
        return self._clients[service]


@pytest.fixture(scope="package")
def applied(
    aws_emulator: emulator.Emulator,
    lambda_zip: tuple[Path, str],
    tf_config_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Applied:
    """`terraform init` + `apply` of infra/ against the emulator (once per session)."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    zip_path, digest = lambda_zip
    stack = tf.Stack(
        tmp_path_factory.mktemp("stack"),
        env=aws_emulator.environ(),
        config_dir=tf_config_dir,
        timeout=TERRAFORM_TIMEOUT,
    )
    variables = {"lambda_zip_path": str(zip_path)}
    stack.init()
    stack.apply(variables)
    return Applied(stack, variables, stack.outputs(), aws_emulator, zip_path, digest)


@pytest.fixture
def live(applied: Applied) -> Applied:
    """The applied stack, for tests that need its resources to still exist."""
    if applied.destroyed:
        pytest.fail("the session's stack was already destroyed (test order changed?)")
    return applied
