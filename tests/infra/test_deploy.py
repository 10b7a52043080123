"""roomchat_tools.infra.deploy (`roomchat plan|deploy|destroy`) without AWS: the refusal without credentials and the argument handling.
Nothing here runs terraform against AWS; where a run gets that far, Stack is a fake."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any, ClassVar

import pytest

from roomchat_tools.infra import deploy

pytestmark = pytest.mark.infra

_CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection (e.g. to instance metadata) fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network call attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


class FakeStack:
    """Records what deploy.py asks of Terraform."""

    instances: ClassVar[list[FakeStack]] = []

    def __init__(self, workdir: Path, **kwargs: Any) -> None:
        self.workdir = Path(workdir)
        self.kwargs = kwargs
        self.calls: list[tuple[str, Any]] = []
        FakeStack.instances.append(self)

    def init(self, migrate_state: bool = False) -> None:
        self.calls.append(("init", migrate_state))

    def plan(self, variables: dict, out: Path | None = None, var_files: Any = ()) -> bool:
        self.calls.append(("plan", (variables, out, list(var_files))))
        return True

    # What `terraform show -json` lists: the history table, two other resources, a data source.
    state: ClassVar[list[dict[str, Any]]] = [
        {"address": "module.tables.aws_dynamodb_table.history", "mode": "managed"},
        {"address": "module.tables.aws_dynamodb_table.rooms", "mode": "managed"},
        {"address": "module.attachments.aws_s3_bucket.this", "mode": "managed"},
        {"address": "module.attachments.aws_s3_bucket_policy.this[0]", "mode": "managed"},
        {
            "address": "module.attachments.aws_s3_bucket_cors_configuration.this[0]",
            "mode": "managed",
        },
        {"address": 'module.functions.aws_lambda_function.this["join"]', "mode": "managed"},
        {"address": "data.aws_caller_identity.current", "mode": "data"},
    ]

    def apply(
        self,
        variables: Any = None,
        plan_file: Path | None = None,
        var_files: Any = (),
        targets: Any = (),
    ) -> str:
        if targets:
            files = {str(f): Path(f).read_text() for f in var_files}
            self.calls.append(("apply", {"targets": list(targets), "var_files": files}))
        else:
            self.calls.append(("apply", plan_file))
        return ""

    def destroy(self, variables: dict, var_files: Any = (), targets: Any = ()) -> str:
        files = {str(f): Path(f).read_text() for f in var_files}
        self.calls.append(("destroy", {"targets": list(targets), "var_files": files}))
        return ""

    def resources(self) -> list[dict[str, Any]]:
        return list(self.state)

    def outputs(self) -> dict[str, Any]:
        return {
            "websocket_url": "wss://abc.execute-api.eu-west-1.amazonaws.com/live",
            "web_url": "https://d111111abcdef8.cloudfront.net/",
        }


@pytest.fixture
def fake_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> type[FakeStack]:
    FakeStack.instances = []
    monkeypatch.setattr(deploy.tf, "Stack", FakeStack)
    monkeypatch.setattr(deploy.build_lambda, "build", lambda: (tmp_path / "functions.zip", "HASH="))
    return FakeStack


def test_refuses_without_credentials_before_building_or_running_terraform(
    no_credentials: None,
    no_network: None,
    fake_stack: type[FakeStack],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert deploy.main(["apply"]) == deploy.EXIT_NO_CREDENTIALS
    assert "No AWS credentials configured" in capsys.readouterr().err
    assert fake_stack.instances == []


def test_credentials_are_found_from_the_environment_without_network(
    no_credentials: None, no_network: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    assert deploy.credential_source() == "env"


def test_credentials_are_found_from_a_profile_file(
    no_credentials: None, no_network: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text("[ops]\naws_access_key_id = AKIA\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert deploy.credential_source() == "shared-credentials-file"


def test_plan_builds_then_plans_with_the_zip(
    fake_stack: type[FakeStack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # tests/conftest.py sets dummy credentials for every test; nothing reaches AWS (fake Stack).
    assert deploy.main(["plan", "--workdir", str(tmp_path / "w")]) == 0
    (stack,) = fake_stack.instances
    assert stack.kwargs["backend_config"] is None
    assert stack.kwargs["state_path"] == deploy.DEFAULT_LOCAL_STATE.resolve()
    assert [name for name, _ in stack.calls] == ["init", "plan"]
    variables, out, _ = stack.calls[1][1]
    # The example deployment hosts the web client (a var file may turn it off).
    assert variables == {
        "lambda_zip_path": str(tmp_path / "functions.zip"),
        "hosting_enabled": True,
        "web_dir": str(deploy.WEB_DIR),
    }
    assert out is None


def test_apply_plans_to_a_file_and_applies_that_plan(
    fake_stack: type[FakeStack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy.main(["apply", "--auto-approve", "--workdir", str(tmp_path / "w")]) == 0
    (stack,) = fake_stack.instances
    assert [name for name, _ in stack.calls] == ["init", "plan", "apply"]
    plan_file = stack.calls[1][1][1]
    assert stack.calls[2][1] == plan_file
    printed = capsys.readouterr().out
    assert "wss://abc.execute-api.eu-west-1.amazonaws.com/live" in printed
    assert "web client:    https://d111111abcdef8.cloudfront.net/" in printed


def test_apply_without_a_terminal_or_auto_approve_changes_nothing(
    fake_stack: type[FakeStack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert deploy.main(["apply", "--workdir", str(tmp_path / "w")]) == 1
    (stack,) = fake_stack.instances
    assert "apply" not in [name for name, _ in stack.calls]


def test_destroy_asks_and_only_yes_destroys(
    fake_stack: type[FakeStack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    assert deploy.main(["destroy", "--workdir", str(tmp_path / "w")], ask=lambda _: "y") == 1
    assert deploy.main(["destroy", "--workdir", str(tmp_path / "w")], ask=lambda _: "yes") == 0
    refused, accepted = fake_stack.instances
    assert "destroy" not in [name for name, _ in refused.calls]
    assert "destroy" in [name for name, _ in accepted.calls]


def test_backend_config_selects_the_s3_backend(
    fake_stack: type[FakeStack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "prod.s3.tfbackend"
    config.write_text('bucket = "b"\n')
    monkeypatch.setenv(deploy.BACKEND_CONFIG_ENV, str(config))
    assert deploy.main(["plan", "--workdir", str(tmp_path / "w")]) == 0
    (stack,) = fake_stack.instances
    assert stack.kwargs["backend_config"] == config.resolve()
    assert stack.kwargs["state_path"] is None


def test_a_missing_backend_config_file_is_a_usage_error(
    fake_stack: type[FakeStack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = deploy.main(["plan", "--backend-config", str(tmp_path / "missing")])
    assert code == deploy.EXIT_USAGE
    assert "backend config file not found" in capsys.readouterr().err
    assert fake_stack.instances == []


def test_state_and_backend_config_exclude_each_other(
    fake_stack: type[FakeStack], tmp_path: Path
) -> None:
    config = tmp_path / "b.tfbackend"
    config.write_text("")
    argv = ["plan", "--backend-config", str(config), "--state", str(tmp_path / "s")]
    assert deploy.main(argv) == deploy.EXIT_USAGE


def test_unknown_command_is_rejected() -> None:
    with pytest.raises(SystemExit) as exit_info:
        deploy.main(["deploy-everything"])
    assert exit_info.value.code == 2


def test_var_files_are_passed_on(fake_stack: type[FakeStack], tmp_path: Path) -> None:
    var_file = tmp_path / "prod.tfvars"
    var_file.write_text('stage_name = "prod"\n')
    argv = ["plan", "--var-file", str(var_file), "--workdir", str(tmp_path / "w")]
    assert deploy.main(argv) == 0
    (stack,) = fake_stack.instances
    assert stack.calls[1][1][2] == [var_file]


def test_migrate_state_is_passed_to_init(fake_stack: type[FakeStack], tmp_path: Path) -> None:
    assert deploy.main(["plan", "--migrate-state", "--workdir", str(tmp_path / "w")]) == 0
    (stack,) = fake_stack.instances
    assert stack.calls[0] == ("init", True)


def test_destroy_keeps_the_history_table_by_targeting_everything_else(
    fake_stack: type[FakeStack], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy.main(["destroy", "--auto-approve", "--workdir", str(tmp_path / "w")]) == 0
    (stack,) = fake_stack.instances
    destroys = [args for name, args in stack.calls if name == "destroy"]
    assert destroys == [
        {
            # The attachments bucket and its policy stay with the history; its CORS rule goes.
            "targets": [
                "module.attachments.aws_s3_bucket_cors_configuration.this[0]",
                'module.functions.aws_lambda_function.this["join"]',
                "module.tables.aws_dynamodb_table.rooms",
            ],
            "var_files": {},
        }
    ]
    assert "apply" not in [name for name, _ in stack.calls]
    assert "CONFIRM_DELETE_HISTORY=yes" in capsys.readouterr().out


def test_delete_history_turns_protection_off_then_destroys_everything(
    fake_stack: type[FakeStack], tmp_path: Path
) -> None:
    var_file = tmp_path / "prod.tfvars"
    var_file.write_text("history_deletion_protection = true\n")
    argv = ["destroy", "--delete-history", "--auto-approve", "--var-file", str(var_file)]
    assert deploy.main([*argv, "--workdir", str(tmp_path / "w")]) == 0
    (stack,) = fake_stack.instances
    (_, apply), (_, destroy) = [c for c in stack.calls if c[0] in ("apply", "destroy")]
    # the bucket's force_destroy follows history_deletion_protection: both in one targeted apply
    assert apply["targets"] == [deploy.HISTORY_TABLE, deploy.ATTACHMENTS_BUCKET]
    assert destroy["targets"] == []  # everything
    for call in (apply, destroy):
        # the override comes last, so it wins over the user's var file
        *_, override = call["var_files"].values()
        assert json.loads(override) == {"history_deletion_protection": False}
        assert list(call["var_files"])[0] == str(var_file)


def test_delete_history_needs_an_explicit_yes_and_says_so(
    fake_stack: type[FakeStack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        return "no"

    argv = ["destroy", "--delete-history", "--workdir", str(tmp_path / "w")]
    assert deploy.main(argv, ask=ask) == 1
    assert "history table" in questions[0]
    (stack,) = fake_stack.instances
    assert not [name for name, _ in stack.calls if name in ("apply", "destroy")]
