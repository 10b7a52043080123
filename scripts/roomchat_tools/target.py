"""Which history table a command reads: the one place `history` and `export` find it.

- by default the running local stack (`make run`), from `.local/stack.json` (stackfile.py);
- `--deployed`: the stack `make deploy` applied, from `terraform output -json` (infra/tf.py),
  with your usual AWS credentials;
- or `--table NAME [--endpoint-url URL] [--region R]` explicitly.

A target is a dict: {"table", "endpoint_url", "region", "local"}.
"""

from __future__ import annotations

import argparse
import contextlib
import urllib.request
from pathlib import Path
from typing import Any

from roomchat_tools import stackfile


class TargetError(RuntimeError):
    """No table to read (no stack running, no deployed outputs); printed as `error: ...`."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that name the target: --deployed, or --table [--endpoint-url] [--region]."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--deployed", action="store_true", help="the stack `make deploy` created")
    where.add_argument("--table", default="", help="history table name (with --endpoint-url...)")
    parser.add_argument("--endpoint-url", default="", help="with --table: DynamoDB endpoint")
    parser.add_argument("--region", default="", help="with --table: AWS region")
    parser.add_argument("--tf-workdir", type=Path, default=None, help=argparse.SUPPRESS)


def from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The target the options of `add_arguments` name; raises TargetError when there is none."""
    if args.table:
        return {
            "table": args.table,
            "endpoint_url": args.endpoint_url or None,
            "region": args.region or None,
            "local": False,
        }
    if args.deployed:
        return deployed_target(args.tf_workdir)
    return local_target()


def local_target() -> dict[str, Any]:
    """Table, endpoint and region of the running local stack."""
    hint = "start it with `make run` (or use --deployed for the stack `make deploy` created)"
    try:
        info = stackfile.running()
    except stackfile.StackFileError as exc:
        raise TargetError(f"{exc}; {hint}") from None
    endpoint = info["emulator_endpoint"]
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=3).close()
    except OSError as exc:
        raise TargetError(
            f"the local stack's emulator at {endpoint} does not answer ({exc})"
        ) from None
    return {
        "table": info["history_table"],
        # The functions' data plane: the emulator, or DynamoDB Local (ROOMCHAT_DYNAMODB=local).
        "endpoint_url": stackfile.dynamodb_endpoint(info),
        "region": info.get("region", "us-east-1"),
        "local": True,
    }


def deployed_target(workdir: Path | None) -> dict[str, Any]:
    """Table and region from the deployed stack's Terraform outputs."""
    from roomchat_tools.infra import tf

    workdir = workdir or _deploy_workdir()
    if not (workdir / "terraform.tfstate").exists() and not (workdir / ".terraform").exists():
        raise TargetError(
            f"no deployed stack found in {workdir}: deploy with `make deploy` first, "
            "or pass --tf-workdir / --table"
        )
    try:
        outputs = tf.Stack(workdir).outputs()
    except (tf.TerraformError, FileNotFoundError) as exc:
        raise TargetError(f"cannot read terraform outputs from {workdir}: {exc}") from None
    table = outputs.get("history_table_name")
    if not table:
        raise TargetError(f"terraform outputs in {workdir} have no history_table_name")
    arn = str(outputs.get("history_table_arn", ""))
    region = arn.split(":")[3] if arn.count(":") >= 5 else None
    return {"table": table, "endpoint_url": None, "region": region, "local": False}


def _deploy_workdir() -> Path:
    """Where `make deploy` keeps its Terraform working copy (infra/deploy.py decides)."""
    with contextlib.suppress(ImportError, AttributeError):
        from roomchat_tools.infra import deploy  # type: ignore[attr-defined]

        return Path(deploy.WORKDIR)
    return stackfile.local_dir() / "deploy"


def dynamodb_client(target: dict[str, Any]) -> Any:
    """A low-level DynamoDB client for the target (dummy credentials for the local emulator)."""
    import boto3

    kwargs: dict[str, Any] = {}
    if target.get("region"):
        kwargs["region_name"] = target["region"]
    if target.get("local"):
        kwargs.update(aws_access_key_id="testing", aws_secret_access_key="testing")
    if target.get("endpoint_url"):
        kwargs["endpoint_url"] = target["endpoint_url"]
    return boto3.client("dynamodb", **kwargs)
