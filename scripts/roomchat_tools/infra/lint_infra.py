"""Lint infra/: terraform fmt, terraform validate, checkov (make lint).

    roomchat lint-infra [--checkov PATH | --no-checkov]

1. `terraform fmt -check -recursive infra` (prints the diff of anything unformatted);
2. `terraform validate` in a working copy under .local/lint (offline init through tf.py);
3. checkov on infra/ with the repository's .checkov.yaml: zero failed checks, and every skipped
   check is listed there with its reason.
Exits non-zero on the first step that fails.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from roomchat_tools.infra import tf

CHECKOV_CONFIG = tf.REPO_ROOT / ".checkov.yaml"
LINT_WORKDIR = tf.LOCAL_DIR / "lint"


def run_fmt() -> None:
    tf.fmt_check([tf.INFRA_DIR])


def run_validate(workdir: Path = LINT_WORKDIR) -> str:
    stack = tf.Stack(workdir)
    stack.init()
    return stack.validate()


def checkov_command(checkov: str, output: str = "cli") -> list[str]:
    return [checkov, "--config-file", str(CHECKOV_CONFIG), "--output", output]


def run_checkov(checkov: str) -> subprocess.CompletedProcess[str]:
    """checkov from the repository root (the config names infra/ relative to it)."""
    env = dict(os.environ)
    # No call to Prisma Cloud for its check mapping: there is no API key and often no network.
    env.setdefault("BC_SKIP_MAPPING", "TRUE")
    return subprocess.run(
        checkov_command(checkov),
        cwd=tf.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--checkov", default=os.environ.get("CHECKOV", "checkov"), help="binary")
    group.add_argument("--no-checkov", action="store_true", help="skip the checkov step")
    args = parser.parse_args(argv)

    try:
        print("terraform fmt -check -recursive infra ...", flush=True)
        run_fmt()
        print("terraform validate ...", flush=True)
        print(run_validate().strip())
    except (tf.TerraformError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 1

    if args.no_checkov:
        return 0
    print(f"checkov --config-file {CHECKOV_CONFIG.name} ...", flush=True)
    try:
        result = run_checkov(args.checkov)
    except FileNotFoundError:
        print(f"checkov not found ({args.checkov}); `make .venv-tools/.installed`", file=sys.stderr)
        return 1
    print(result.stdout.strip())
    if result.returncode != 0:
        print(result.stderr.strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
