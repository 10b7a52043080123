"""Build the Lambda deployment zip deterministically.

The same source tree always gives the same bytes: files are added in sorted order with a fixed
timestamp (1980-01-01, the earliest a zip can hold), fixed permissions and a fixed "made on" system.
Terraform hashes the zip (`filebase64sha256`) for `source_code_hash`, so a rebuild of unchanged code
leaves `terraform plan` clean, and touching a file's mtime changes nothing.

    roomchat build [--out build/functions.zip]

prints the zip path and its base64 SHA-256 (the form Lambda and Terraform use).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SOURCE_DIR = REPO_ROOT / "functions" / "roomchat"
DEFAULT_OUT = REPO_ROOT / "build" / "functions.zip"

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


def zip_bytes(source_dir: Path = SOURCE_DIR) -> bytes:
    """The zip as bytes: the package folder (`roomchat/...`) at the zip root."""
    files = source_files(source_dir)
    if not files:
        raise FileNotFoundError(f"no .py files under {source_dir}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in files:
            arcname = f"{source_dir.name}/{path.relative_to(source_dir).as_posix()}"
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = _FILE_MODE << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def b64sha256(data: bytes) -> str:
    """Base64 of the SHA-256 digest, as Terraform's filebase64sha256 and Lambda's CodeSha256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def build(out_path: Path | str = DEFAULT_OUT, source_dir: Path = SOURCE_DIR) -> tuple[Path, str]:
    """Write the zip to `out_path` and return `(path, base64 sha256)`.

    The file is only rewritten when its bytes change, through a temporary file and a rename,
    so a reader never sees half a zip.
    """
    out = Path(out_path).resolve()
    data = zip_bytes(source_dir)
    if not out.exists() or out.read_bytes() != data:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out)
    return out, b64sha256(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="zip to write")
    args = parser.parse_args(argv)
    path, digest = build(args.out)
    print(f"{path} {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
