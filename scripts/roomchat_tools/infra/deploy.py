"""Deploy roomchat to real AWS with Terraform (make plan / make deploy / make destroy).

    roomchat plan|deploy|destroy [--backend-config FILE] [--var-file FILE]...
                                 [--auto-approve] [--state FILE] [--migrate-state]
                                 [--delete-history]

- Refuses (exit 3) when no AWS credentials are configured. The check uses botocore's own
  credential resolution, minus the providers that would make a network call (instance metadata,
  container endpoint), so it never contacts AWS.
- Builds the Lambda zip (build_lambda.py), then runs terraform through tf.py in
  the working copy .local/deploy (init, plan, apply, output) and prints the WebSocket URL.
- State: with `--backend-config FILE` (or $ROOMCHAT_TF_BACKEND_CONFIG) the working copy gets an
  empty `backend "s3" {}` block and init gets `-backend-config=FILE` (bucket, key, region,
  dynamodb_table or use_lockfile...). Without it, state is local in infra/terraform.tfstate
  (git-ignored, and outside .local/ so `make clean` cannot delete it). The root module itself has
  no backend block, so the same module applies to the emulator with throw-away local state.
- apply: plans to a file, shows it, asks for "yes" (or --auto-approve), applies that exact plan;
  the hosted web client is on (hosting_enabled, web_dir) unless a var file turns it off.
- destroy: keeps the history table (every message) and the attachments bucket (their files). It is a targeted destroy of every other
  resource in the state, so the run ends cleanly and state still holds the table; the next
  apply finds it again. With --delete-history (make destroy CONFIRM_DELETE_HISTORY=yes) it
  first turns the table's deletion protection off (a targeted apply of that one setting), then
  destroys everything. `terraform state rm` of the table would be wrong: it orphans a table
  that the next apply cannot create again (the name exists) and no one destroys any more.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from roomchat_tools.infra import build_lambda, tf

BACKEND_CONFIG_ENV = "ROOMCHAT_TF_BACKEND_CONFIG"
WORKDIR = tf.LOCAL_DIR / "deploy"
DEFAULT_LOCAL_STATE = tf.INFRA_DIR / "terraform.tfstate"

HISTORY_TABLE = "module.tables.aws_dynamodb_table.history"
# The attachments bucket holds the files of that history: kept with it, and with what keeps it
# private, encrypted, TLS-only and tidy (its CORS rule may go: it names the hosting's domain).
ATTACHMENTS_BUCKET = "module.attachments.aws_s3_bucket.this"
KEPT_RESOURCES = frozenset(
    {
        HISTORY_TABLE,
        ATTACHMENTS_BUCKET,
        "module.attachments.aws_s3_bucket_public_access_block.this",
        "module.attachments.aws_s3_bucket_ownership_controls.this",
        "module.attachments.aws_s3_bucket_server_side_encryption_configuration.this",
        "module.attachments.aws_s3_bucket_lifecycle_configuration.this",
        "module.attachments.aws_s3_bucket_policy.this[0]",
    }
)
WEB_DIR = tf.INFRA_DIR.parent / "web"

EXIT_NO_CREDENTIALS = 3
EXIT_USAGE = 2
EXIT_TERRAFORM = 1

# Credential providers whose load() makes an HTTP call: EC2 instance metadata and the
# ECS/EKS container endpoint.
_NETWORK_PROVIDERS = ("iam-role", "container-role")
_CONTAINER_ENV = ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")


def credential_source() -> str | None:
    """Where AWS credentials would come from (botocore's method name), or None.

    Only configuration is read: environment, shared config/credentials files, SSO cache
    settings, web-identity and role settings. Providers that would call an endpoint are removed;
    a container endpoint counts as configured when its variable is set.
    """
    import botocore.session
    from botocore.exceptions import BotoCoreError

    if any(os.environ.get(name) for name in _CONTAINER_ENV):
        return "container-role"
    session = botocore.session.Session()
    resolver = session.get_component("credential_provider")
    for name in _NETWORK_PROVIDERS:
        resolver.remove(name)
    try:
        credentials = resolver.load_credentials()
    except BotoCoreError as error:  # e.g. a profile that names a missing source profile
        print(f"AWS credential configuration error: {error}", file=sys.stderr)
        return None
    return getattr(credentials, "method", "unknown") if credentials else None


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deploy.py", description="Terraform roomchat into the AWS account of your credentials."
    )
    parser.add_argument("command", choices=("plan", "apply", "destroy"))
    parser.add_argument(
        "--backend-config",
        type=Path,
        default=os.environ.get(BACKEND_CONFIG_ENV) or None,
        help=f"S3 backend settings file (default: ${BACKEND_CONFIG_ENV}; none = local state)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help=f"local state file when there is no backend config (default: {DEFAULT_LOCAL_STATE})",
    )
    parser.add_argument(
        "--var-file", type=Path, action="append", default=[], help="a .tfvars file (repeatable)"
    )
    parser.add_argument("--auto-approve", action="store_true", help="apply/destroy without asking")
    parser.add_argument(
        "--delete-history",
        action="store_true",
        help="destroy: delete the history table too (every message); without it history is kept",
    )
    parser.add_argument(
        "--migrate-state",
        action="store_true",
        help="copy the state of the previous backend into this one (once, e.g. local -> S3)",
    )
    parser.add_argument("--workdir", type=Path, default=WORKDIR, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _usage_error(message: str) -> int:
    print(f"deploy.py: {message}", file=sys.stderr)
    return EXIT_USAGE


def _confirm(question: str, auto_approve: bool, ask: Callable[[str], str]) -> bool:
    if auto_approve:
        return True
    if not sys.stdin.isatty():
        print("Not a terminal: pass --auto-approve to go ahead.", file=sys.stderr)
        return False
    return ask(f"{question} Only 'yes' will be accepted: ").strip() == "yes"


def resource_targets(stack: tf.Stack) -> list[str]:
    """Every managed resource address in the state except the history table and the
    attachments bucket (KEPT_RESOURCES)."""
    return sorted(
        r["address"]
        for r in stack.resources()
        if r.get("mode", "managed") == "managed" and r["address"] not in KEPT_RESOURCES
    )


def destroy_keeping_history(
    stack: tf.Stack, variables: dict[str, Any], var_files: Sequence[Path] = ()
) -> list[str]:
    """Destroy everything but the history table; returns the targets destroyed.

    Targets are resources, so what depends on them goes too; nothing depends on the other way
    round (the table depends on no resource), so the table stays, untouched, in the state.
    """
    targets = resource_targets(stack)
    if targets:
        stack.destroy(variables, var_files=var_files, targets=targets)
    return targets


def destroy_with_history(
    stack: tf.Stack, variables: dict[str, Any], var_files: Sequence[Path] = ()
) -> None:
    """Turn the history table's deletion protection off (and the attachments bucket's
    force_destroy on: it follows history_deletion_protection), then destroy everything."""
    with tempfile.TemporaryDirectory() as folder:
        # Not *.auto.tfvars, which a later apply in the working copy would pick up by itself.
        override = Path(folder) / "delete-history.tfvars.json"
        override.write_text(json.dumps({"history_deletion_protection": False}), encoding="utf-8")
        # Passed last, so it wins over a var file that sets the protection on.
        files = [*var_files, override]
        present = {r["address"] for r in stack.resources()}
        targets = [a for a in (HISTORY_TABLE, ATTACHMENTS_BUCKET) if a in present]
        if targets:
            stack.apply(variables, var_files=files, targets=targets)
        stack.destroy(variables, var_files=files)


def main(argv: Sequence[str] | None = None, ask: Callable[[str], str] = input) -> int:
    args = _parse(argv)

    if args.backend_config is not None:
        if args.state is not None:
            return _usage_error("--state is for local state; not with --backend-config")
        if not args.backend_config.is_file():
            return _usage_error(f"backend config file not found: {args.backend_config}")
    for var_file in args.var_file:
        if not var_file.is_file():
            return _usage_error(f"var file not found: {var_file}")

    source = credential_source()
    if source is None:
        print(
            "No AWS credentials configured: refusing to run terraform against AWS.\n"
            "Configure some first (aws configure / aws sso login / AWS_PROFILE=... /\n"
            "AWS_ACCESS_KEY_ID+AWS_SECRET_ACCESS_KEY), then run this again. An EC2 instance\n"
            "role alone is not probed, since that would be a network call. For a local stack\n"
            "that needs no AWS account, use `make run`.",
            file=sys.stderr,
        )
        return EXIT_NO_CREDENTIALS
    print(f"AWS credentials from: {source}")
    if os.environ.get("AWS_ENDPOINT_URL"):
        print(f"note: AWS_ENDPOINT_URL={os.environ['AWS_ENDPOINT_URL']} redirects every call")

    zip_path, digest = build_lambda.build()
    print(f"built {zip_path} ({digest})")
    variables: dict[str, Any] = {"lambda_zip_path": str(zip_path)}
    if args.command != "destroy":
        # The example deployment hosts the web client; a var file may turn it off.
        variables.update(hosting_enabled=True, web_dir=str(WEB_DIR))

    backend_config = args.backend_config.resolve() if args.backend_config else None
    state_path = None if backend_config else (args.state or DEFAULT_LOCAL_STATE).resolve()
    print(f"state: {'S3 backend from ' + str(backend_config) if backend_config else state_path}")

    stack = tf.Stack(args.workdir, backend_config=backend_config, state_path=state_path, echo=True)
    try:
        stack.init(migrate_state=args.migrate_state)
        if args.command == "plan":
            stack.plan(variables, var_files=args.var_file)
            return 0
        if args.command == "destroy":
            return _destroy(stack, variables, args, ask)
        plan_file = stack.workdir / "deploy.tfplan"
        changed = stack.plan(variables, out=plan_file, var_files=args.var_file)
        if changed:
            if not _confirm("Apply this plan?", args.auto_approve, ask):
                print("Nothing applied.")
                return 1
            stack.apply(plan_file=plan_file)
        outputs = stack.outputs()
    except tf.TerraformError as error:
        print(error, file=sys.stderr)
        return EXIT_TERRAFORM
    print(f"\nWebSocket URL: {outputs['websocket_url']}")
    if outputs.get("custom_domain_url"):
        print(f"custom domain: {outputs['custom_domain_url']}")
    if outputs.get("web_url"):
        print(f"web client:    {outputs['web_url']}")
    if outputs.get("dashboard_url"):
        print(f"dashboard:     {outputs['dashboard_url']}")
    print(f"try it:        make chat URL={outputs['websocket_url']}")
    return 0


def _destroy(
    stack: tf.Stack, variables: dict[str, Any], args: argparse.Namespace, ask: Callable[[str], str]
) -> int:
    if args.delete_history:
        question = "Destroy every roomchat resource AND the history table (every message)?"
    else:
        question = "Destroy every roomchat resource except the history table?"
    if not _confirm(question, args.auto_approve, ask):
        print("Nothing destroyed.")
        return 1
    if args.delete_history:
        destroy_with_history(stack, variables, args.var_file)
        print("Destroyed everything, history included.")
    else:
        destroy_keeping_history(stack, variables, args.var_file)
        print(
            "Destroyed everything but the history table, which keeps every message.\n"
            "To delete it too: make destroy CONFIRM_DELETE_HISTORY=yes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
