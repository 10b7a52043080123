"""roomchat_tools.infra.tf without real infrastructure: provider-mirror detection, the generated CLI
config, the working copy, and the flags sent to terraform (python-terraform 0.10.1 predates
Terraform 1.x, so the wrapper must fix some)."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from roomchat_tools.infra import tf
from roomchat_tools.local import emulator

pytestmark = pytest.mark.infra


def _fake_mirror(root: Path, layout: str = "unpacked") -> Path:
    provider = root / "registry.terraform.io" / "hashicorp" / "aws"
    if layout == "unpacked":
        (provider / "5.100.0" / "linux_amd64").mkdir(parents=True)
        (provider / "5.100.0" / "linux_amd64" / "terraform-provider-aws_v5.100.0_x5").touch()
    else:
        provider.mkdir(parents=True)
        (provider / "terraform-provider-aws_5.100.0_linux_amd64.zip").touch()
    return root


# ---- mirror detection -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["unpacked", "packed"])
def test_a_well_known_folder_holding_aws_is_a_mirror(tmp_path: Path, layout: str) -> None:
    mirror = _fake_mirror(tmp_path / "plugins", layout)
    found = tf.find_mirror({}, [tmp_path / "missing", mirror], home=tmp_path)
    assert found == mirror
    assert tf.mirror_providers(mirror) == ["registry.terraform.io/hashicorp/aws"]


def test_a_folder_without_the_aws_provider_is_not_a_mirror(tmp_path: Path) -> None:
    other = tmp_path / "plugins" / "registry.terraform.io" / "hashicorp" / "random" / "3.0.0"
    other.mkdir(parents=True)
    assert tf.find_mirror({}, [tmp_path / "plugins"], home=tmp_path) is None


def test_home_relative_candidates_expand_against_home(tmp_path: Path) -> None:
    _fake_mirror(tmp_path / ".terraform.d" / "plugins")
    found = tf.find_mirror({}, ["~/.terraform.d/plugins"], home=tmp_path)
    assert found == tmp_path / ".terraform.d" / "plugins"


def test_mirror_found_generates_a_filesystem_mirror_config(tmp_path: Path) -> None:
    mirror = _fake_mirror(tmp_path / "plugins")
    env = {"TF_CLI_CONFIG_FILE": str(tmp_path / "missing.rc")}  # as on this machine
    installation = tf.provider_installation(env, tmp_path / "cfg", [mirror], home=tmp_path)

    assert installation.mode == "mirror"
    assert installation.mirror == mirror.resolve()
    text = installation.cli_config.read_text()
    assert "filesystem_mirror {" in text
    assert f'path    = "{mirror.resolve()}"' in text
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in text
    assert 'direct {\n    exclude = ["registry.terraform.io/hashicorp/aws"]' in text
    assert installation.apply_to(env)["TF_CLI_CONFIG_FILE"] == str(installation.cli_config)


def test_env_var_names_the_mirror_even_when_another_is_found(tmp_path: Path) -> None:
    chosen = _fake_mirror(tmp_path / "chosen")
    found = _fake_mirror(tmp_path / "found")
    env = {tf.MIRROR_ENV: str(chosen)}
    installation = tf.provider_installation(env, tmp_path / "cfg", [found], home=tmp_path)
    assert installation.mirror == chosen.resolve()
    assert tf.MIRROR_ENV in installation.reason


def test_env_var_naming_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=tf.MIRROR_ENV):
        tf.provider_installation({tf.MIRROR_ENV: str(tmp_path / "nope")}, tmp_path, [], tmp_path)


def test_a_user_config_with_provider_installation_is_left_alone(tmp_path: Path) -> None:
    user = tmp_path / "user.rc"
    user.write_text('provider_installation {\n  network_mirror { url = "https://m/" }\n}\n')
    mirror = _fake_mirror(tmp_path / "plugins")
    env = {"TF_CLI_CONFIG_FILE": str(user)}
    installation = tf.provider_installation(env, tmp_path / "cfg", [mirror], home=tmp_path)
    assert installation.mode == "cli_config"
    assert installation.apply_to(env)["TF_CLI_CONFIG_FILE"] == str(user)
    assert not (tmp_path / "cfg" / "terraformrc").exists()


def test_other_user_settings_are_kept_in_the_generated_config(tmp_path: Path) -> None:
    (tmp_path / ".terraformrc").write_text('plugin_cache_dir = "/cache"\n')
    mirror = _fake_mirror(tmp_path / "plugins")
    installation = tf.provider_installation({}, tmp_path / "cfg", [mirror], home=tmp_path)
    text = installation.cli_config.read_text()
    assert text.startswith('plugin_cache_dir = "/cache"')
    assert "filesystem_mirror" in text


def test_commented_provider_installation_does_not_count() -> None:
    assert not tf.has_provider_installation("# provider_installation {\n")
    assert tf.has_provider_installation("provider_installation {\n}\n")


def test_no_mirror_means_the_registry_and_no_dangling_config(tmp_path: Path) -> None:
    env = {"TF_CLI_CONFIG_FILE": str(tmp_path / "missing.rc")}
    installation = tf.provider_installation(env, tmp_path / "cfg", [tmp_path / "x"], tmp_path)
    assert installation.mode == "registry"
    assert "TF_CLI_CONFIG_FILE" not in installation.apply_to(env)


def test_terraform_env_is_quiet_and_offline_friendly(tmp_path: Path) -> None:
    env = tf.terraform_env({"PATH": os.environ["PATH"]}, tmp_path)
    assert env["CHECKPOINT_DISABLE"] == "1"
    assert env["TF_IN_AUTOMATION"] == "1"
    assert env["TF_INPUT"] == "0"


# ---- the committed lock file ----------------------------------------------------------------


def test_lock_file_pins_aws_5_100_0_for_mirror_and_registry() -> None:
    """h1: for the mirror (linux_amd64, verified by init here); zh: for registry downloads on
    every platform (from public lock files of the same version)."""
    text = (tf.INFRA_DIR / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in text
    assert 'version     = "5.100.0"' in text
    assert '"h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0="' in text
    assert text.count('"zh:') == 15  # one per platform HashiCorp publishes for 5.100.0


# ---- the working copy and the flags python-terraform sends ----------------------------------


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `terraform` that records its argv (and var-file contents) as JSON lines."""
    log = tmp_path / "calls.jsonl"
    script = tmp_path / "terraform"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "files = {a: open(a.split('=', 1)[1]).read() for a in args if a.startswith('-var-file=')}\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'args': args, 'files': files}) + '\\n')\n"
        "if args[0] == 'output':\n"
        "    print(json.dumps({'websocket_url': {'value': 'wss://x/live', 'type': 'string'}}))\n"
        "if args[0] == 'plan':\n"
        "    sys.exit(2)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv(tf.TERRAFORM_BIN_ENV, str(script))
    return log


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _module(tmp_path: Path) -> Path:
    module = tmp_path / "module"
    (module / "modules" / "m").mkdir(parents=True)
    (module / "main.tf").write_text('module "m" {\n  source = "./modules/m"\n}\n')
    (module / "modules" / "m" / "main.tf").write_text("")
    (module / ".terraform").mkdir()
    (module / ".terraform" / "junk").write_text("")
    (module / "terraform.tfstate").write_text("{}")
    return module


