"""The Terraform checks that need no cloud: fmt, validate, native `terraform test` (mock
provider), checkov, and the module conventions of STYLE.md."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from roomchat_tools.infra import lint_infra, tf
from tests.infra.conftest import TERRAFORM_TIMEOUT, needs_terraform

pytestmark = pytest.mark.infra

MODULES = sorted(path for path in (tf.INFRA_DIR / "modules").iterdir() if path.is_dir())
ALL_MODULE_DIRS = [tf.INFRA_DIR, *MODULES]


@pytest.fixture(scope="module")
def offline_stack(
    tmp_path_factory: pytest.TempPathFactory, tf_config_dir: Path
) -> Iterator[tf.Stack]:
    """A working copy of infra/ after an offline init (provider from the mirror)."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    stack = tf.Stack(
        tmp_path_factory.mktemp("offline"), config_dir=tf_config_dir, timeout=TERRAFORM_TIMEOUT
    )
    stack.init()
    yield stack


# ---- terraform's own checks -----------------------------------------------------------------


@needs_terraform
def test_terraform_fmt_has_nothing_to_change() -> None:
    tf.fmt_check([tf.INFRA_DIR])


@needs_terraform
def test_terraform_validate(offline_stack: tf.Stack) -> None:
    assert "Success! The configuration is valid." in offline_stack.validate()


@needs_terraform
def test_init_keeps_the_committed_lock_file(offline_stack: tf.Stack) -> None:
    committed = (tf.INFRA_DIR / ".terraform.lock.hcl").read_text()
    assert (offline_stack.workdir / ".terraform.lock.hcl").read_text() == committed


def _every_run_passed(output: str, test_files: list[Path]) -> None:
    """`terraform test` passed every run block of ``test_files`` (none skipped, none missed)."""
    summary = re.search(r"Success! (\d+) passed, 0 failed", output)
    assert summary, output
    runs = sum(len(re.findall(r"^run \"", f.read_text(), flags=re.M)) for f in test_files)
    assert int(summary.group(1)) == runs > 0


ROOT_TEST_FILES = sorted((tf.INFRA_DIR / "tests").glob("*.tftest.hcl"))


@needs_terraform
@pytest.mark.parametrize("test_file", ROOT_TEST_FILES, ids=lambda p: p.stem)
def test_native_terraform_tests_pass(
    offline_stack: tf.Stack, lambda_zip: tuple[Path, str], test_file: Path
) -> None:
    """infra/tests/*.tftest.hcl: routes, URLs, least-privilege policies, opt-in features and
    variable validation, against a mock provider; one file per test, so they run in parallel."""
    output = offline_stack.test(
        {"lambda_zip_path": str(lambda_zip[0]), "web_dir": str(tf.INFRA_DIR.parent / "web")},
        extra_args=[f"-filter=tests/{test_file.name}"],
    )
    _every_run_passed(output, [test_file])


@needs_terraform
def test_variable_validation_tests_pass(tmp_path: Path, tf_config_dir: Path) -> None:
    """infra/tests/variables/*.tftest.hcl: each bad value (or combination) of a variable is refused
    with its message. Validations read only variables, so the tests run against variables.tf alone:
    no provider to start and no resources to plan per run (~1 s for all instead of ~3 s a run)."""
    module = tmp_path / "variables"
    (module / "tests").mkdir(parents=True)
    shutil.copy(tf.INFRA_DIR / "variables.tf", module)
    test_files = sorted((tf.INFRA_DIR / "tests" / "variables").glob("*.tftest.hcl"))
    for test_file in test_files:
        shutil.copy(test_file, module / "tests")
    stack = tf.Stack(
        tmp_path / "work", module_dir=module, config_dir=tf_config_dir, timeout=TERRAFORM_TIMEOUT
    )
    stack.sync()  # no init: nothing to install
    output = stack.test()
    _every_run_passed(output, test_files)


MODULES_WITH_TESTS = [path for path in MODULES if list(path.glob("tests/*.tftest.hcl"))]


@needs_terraform
@pytest.mark.parametrize("module", MODULES_WITH_TESTS, ids=lambda p: p.name)
def test_module_terraform_tests_pass(module: Path, tmp_path: Path, tf_config_dir: Path) -> None:
    """A module's own tests/*.tftest.hcl (mock provider), e.g. websocket_api's logging modes."""
    stack = tf.Stack(
        tmp_path / module.name,
        module_dir=module,
        config_dir=tf_config_dir,
        timeout=TERRAFORM_TIMEOUT,
    )
    # A child module has no lock file of its own; the provider still comes from the mirror.
    stack.init(readonly_lock=False)
    output = stack.test()
    assert re.search(r"Success! \d+ passed, 0 failed", output), output


# ---- checkov --------------------------------------------------------------------------------


