"""roomchat_tools.infra.build_lambda (`roomchat build`): the same source always gives the same zip, byte for byte."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from roomchat_tools.infra import build_lambda

pytestmark = pytest.mark.infra


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of functions/roomchat plus the junk a working tree collects."""
    copy = tmp_path / "src" / "roomchat"
    shutil.copytree(
        build_lambda.SOURCE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "handlers.cpython-312.pyc").write_bytes(b"\0junk")
    (copy / ".hidden").mkdir()
    (copy / ".hidden" / "x.py").write_text("secret = 1\n")
    (copy / "notes.txt").write_text("not code\n")
    return copy


def test_two_builds_are_byte_identical(source: Path, tmp_path: Path) -> None:
    first, first_hash = build_lambda.build(tmp_path / "a.zip", source)
    second, second_hash = build_lambda.build(tmp_path / "b.zip", source)
    assert first.read_bytes() == second.read_bytes()
    assert first_hash == second_hash


def test_touching_a_file_changes_nothing(source: Path, tmp_path: Path) -> None:
    before = build_lambda.zip_bytes(source)
    handlers = source / "handlers.py"
    os.utime(handlers, (1_900_000_000, 1_900_000_000))
    handlers.chmod(0o755)
    assert build_lambda.zip_bytes(source) == before


def test_changing_code_changes_the_hash(source: Path, tmp_path: Path) -> None:
    _, before = build_lambda.build(tmp_path / "a.zip", source)
    with (source / "handlers.py").open("a") as handle:
        handle.write("\n# changed\n")
    _, after = build_lambda.build(tmp_path / "a.zip", source)
    assert before != after


def test_zip_holds_only_the_package_sources_sorted_with_fixed_metadata(source: Path) -> None:
    path = source.parent / "out.zip"
    build_lambda.build(path, source)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert all(name.startswith("roomchat/") and name.endswith(".py") for name in names)
    assert "roomchat/__init__.py" in names and "roomchat/handlers.py" in names
    assert not any("__pycache__" in name or "/." in name for name in names)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_hash_is_base64_sha256_as_terraform_computes_it(source: Path, tmp_path: Path) -> None:
    path, digest = build_lambda.build(tmp_path / "a.zip", source)
    assert digest == base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def test_cli_prints_path_and_hash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.zip"
    assert build_lambda.main(["--out", str(out)]) == 0
    path, digest = capsys.readouterr().out.split()
    assert Path(path) == out.resolve()
    assert digest == build_lambda.b64sha256(out.read_bytes())


def test_the_authorizer_zip_is_deterministic_and_the_only_one_with_third_party_code(
    tmp_path: Path,
) -> None:
    first, first_hash = build_lambda.build_authorizer(tmp_path / "a.zip")
    second, second_hash = build_lambda.build_authorizer(tmp_path / "b.zip")
    chat, _ = build_lambda.build(tmp_path / "functions.zip")

    assert first.read_bytes() == second.read_bytes() and first_hash == second_hash
    names = zipfile.ZipFile(first).namelist()
    assert "roomchat/authorizer.py" in names and "jwt/__init__.py" in names
    assert "cryptography/hazmat/bindings/_rust.abi3.so" in names
    # cffi's backend for the local stack's Python 3.11 and every Lambda runtime, side by side
    assert {n for n in names if n.startswith("_cffi_backend.")} == {
        "_cffi_backend.cpython-311-x86_64-linux-gnu.so",
        "_cffi_backend.cpython-312-x86_64-linux-gnu.so",
        "_cffi_backend.cpython-313-x86_64-linux-gnu.so",
    }
    assert all(n.startswith("roomchat/") for n in zipfile.ZipFile(chat).namelist())


def test_every_runtime_terraform_accepts_has_its_cffi_build_in_the_authorizer() -> None:
    """The authorizer runs on lambda_runtime; cryptography loads cffi's backend built for that
    Python, so a runtime accepted without it refuses every RS256/ES256 token."""
    import re

    variables = (build_lambda.REPO_ROOT / "infra" / "variables.tf").read_text()
    block = variables.split('variable "lambda_runtime" {', 1)[1].split("\n}\n", 1)[0]
    allowed = re.search(r"contains\(\[([^\]]+)\], var\.lambda_runtime\)", block).group(1)
    runtimes = {v.removeprefix("python") for v in re.findall(r'"([^"]+)"', allowed)}
    bundled = {python for req, python, _, _ in build_lambda.AUTHORIZER_WHEELS if "cffi" in req}
    assert runtimes and runtimes <= bundled, f"runtimes without a cffi build: {runtimes - bundled}"


def test_a_wheel_whose_hash_differs_is_refused(tmp_path: Path) -> None:
    requirement, python, filename, _ = build_lambda.AUTHORIZER_WHEELS[0]
    (tmp_path / filename).write_bytes(b"not the wheel")
    with pytest.raises(build_lambda.WheelError, match="SHA-256"):
        build_lambda.fetch_wheel(requirement, python, filename, "0" * 64, tmp_path)