def test_stack_works_on_a_copy_and_keeps_its_state(tmp_path: Path, fake_terraform: Path) -> None:
    module = _module(tmp_path)
    work = tmp_path / "work"
    stack = tf.Stack(work, module_dir=module, config_dir=tmp_path / "cfg")
    work.mkdir()
    (work / tf.WORKDIR_MARKER).touch()  # an earlier copy
    (work / "terraform.tfstate").write_text('{"mine": 1}')
    (work / "stale.tf").write_text("# from an older copy")

    stack.init()

    assert (work / "main.tf").exists() and (work / "modules" / "m" / "main.tf").exists()
    assert not (work / "stale.tf").exists()
    assert not (work / ".terraform" / "junk").exists()  # the source's .terraform is not copied
    assert json.loads((work / "terraform.tfstate").read_text()) == {"mine": 1}
    assert not (work / tf.GENERATED_BACKEND_FILE).exists()


def test_init_sends_no_var_file_and_keeps_the_lock_read_only(
    tmp_path: Path, fake_terraform: Path
) -> None:
    tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c").init()
    (call,) = _calls(fake_terraform)
    assert call["args"][0] == "init"
    assert "-lockfile=readonly" in call["args"]
    assert "-input=false" in call["args"]
    assert not any(arg.startswith("-var") for arg in call["args"])


