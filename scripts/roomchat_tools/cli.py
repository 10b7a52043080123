"""`roomchat`: the project's command (installed by `pip install -e .`, which `make venv` runs).

Each subcommand hands the rest of the command line to one module's `main(argv)`, imported only
when that subcommand runs (so `roomchat chat` never loads the emulator or Terraform tooling), and
`roomchat <command> --help` prints that module's own options. The Makefile's targets call these.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Command:
    help: str
    module: str
    fixed_args: tuple[str, ...] = field(default=())


COMMANDS: dict[str, Command] = {
    "run": Command(
        "the chat on this machine: emulator, terraform, gateway", "roomchat_tools.local.stack"
    ),
    "chat": Command("terminal chat client (the local stack unless --url)", "roomchat_tools.chat"),
    "history": Command("a room's history, from the history table", "roomchat_tools.history"),
    "moderate": Command(
        "operator: kick/ban, disconnect a user, delete a message",
        "roomchat_tools.moderate",
    ),
    "token": Command(
        "print a signed connect token (token authorizer)", "roomchat_tools.connect_token"
    ),
    "export": Command("history as JSON lines: one room or every room", "roomchat_tools.export"),
    "plan": Command("terraform plan against real AWS", "roomchat_tools.infra.deploy", ("plan",)),
    "deploy": Command("terraform apply to real AWS", "roomchat_tools.infra.deploy", ("apply",)),
    "destroy": Command(
        "terraform destroy on real AWS", "roomchat_tools.infra.deploy", ("destroy",)
    ),
    "bench": Command(
        "fan-out, read cost, cold start vs the sample design", "roomchat_tools.bench.__main__"
    ),
    "build": Command(
        "build the Lambda zip (build/functions.zip)", "roomchat_tools.infra.build_lambda"
    ),
    "sdk-types": Command(
        "the SDKs' protocol types from docs/asyncapi.yaml", "roomchat_tools.sdk_types"
    ),
    "lint-infra": Command(
        "terraform fmt/validate and checkov on infra/", "roomchat_tools.infra.lint_infra"
    ),
}

BENCH_PACKAGE = "roomchat_tools.bench"


class _HelpFormatter(argparse.HelpFormatter):
    """Each command and its help on one line: argparse measures subcommand names at their group's
    indent, two columns short of where it prints them, so `lint-infra` would wrap."""

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            self._action_max_length += 2


def parser() -> argparse.ArgumentParser:
    """The top-level parser: its help lists every command; the commands parse their own options."""
    top = argparse.ArgumentParser(
        prog="roomchat",
        formatter_class=_HelpFormatter,
        description="roomchat: multi-room WebSocket chat on API Gateway, Lambda and DynamoDB.",
        epilog="`roomchat <command> --help` shows a command's options. `make help` lists the "
        "Makefile targets, which call these commands.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = top.add_subparsers(dest="command", title="commands", metavar="<command>")
    for name, command in COMMANDS.items():
        commands.add_parser(name, help=command.help, add_help=False)
    return top


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("roomchat")
    except PackageNotFoundError:
        return "(not installed)"


def _entry_point(name: str, command: Command) -> Callable[[list[str]], int | None] | None:
    """The command's `main`, or None (after saying why) when its module is not in this checkout."""
    if name == "bench":
        # The bench is the package roomchat_tools.bench (`python -m roomchat_tools.bench`).
        try:
            found = importlib.util.find_spec(command.module) is not None
        except ModuleNotFoundError as exc:
            if exc.name != BENCH_PACKAGE:
                raise
            found = False
        if not found:
            print(
                f"error: `roomchat bench` runs the {BENCH_PACKAGE} package, which this checkout "
                f"does not have (no {BENCH_PACKAGE}.__main__ under scripts/roomchat_tools/)",
                file=sys.stderr,
            )
            return None
    module = importlib.import_module(command.module)
    return module.main  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        parsed = parser().parse_args(args)  # -h/--version/unknown commands exit here
        if parsed.command is None:
            parser().print_help(sys.stderr)
            return 2
    name = args[0]
    command = COMMANDS[name]
    command_argv = [*command.fixed_args, *args[1:]]
    # sys.argv as if the module had been run on its own (`python -m` style), named after the
    # command so its parser says `usage: roomchat chat ...`.
    saved_argv = sys.argv
    sys.argv = [f"roomchat {name}", *command_argv]
    try:
        entry = _entry_point(name, command)
        if entry is None:
            return 2
        return int(entry(command_argv) or 0)
    finally:
        sys.argv = saved_argv


if __name__ == "__main__":
    sys.exit(main())
