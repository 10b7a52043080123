"""`roomchat`, the installed console script: every subcommand listed, each handing its arguments
to its module, `token` signing with the authorizer's own code, `bench` clear when absent."""

from __future__ import annotations

import importlib.machinery
import subprocess
import sys
import time
import types
from pathlib import Path

import jwt
import pytest

from roomchat.auth import InvalidToken, JwtVerifier, Policy
from roomchat_tools import cli

# What issue 15 and the Makefile expect; COMMANDS must offer at least these.
SUBCOMMANDS = [
    "run",
    "chat",
    "history",
    "moderate",
    "export",
    "token",
    "sdk-types",
    "plan",
    "deploy",
    "destroy",
    "bench",
    "build",
    "lint-infra",
]
ROOMCHAT = Path(sys.executable).with_name("roomchat")  # where `make venv` installs it
SECRET = "a-test-secret-0123456789-0123456789"


def _roomchat(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOMCHAT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


def test_the_console_script_is_installed_beside_the_interpreter():
    assert ROOMCHAT.is_file(), "run `make venv` (pip install -e '.[dev]') to install `roomchat`"


def test_help_lists_every_subcommand_with_its_one_line_help():
    result = _roomchat("--help")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name in SUBCOMMANDS:
        listed = [line for line in lines if line.split()[:1] == [name]]
        assert len(listed) == 1, f"{name} missing from `roomchat --help`:\n{result.stdout}"
        assert listed[0].split(None, 1)[1].strip() == cli.COMMANDS[name].help
    assert sorted(cli.COMMANDS) == sorted(SUBCOMMANDS)


@pytest.mark.parametrize("name", ["run", "chat", "history", "token", "plan", "build", "lint-infra"])
def test_each_subcommand_shows_its_own_options_under_its_own_name(name):
    result = _roomchat(name, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(("usage: roomchat ", "usage: deploy.py ")), result.stdout
    if name != "plan":  # deploy.py names its own parser
        assert result.stdout.startswith(f"usage: roomchat {name}")


def test_an_unknown_subcommand_is_refused_with_the_list():
    result = _roomchat("deply")
    assert result.returncode == 2
    assert "invalid choice: 'deply'" in result.stderr and "'deploy'" in result.stderr


def test_no_subcommand_prints_the_help_and_fails():
    result = _roomchat()
    assert result.returncode == 2
    assert "lint-infra" in result.stderr


def test_plan_deploy_and_destroy_give_deploy_its_action(monkeypatch):
    seen: list[list[str]] = []
    fake = types.ModuleType("roomchat_tools.infra.deploy")
    fake.main = lambda argv: seen.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "roomchat_tools.infra.deploy", fake)
    for name in ("plan", "deploy", "destroy"):
        assert cli.main([name, "--var-file", "x.tfvars"]) == 0
    assert seen == [
        ["plan", "--var-file", "x.tfvars"],
        ["apply", "--var-file", "x.tfvars"],
        ["destroy", "--var-file", "x.tfvars"],
    ]


# ----- token -------------------------------------------------------------------------------------


def test_token_is_signed_with_the_authorizers_format_and_secret():
    before = int(time.time())
    result = _roomchat(
        "token",
        "--sub",
        "user-ana",
        "--name",
        "Ana",
        "--ttl",
        "600",
        "--secret-env",
        "MY_SECRET",
        env={"MY_SECRET": SECRET},
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    identity = _verifier(SECRET).verify(token)
    assert identity.sub == "user-ana" and identity.name == "Ana"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == ("roomchat-dev", "roomchat")
    assert before + 600 <= claims["exp"] <= int(time.time()) + 600
    with pytest.raises(InvalidToken, match="Signature"):
        _verifier("another-secret-0123456789-0123456789").verify(token)


def _verifier(secret: str) -> JwtVerifier:
    return JwtVerifier(Policy("roomchat-dev", "roomchat", 86400), lambda: {"default": secret})


def test_token_carries_kid_and_granted_rooms():
    result = _roomchat(
        "token", "--sub", "u", "--kid", "k2", "--room", "team-a", "--room", "team-b",
        env={"ROOMCHAT_AUTH_SECRET": SECRET},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert jwt.get_unverified_header(token)["kid"] == "k2"
    verifier = JwtVerifier(Policy("roomchat-dev", "roomchat", 86400), lambda: {"k2": SECRET})
    assert verifier.verify(token).rooms == ("team-a", "team-b")


def test_token_reads_roomchat_auth_secret_by_default():
    result = _roomchat("token", "--sub", "user-bo", env={"ROOMCHAT_AUTH_SECRET": SECRET})
    assert result.returncode == 0, result.stderr
    assert _verifier(SECRET).verify(result.stdout.strip()).sub == "user-bo"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--sub", "u"], {}, "no secret"),
        (["--sub", "u"], {"ROOMCHAT_AUTH_SECRET": "too-short"}, "at least 32"),
        (["--sub", "u", "--name", "x" * 33], {"ROOMCHAT_AUTH_SECRET": SECRET}, "--name"),
        (["--sub", "u", "--name", " "], {"ROOMCHAT_AUTH_SECRET": SECRET}, "--name"),
        (["--sub", " "], {"ROOMCHAT_AUTH_SECRET": SECRET}, "--sub"),
        (["--sub", "u", "--ttl", "0"], {"ROOMCHAT_AUTH_SECRET": SECRET}, "--ttl"),
        (["--sub", "u", "--room", "a#b"], {"ROOMCHAT_AUTH_SECRET": SECRET}, "--room"),
    ],
)
def test_token_refuses_bad_input_and_prints_no_token(args, env, message):
    result = _roomchat("token", *args, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr and "Traceback" not in result.stderr


# ----- bench -------------------------------------------------------------------------------------


def _fake_package(monkeypatch, name: str, main) -> None:
    for module_name in (name, f"{name}.__main__"):
        module = types.ModuleType(module_name)
        module.__spec__ = importlib.machinery.ModuleSpec(module_name, None)
        monkeypatch.setitem(sys.modules, module_name, module)
    sys.modules[f"{name}.__main__"].main = main  # type: ignore[attr-defined]


def test_bench_hands_its_arguments_to_the_bench_packages_main(monkeypatch):
    seen = {}

    def main(argv):
        seen.update(argv=argv, sys_argv=list(sys.argv))
        return 3

    _fake_package(monkeypatch, cli.BENCH_PACKAGE, main)
    assert cli.main(["bench", "--smoke", "--out", "x"]) == 3
    assert seen == {
        "argv": ["--smoke", "--out", "x"],
        "sys_argv": ["roomchat bench", "--smoke", "--out", "x"],  # as `python -m` would see it
    }


def test_bench_without_its_package_says_so(monkeypatch, capsys):
    missing = "roomchat_tools.no_such_bench"
    monkeypatch.setattr(cli, "BENCH_PACKAGE", missing)
    monkeypatch.setitem(cli.COMMANDS, "bench", cli.Command("bench", f"{missing}.__main__"))
    assert cli.main(["bench"]) == 2
    assert f"runs the {missing} package" in capsys.readouterr().err


def test_bench_does_not_hide_a_missing_dependency_of_the_bench(monkeypatch):
    def main(argv):
        import a_module_nobody_has  # noqa: F401

    _fake_package(monkeypatch, cli.BENCH_PACKAGE, main)
    with pytest.raises(ModuleNotFoundError, match="a_module_nobody_has"):
        cli.main(["bench"])