def test_destroy_auto_approves_instead_of_the_removed_force_flag(
    tmp_path: Path, fake_terraform: Path
) -> None:
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    stack.destroy({"lambda_zip_path": "/x.zip", "auth_enabled": True})
    (call,) = _calls(fake_terraform)
    assert call["args"][0] == "destroy"
    assert "-force" not in call["args"]
    assert "-auto-approve" in call["args"]
    (content,) = call["files"].values()
    assert json.loads(content) == {"lambda_zip_path": "/x.zip", "auth_enabled": True}


def test_a_saved_plan_is_applied_without_variables(tmp_path: Path, fake_terraform: Path) -> None:
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    assert stack.plan({"a": "b"}, out=tmp_path / "p.tfplan") is True  # exit 2 = changes
    stack.apply(plan_file=tmp_path / "p.tfplan")
    plan, apply = _calls(fake_terraform)
    assert "-detailed-exitcode" in plan["args"] and f"-out={tmp_path / 'p.tfplan'}" in plan["args"]
    assert apply["args"][-1] == str(tmp_path / "p.tfplan")
    assert not any(arg.startswith("-var") for arg in apply["args"])
    with pytest.raises(ValueError):
        stack.apply({"a": "b"}, plan_file=tmp_path / "p.tfplan")


def test_a_warm_start_applies_without_refreshing(tmp_path: Path) -> None:
    """The local stack's warm start diffs a restored state against the config without reading
    every resource back first (-refresh=false); by default an apply refreshes."""
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    argv, cleanup = stack.apply_json_command({"a": "b"}, refresh=False)
    assert "-refresh=false" in argv and "-json" in argv and "-auto-approve=true" in argv
    cleanup()
    argv, cleanup = stack.apply_json_command({"a": "b"})
    assert not any(arg.startswith("-refresh") for arg in argv)
    cleanup()


def test_user_var_files_come_after_the_generated_one(tmp_path: Path, fake_terraform: Path) -> None:
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    (tmp_path / "prod.tfvars").write_text('stage_name = "prod"\n')
    stack.plan({"a": "b"}, var_files=[tmp_path / "prod.tfvars"])
    (call,) = _calls(fake_terraform)
    var_files = [arg for arg in call["args"] if arg.startswith("-var-file=")]
    assert var_files[-1] == f"-var-file={tmp_path / 'prod.tfvars'}"


def test_outputs_are_plain_values(tmp_path: Path, fake_terraform: Path) -> None:
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    assert stack.outputs() == {"websocket_url": "wss://x/live"}


def test_s3_backend_config_gets_an_empty_backend_block_in_the_copy_only(
    tmp_path: Path, fake_terraform: Path
) -> None:
    module = _module(tmp_path)
    config = tmp_path / "prod.s3.tfbackend"
    config.write_text('bucket = "b"\nkey = "roomchat.tfstate"\nregion = "eu-west-1"\n')
    stack = tf.Stack(tmp_path / "w", module_dir=module, backend_config=config, config_dir=tmp_path)
    stack.init()
    backend = (tmp_path / "w" / tf.GENERATED_BACKEND_FILE).read_text()
    assert 'backend "s3" {}' in backend
    assert not (module / tf.GENERATED_BACKEND_FILE).exists()
    (call,) = _calls(fake_terraform)
    assert f"-backend-config={config.resolve()}" in call["args"]


def test_local_state_path_gets_a_local_backend_block(tmp_path: Path, fake_terraform: Path) -> None:
    state = tmp_path / "keep" / "terraform.tfstate"
    stack = tf.Stack(
        tmp_path / "w", module_dir=_module(tmp_path), state_path=state, config_dir=tmp_path
    )
    stack.init()
    backend = (tmp_path / "w" / tf.GENERATED_BACKEND_FILE).read_text()
    # Named relative to the working copy (terraform runs there), so it names no folder of its own.
    assert 'backend "local"' in backend and json.dumps("../keep/terraform.tfstate") in backend


def test_backend_config_and_state_path_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        tf.Stack(tmp_path, backend_config=tmp_path / "a", state_path=tmp_path / "b")