def _checkov() -> str | None:
    configured = os.environ.get("CHECKOV")
    if configured:
        return configured if Path(configured).exists() or shutil.which(configured) else None
    return shutil.which("checkov")


def test_checkov_finds_no_failed_check() -> None:
    checkov = _checkov()
    if checkov is None:
        pytest.skip("checkov not available: set CHECKOV (make test does: .venv-tools/bin/checkov)")
    result = subprocess.run(
        lint_infra.checkov_command(checkov, output="json"),
        cwd=tf.REPO_ROOT,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    summary = report.get("summary", report)
    failed = [
        (check["check_id"], check["resource"])
        for check in report.get("results", {}).get("failed_checks", [])
    ]
    assert summary["failed"] == 0, failed
    assert summary["passed"] > 0
    assert result.returncode == 0, result.stderr


def _skips_with_reasons() -> dict[str, str]:
    """skip-check entries of .checkov.yaml with the comment lines just above each."""
    skips: dict[str, str] = {}
    comment: list[str] = []
    in_skips = False
    for line in lint_infra.CHECKOV_CONFIG.read_text().splitlines():
        stripped = line.strip()
        if not line.startswith(" ") and stripped.endswith(":"):
            in_skips = stripped == "skip-check:"
            comment = []
        elif in_skips and stripped.startswith("#"):
            comment.append(stripped.lstrip("# "))
        elif in_skips and stripped.startswith("- "):
            skips[stripped[2:].strip()] = " ".join(comment)
            comment = []
    return skips


def test_every_checkov_skip_is_in_the_config_with_a_reason() -> None:
    skips = _skips_with_reasons()
    assert skips, "expected the skip list in .checkov.yaml"
    for check, reason in skips.items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), check
        assert len(reason) > 40, f"{check} needs a reason"
    inline = [
        path
        for path in tf.INFRA_DIR.rglob("*.tf")
        if "checkov:skip" in path.read_text() and ".terraform" not in path.parts
    ]
    assert inline == [], "skips belong in .checkov.yaml, with their reason"


# ---- module conventions (STYLE.md) ----------------------------------------------------------


def _blocks(path: Path, kind: str) -> dict[str, str]:
    """Top-level `<kind> "name" {` blocks of a file (each runs to the next top-level block)."""
    text = path.read_text()
    parts = re.split(rf'(?m)^{kind} "([^"]+)" {{\n', text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.parametrize("module", ALL_MODULE_DIRS, ids=lambda p: p.name)
def test_module_has_the_standard_files(module: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (module / name).is_file(), f"{module.name}/{name}"


@pytest.mark.parametrize("module", ALL_MODULE_DIRS, ids=lambda p: p.name)
def test_every_variable_has_description_type_default_and_explained_validation(
    module: Path,
) -> None:
    variables = _blocks(module / "variables.tf", "variable")
    assert "tags" in variables, f"{module.name} must take tags"
    for name, body in variables.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), f"{name} is not snake_case"
        for attribute in ("description", "type", "default"):
            assert re.search(rf"(?m)^  {attribute}\s*=", body), f"{module.name}: {name}.{attribute}"
        assert body.count("validation {") == body.count("error_message"), name
        if re.search(rf"contains\(\[[^\]]*\],\s*var\.{name}\)", body):  # a closed set of values
            assert "one of:" in body, f"{module.name}: {name} error must list the allowed values"


@pytest.mark.parametrize("module", ALL_MODULE_DIRS, ids=lambda p: p.name)
def test_every_output_is_described_and_snake_case(module: Path) -> None:
    outputs = _blocks(module / "outputs.tf", "output")
    assert outputs
    for name, body in outputs.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert re.search(r"(?m)^  description\s*=", body), f"{module.name}: output {name}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.name)
def test_module_readme_lists_every_input_and_output(module: Path) -> None:
    readme = (module / "README.md").read_text()
    for name in [
        *_blocks(module / "variables.tf", "variable"),
        *_blocks(module / "outputs.tf", "output"),
    ]:
        assert f"`{name}`" in readme, f"{module.name}/README.md does not mention {name}"


def test_root_readme_lists_every_variable_and_output() -> None:
    readme = (tf.INFRA_DIR / "README.md").read_text()
    names = [
        *_blocks(tf.INFRA_DIR / "variables.tf", "variable"),
        *_blocks(tf.INFRA_DIR / "outputs.tf", "output"),
    ]
    missing = [name for name in names if f"`{name}`" not in readme]
    assert missing == []


def test_provider_is_pinned_and_root_module_has_no_backend_block() -> None:
    """The exact version matches the lock file; the backend is chosen per run (roomchat_tools.infra.tf),
    so the same module applies to the emulator with local state."""
    versions = (tf.INFRA_DIR / "versions.tf").read_text()
    assert re.search(r'version\s*=\s*"5\.100\.0"', versions)
    for path in tf.INFRA_DIR.glob("*.tf"):
        assert "backend " not in path.read_text(), path.name