def test_a_failing_command_raises_with_its_output(tmp_path: Path, fake_terraform: Path) -> None:
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    with pytest.raises(tf.TerraformError) as error:
        stack.run("plan", ok=(0,))  # the fake exits 2
    assert error.value.returncode == 2


# ---- the emulator environment ---------------------------------------------------------------


def test_emulator_environ_points_everything_at_the_emulator() -> None:
    emu = emulator.Emulator(endpoint="http://127.0.0.1:5999")
    env = emu.environ(
        {
            "PATH": "/bin",
            "AWS_PROFILE": "prod",
            "AWS_ENDPOINT_URL_DYNAMODB": "https://real",
            "AWS_ACCESS_KEY_ID": "AKIAREAL",
            "AWS_ROLE_ARN": "arn:aws:iam::1:role/x",
        }
    )
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5999"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    for gone in ("AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ROLE_ARN"):
        assert gone not in env
    assert env["PATH"] == "/bin"


def test_emulator_serves_on_a_free_loopback_port_and_stops() -> None:
    import boto3

    with emulator.running() as emu:
        assert emu.endpoint.startswith("http://127.0.0.1:")
        client = boto3.client("dynamodb", **emu.client_kwargs())
        assert client.list_tables()["TableNames"] == []
    port = int(emu.endpoint.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_command_over_its_time_limit_is_killed(tmp_path: Path, monkeypatch) -> None:
    script = tmp_path / "terraform"
    script.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv(tf.TERRAFORM_BIN_ENV, str(script))
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path, timeout=1)
    with pytest.raises(tf.TerraformError, match="timed out"):
        stack.validate()


def test_migrate_state_replaces_reconfigure(tmp_path: Path, fake_terraform: Path) -> None:
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    stack.init(migrate_state=True)
    (call,) = _calls(fake_terraform)
    assert "-migrate-state" in call["args"] and "-force-copy" in call["args"]
    assert "-reconfigure" not in call["args"]


def test_a_folder_that_is_not_a_working_copy_is_never_cleared(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("...")
    module = _module(tmp_path)
    stack = tf.Stack(precious, module_dir=module, config_dir=tmp_path / "c")
    with pytest.raises(ValueError, match="refusing to clear"):
        stack.sync()
    assert (precious / "thesis.tex").exists()
    with pytest.raises(ValueError, match="contain the module"):
        tf.Stack(tmp_path, module_dir=module, config_dir=tmp_path / "c").sync()


def test_targets_become_target_flags_for_apply_and_destroy(
    tmp_path: Path, fake_terraform: Path
) -> None:
    stack = tf.Stack(tmp_path / "w", module_dir=_module(tmp_path), config_dir=tmp_path / "c")
    targets = ['module.m.aws_s3_object.file["a b.js"]', "module.tables.aws_dynamodb_table.rooms"]
    stack.apply({"a": "b"}, targets=targets)
    stack.destroy({"a": "b"}, targets=targets)
    stack.destroy({"a": "b"})
    apply, destroy, destroy_all = _calls(fake_terraform)
    for call in (apply, destroy):
        assert [a for a in call["args"] if a.startswith("-target=")] == [
            f"-target={t}" for t in targets
        ]
    assert not any(a.startswith("-target") for a in destroy_all["args"])
    with pytest.raises(ValueError):
        stack.apply(plan_file=tmp_path / "p.tfplan", targets=targets)


def test_init_is_reused_until_the_working_copy_changes(tmp_path: Path, fake_terraform: Path) -> None:
    """The local stack's `init(reuse=True)`: a second start with nothing changed skips init;
    a changed module file (or a plain init) runs it again."""
    module = _module(tmp_path)
    stack = tf.Stack(tmp_path / "w", module_dir=module, config_dir=tmp_path / "c")
    assert stack.init(reuse=True) is True
    assert stack.init(reuse=True) is False
    assert len(_calls(fake_terraform)) == 1
    (module / "modules" / "m" / "main.tf").write_text("# changed\n")
    assert stack.init(reuse=True) is True
    assert stack.init(reuse=True) is False
    assert stack.init() is True  # without reuse: always
    assert [c["args"][0] for c in _calls(fake_terraform)] == ["init"] * 3
