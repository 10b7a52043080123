"""Drive Terraform from Python: the one place in the tree that does it.

    from roomchat_tools.infra import tf

    stack = tf.Stack(workdir, env=emu.environ())  # a working copy of infra/ with its own state
    stack.init()                                   # provider from a local mirror when there is one
    stack.apply({"lambda_zip_path": str(zip_path)})
    stack.outputs()["websocket_url"]
    stack.destroy({"lambda_zip_path": str(zip_path)})

A `Stack` never runs Terraform inside infra/ itself: it copies the root module (with its modules,
tests and lock file) into `workdir` and runs there, so `.terraform/`, state and generated files stay
out of the source tree, and two stacks (the tests, the local stack, a deploy) never share state.
The copy is refreshed on every `init()`; state and `.terraform/` in `workdir` are kept.

Provider installation (see `provider_installation`):
1. `$ROOMCHAT_TF_PROVIDER_MIRROR` names a mirror folder: use it;
2. else a Terraform CLI config that already has `provider_installation`: leave it alone;
3. else a well-known mirror folder holding hashicorp/aws (e.g. /opt/tf-plugins): use it;
4. else the public registry.
Using a mirror means writing a CLI config (filesystem_mirror for the providers the mirror holds,
direct for the rest) under `.local/terraform/` and pointing `TF_CLI_CONFIG_FILE` at it.

python-terraform 0.10.1 predates Terraform 1.x; this wrapper works around it (see `_Terraform`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, IsNotFlagged
from python_terraform import Terraform as _PythonTerraform

REPO_ROOT = Path(__file__).resolve().parents[3]
INFRA_DIR = REPO_ROOT / "infra"
LOCAL_DIR = REPO_ROOT / ".local"
CONFIG_DIR = LOCAL_DIR / "terraform"

MIRROR_ENV = "ROOMCHAT_TF_PROVIDER_MIRROR"
TERRAFORM_BIN_ENV = "TERRAFORM"
# Folders where a provider mirror is commonly unpacked; the last four are Terraform's own
# implied local mirror folders on Linux/macOS.
WELL_KNOWN_MIRRORS = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
# What the root module needs; a mirror counts only when it holds all of these.
REQUIRED_PROVIDERS = ("registry.terraform.io/hashicorp/aws",)

GENERATED_BACKEND_FILE = "backend_generated.tf"
_COPY_IGNORE = (
    ".terraform",
    "terraform.tfstate",
    "terraform.tfstate.*",
    "*.tfstate",
    "*.tfstate.*",
    ".terraform.tfstate.lock.info",
    "*.tfplan",
    GENERATED_BACKEND_FILE,
)
# In .terraform/: what the last successful init saw (Stack.init_fingerprint).
INIT_FINGERPRINT_FILE = ".terraform/roomchat-init.sha256"
# Marks a folder as a working copy, so sync() never empties a folder it did not make.
WORKDIR_MARKER = ".roomchat-tf-workdir"
_KEPT_IN_WORKDIR = {".terraform", "terraform.tfstate", "terraform.tfstate.backup", WORKDIR_MARKER}


class TerraformError(RuntimeError):
    """A Terraform command failed; `output` has what it printed."""

    def __init__(self, argv: list[str], returncode: int, output: str) -> None:
        self.argv = argv
        self.returncode = returncode
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-40:])
        super().__init__(f"`{' '.join(argv)}` exited {returncode}:\n{tail}")


# --------------------------------------------------------------------------------------------
# Provider installation: mirror or registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderInstallation:
    """How `terraform init` will find providers.

    mode: "mirror" (a generated CLI config at `cli_config`), "cli_config" (the user's own config
    at `cli_config`, which has provider_installation) or "registry" (no config: the public
    registry; `cli_config` is None and TF_CLI_CONFIG_FILE is unset).
    """

    mode: str
    cli_config: Path | None
    mirror: Path | None
    reason: str

    def apply_to(self, env: dict[str, str]) -> dict[str, str]:
        """`env` with TF_CLI_CONFIG_FILE set (or removed) accordingly."""
        env = dict(env)
        if self.cli_config is None:
            # The machine may point TF_CLI_CONFIG_FILE at a missing file; Terraform would only warn
            # about it, but there is nothing to read there either.
            env.pop("TF_CLI_CONFIG_FILE", None)
        else:
            env["TF_CLI_CONFIG_FILE"] = str(self.cli_config)
        return env


def _expand(path: str | Path, home: Path | None) -> Path:
    text = str(path)
    if home is not None and text.startswith("~"):
        return home / text[2:] if text.startswith("~/") else home
    return Path(text).expanduser()


def mirror_providers(mirror: Path) -> list[str]:
    """The providers (`hostname/namespace/type`) a mirror folder holds, in either layout.

    Packed layout: HOST/NS/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip;
    unpacked layout: HOST/NS/TYPE/VERSION/OS_ARCH/...
    """
    found = []
    if not mirror.is_dir():
        return found
    for type_dir in sorted(mirror.glob("*/*/*")):
        if type_dir.is_dir() and any(type_dir.iterdir()):
            found.append(type_dir.relative_to(mirror).as_posix())
    return found


def find_mirror(
    env: Mapping[str, str],
    candidates: Iterable[str | Path] = WELL_KNOWN_MIRRORS,
    home: Path | None = None,
) -> Path | None:
    """The first candidate folder that holds every provider in REQUIRED_PROVIDERS."""
    for candidate in candidates:
        path = _expand(candidate, home)
        held = set(mirror_providers(path))
        if all(provider in held for provider in REQUIRED_PROVIDERS):
            return path
    return None


def user_cli_config(env: Mapping[str, str], home: Path | None = None) -> Path | None:
    """The CLI config file Terraform would read on its own, if it exists."""
    configured = env.get("TF_CLI_CONFIG_FILE")
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_file() else None
    home = home or Path.home()
    for name in (".terraformrc", "terraform.rc"):
        if (home / name).is_file():
            return home / name
    return None


def has_provider_installation(config_text: str) -> bool:
    """Whether a CLI config already says how to install providers (outside comments)."""
    for line in config_text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("#", "//")):
            continue
        if stripped.startswith("provider_installation"):
            return True
    return False


def _hcl_string(value: str) -> str:
    return json.dumps(value)  # an HCL quoted string is a JSON string for our purposes


def cli_config_text(mirror: Path, providers: Iterable[str], base_text: str = "") -> str:
    """A CLI config installing `providers` from `mirror` and everything else from the registry.

    `base_text` (the user's own config, without provider_installation) is kept in front so its
    other settings (credentials, plugin_cache_dir) still apply.
    """
    patterns = ", ".join(_hcl_string(provider) for provider in providers)
    block = (
        "# Generated by roomchat_tools/infra/tf.py: providers found in a local mirror come from it, the rest\n"
        "# from the registry. Safe to delete; it is rewritten on the next run.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {_hcl_string(str(mirror))}\n"
        f"    include = [{patterns}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{patterns}]\n"
        "  }\n"
        "}\n"
    )
    base = base_text.rstrip()
    return f"{base}\n\n{block}" if base else block


def provider_installation(
    env: Mapping[str, str] | None = None,
    config_dir: Path = CONFIG_DIR,
    candidates: Iterable[str | Path] = WELL_KNOWN_MIRRORS,
    home: Path | None = None,
) -> ProviderInstallation:
    """Decide how providers are installed, writing the CLI config for a mirror if needed."""
    env = os.environ if env is None else env
    user_config = user_cli_config(env, home)
    user_text = user_config.read_text(encoding="utf-8") if user_config else ""

    explicit = env.get(MIRROR_ENV, "").strip()
    if explicit:
        mirror = Path(explicit).expanduser().resolve()
        if not mirror.is_dir():
            raise FileNotFoundError(f"{MIRROR_ENV}={explicit}: no such folder")
        reason = f"{MIRROR_ENV} is set"
    elif user_config is not None and has_provider_installation(user_text):
        return ProviderInstallation(
            "cli_config", user_config, None, f"{user_config} has provider_installation"
        )
    else:
        found = find_mirror(env, candidates, home)
        if found is None:
            return ProviderInstallation("registry", None, None, "no local provider mirror found")
        mirror = found.resolve()
        reason = f"found a provider mirror at {mirror}"

    providers = mirror_providers(mirror) or list(REQUIRED_PROVIDERS)
    config_dir.mkdir(parents=True, exist_ok=True)
    config = config_dir / "terraformrc"
    config.write_text(cli_config_text(mirror, providers, user_text), encoding="utf-8")
    return ProviderInstallation("mirror", config, mirror, reason)


def terraform_env(
    base: Mapping[str, str] | None = None, config_dir: Path = CONFIG_DIR
) -> dict[str, str]:
    """The environment for a terraform process: `base` (default os.environ) plus provider
    installation settings and switches that keep Terraform quiet and offline-friendly."""
    env = dict(os.environ if base is None else base)
    installation = provider_installation(env, config_dir)
    env = installation.apply_to(env)
    env.setdefault("CHECKPOINT_DISABLE", "1")  # no version check call to HashiCorp
    env.setdefault("TF_IN_AUTOMATION", "1")
    env.setdefault("TF_INPUT", "0")
    if installation.mode == "registry":
        # One download of the (large) AWS provider shared by every working copy.
        cache = config_dir / "plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        env.setdefault("TF_PLUGIN_CACHE_DIR", str(cache))
    return env


def terraform_bin(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    name = env.get(TERRAFORM_BIN_ENV, "terraform")
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"terraform not found ({name}); install Terraform >= 1.7")
    return found


# --------------------------------------------------------------------------------------------
# The python-terraform wrapper
# --------------------------------------------------------------------------------------------


class _Terraform(_PythonTerraform):
    """python-terraform 0.10.1 with what Terraform 1.x needs.

    - `cmd` is replaced: the original always passes the *current* os.environ (no per-call
      environment), prints nothing while running and returns decoded text only on success paths.
      Here each instance has its own environment, output can be echoed live, and argument
      building (`generate_cmd_string`: flags, `-var-file` temp files for variables) is reused.
    - Every other fix is in the callers in `Stack`: `destroy` must not get `-force` (removed in
      Terraform 0.15), `init` must not get the `-var-file` python-terraform adds for its (empty)
      default variables, and a saved plan must be applied without variables.
    """

    def __init__(
        self, working_dir: Path, env: Mapping[str, str], echo: bool, timeout: float | None
    ) -> None:
        super().__init__(
            working_dir=str(working_dir),
            terraform_bin_path=terraform_bin(env),
            is_env_vars_included=False,
        )
        self._env = dict(env)
        self._echo = echo
        self._timeout = timeout
        self.last_argv: list[str] = []

    def read_state_file(self, file_path: str | None = None) -> None:
        # python-terraform parses the local state after every command; nothing here uses it,
        # and with a remote backend there is no local file anyway.
        self.tfstate = None

    def cmd(self, cmd: str, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
        for unsupported in ("capture_output", "raise_on_error", "synchronous"):
            kwargs.pop(unsupported, None)
        argv = self.generate_cmd_string(cmd, *args, **kwargs)
        self.last_argv = argv
        try:
            if self._echo:
                return self._run_echoing(argv)
            proc = subprocess.run(
                argv,
                cwd=self.working_dir,
                env=self._env,
                capture_output=True,
                text=True,
                check=False,
                timeout=self._timeout,
            )
            return proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as expired:
            out = expired.stdout or ""
            out = out.decode(errors="replace") if isinstance(out, bytes) else out
            raise TerraformError(argv, -1, f"{out}\ntimed out after {self._timeout} s") from None
        finally:
            self.temp_var_files.clean_up()

    def _run_echoing(self, argv: list[str]) -> tuple[int, str, str]:
        lines = []
        with subprocess.Popen(
            argv,
            cwd=self.working_dir,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc:
            watchdog = threading.Timer(self._timeout, proc.kill) if self._timeout else None
            if watchdog:
                watchdog.start()
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                    lines.append(line)
            finally:
                if watchdog:
                    watchdog.cancel()
        return proc.returncode, "".join(lines), ""


def _check(tf: _Terraform, result: tuple[int, str, str], ok: Iterable[int] = (0,)) -> str:
    code, out, err = result
    if code not in tuple(ok):
        raise TerraformError(tf.last_argv, code, f"{out}\n{err}")
    return out


class Stack:
    """A working copy of a root module with its own state, driven through python-terraform.

    workdir:        where the copy, `.terraform/` and (local backend) state live
    module_dir:     the root module to copy (default: infra/)
    env:            the environment for terraform (default: os.environ); provider-installation
                    settings are added on top (see `terraform_env`)
    backend_config: a file of S3 backend settings: the copy gets `backend "s3" {}` and init gets
                    `-backend-config=<file>`; None keeps the local backend
    state_path:     with the local backend, where the state file lives (default: in workdir)
    echo:           print terraform's output as it runs
    timeout:        seconds any one terraform command may take (None: no limit); a command that
                    takes longer is killed and raises TerraformError
    """

    def __init__(
        self,
        workdir: Path | str,
        *,
        module_dir: Path | str = INFRA_DIR,
        env: Mapping[str, str] | None = None,
        backend_config: Path | str | None = None,
        state_path: Path | str | None = None,
        echo: bool = False,
        config_dir: Path = CONFIG_DIR,
        timeout: float | None = None,
    ) -> None:
        if backend_config is not None and state_path is not None:
            raise ValueError("give backend_config (S3) or state_path (local), not both")
        self.workdir = Path(workdir).resolve()
        self.module_dir = Path(module_dir).resolve()
        self.backend_config = Path(backend_config).resolve() if backend_config else None
        self.state_path = Path(state_path).resolve() if state_path else None
        self.env = terraform_env(env, config_dir)
        self.echo = echo
        self.timeout = timeout
        self.last_output = ""
        self._tf: _Terraform | None = None

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def terraform(self) -> _Terraform:
        if self._tf is None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._tf = _Terraform(self.workdir, self.env, self.echo, self.timeout)
        return self._tf

    def run(self, command: str, *args: Any, ok: Iterable[int] = (0,), **options: Any) -> str:
        """Any terraform command (`options` as python-terraform takes them); returns stdout."""
        tf = self.terraform
        return _check(tf, tf.cmd(command, *args, **options), ok)

    def sync(self) -> None:
        """Refresh the copy of the module in workdir, keeping `.terraform/` and local state."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        marker = self.workdir / WORKDIR_MARKER
        if self.workdir == self.module_dir or self.module_dir.is_relative_to(self.workdir):
            raise ValueError(f"workdir {self.workdir} would contain the module it copies")
        # A lock file without the marker: a copy made before the marker existed.
        earlier_copy = marker.exists() or (self.workdir / ".terraform.lock.hcl").exists()
        if any(self.workdir.iterdir()) and not earlier_copy:
            raise ValueError(
                f"refusing to clear {self.workdir}: not empty and not a tf.py working copy"
            )
        marker.write_text("roomchat tf.py working copy: everything but state is rewritten\n")
        for entry in self.workdir.iterdir():
            if entry.name in _KEPT_IN_WORKDIR:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        shutil.copytree(
            self.module_dir,
            self.workdir,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(*_COPY_IGNORE),
        )
        backend = self._backend_block()
        if backend:
            (self.workdir / GENERATED_BACKEND_FILE).write_text(backend, encoding="utf-8")

    def _backend_block(self) -> str:
        header = "# Generated by roomchat_tools/infra/tf.py for this working copy only.\n"
        if self.backend_config is not None:
            # Settings (bucket, key, region, lock table...) come from -backend-config at init.
            return header + 'terraform {\n  backend "s3" {}\n}\n'
        if self.state_path is not None:
            # Relative to the working directory (where terraform runs): the working copy names
            # no folder of its own, so a copy of the local dir elsewhere inits to the same thing.
            path = _hcl_string(os.path.relpath(self.state_path, self.workdir))
            return header + f'terraform {{\n  backend "local" {{\n    path = {path}\n  }}\n}}\n'
        return ""

    # -- commands ---------------------------------------------------------------------------

    def init_fingerprint(self) -> str:
        """What `terraform init` depends on here: every file of the working copy (module calls,
        lock file, backend block), the CLI config (provider installation) and the terraform
        binary. Unchanged, the `.terraform/` an earlier init made is still right for it."""
        digest = hashlib.sha256()
        for root, dirs, files in os.walk(self.workdir):
            dirs[:] = sorted(d for d in dirs if d != ".terraform")
            for name in sorted(files):
                path = Path(root) / name
                if name in _KEPT_IN_WORKDIR or name.startswith("terraform.tfstate"):
                    continue
                digest.update(str(path.relative_to(self.workdir)).encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
        config = self.env.get("TF_CLI_CONFIG_FILE")
        if config and Path(config).is_file():
            digest.update(Path(config).read_bytes())
        binary = Path(terraform_bin(self.env))
        digest.update(f"{binary}:{binary.stat().st_size}:{binary.stat().st_mtime_ns}".encode())
        if self.backend_config is not None:
            digest.update(self.backend_config.read_bytes())
        return digest.hexdigest()

    def init(
        self, *, readonly_lock: bool = True, migrate_state: bool = False, reuse: bool = False
    ) -> bool:
        """Copy the module and run `terraform init`; returns whether it ran.

        With ``reuse``, init is skipped when the working copy, CLI config and terraform are
        what the last successful init here saw (init_fingerprint): the local stack runs on
        every start, and init (hashing the ~700 MB provider against the lock file) is ~2 s.

        The lock file is the committed one; `readonly_lock` makes init fail rather than change
        it when the module asks for other provider versions. By default the backend is
        reconfigured without touching any state; `migrate_state` instead copies the state of the
        previously initialised backend into the new one (e.g. local -> S3, once).
        """
        self.sync()
        marker = self.workdir / INIT_FINGERPRINT_FILE
        fingerprint = self.init_fingerprint()
        if reuse and not migrate_state and marker.is_file() and marker.read_text() == fingerprint:
            return False
        marker.unlink(missing_ok=True)
        tf = self.terraform
        result = tf.init(
            backend_config=str(self.backend_config) if self.backend_config else None,
            reconfigure=IsNotFlagged if migrate_state else IsFlagged,
            migrate_state=IsFlagged if migrate_state else None,
            force_copy=IsFlagged if migrate_state else None,
            # python-terraform passes its default variables as -var-file, which init rejects.
            var=None,
            lockfile="readonly" if readonly_lock else None,
        )
        _check(tf, result)
        marker.parent.mkdir(exist_ok=True)
        marker.write_text(fingerprint)
        return True

    def validate(self) -> str:
        return self.run("validate", no_color=IsFlagged)

    def plan(
        self,
        variables: Mapping[str, Any] | None = None,
        out: Path | str | None = None,
        var_files: Sequence[Path | str] = (),
        state: Path | str | None = None,
    ) -> bool:
        """`terraform plan -detailed-exitcode`; True when there are changes. ``state`` plans
        against that local state file instead of the backend's (`-state`, local backend only,
        without taking the backend's lock: the backend's state is not touched)."""
        tf = self.terraform
        options = self._variable_options(variables, var_files)
        if out is not None:
            options["out"] = str(out)
        if state is not None:
            options["state"] = str(state)
            options["lock"] = False
        code, stdout, stderr = tf.plan(detailed_exitcode=IsFlagged, **options)
        if code not in (0, 2):
            raise TerraformError(tf.last_argv, code, f"{stdout}\n{stderr}")
        self.last_output = stdout
        return code == 2

    def apply(
        self,
        variables: Mapping[str, Any] | None = None,
        plan_file: Path | str | None = None,
        var_files: Sequence[Path | str] = (),
        targets: Sequence[str] = (),
    ) -> str:
        """Apply, either a saved plan (no variables allowed then) or with auto-approve;
        ``targets`` limits it to those resource addresses (-target)."""
        tf = self.terraform
        if plan_file is not None:
            if variables or var_files or targets:
                raise ValueError("a saved plan carries its variables and targets; pass none")
            # No -var-file: Terraform refuses variables with a saved plan.
            result = tf.apply(str(plan_file), var=None)
        else:
            result = tf.apply(
                skip_plan=True,
                target=list(targets) or None,
                **self._variable_options(variables, var_files),
            )
        return _check(tf, result)

    def apply_json_command(
        self,
        variables: Mapping[str, Any] | None = None,
        var_files: Sequence[Path | str] = (),
        plan_file: Path | str | None = None,
        refresh: bool = True,
    ) -> tuple[list[str], Callable[[], None]]:
        """The argv of `terraform apply -auto-approve -json` (Terraform's machine-readable UI, one
        JSON message per line: https://developer.hashicorp.com/terraform/internals/machine-readable-ui)
        or, with ``plan_file``, of `terraform apply -json <plan>` (no variables then), for the
        caller to run in ``self.workdir`` with ``self.env``, and a function that removes the
        temporary variable file once it has finished. ``refresh=False`` adds `-refresh=false`:
        the plan trusts the state instead of reading every resource back first."""
        tf = self.terraform
        common: dict[str, Any] = {"input": False, "no_color": IsFlagged, "json": IsFlagged}
        if plan_file is not None:
            if variables or var_files:
                raise ValueError("a saved plan carries its variables; pass none")
            options = tf._generate_default_options({**common, "var": None})
            argv = tf.generate_cmd_string("apply", str(plan_file), **options)
            tf.last_argv = argv
            return argv, tf.temp_var_files.clean_up
        if not refresh:
            common["refresh"] = False
        options = tf._generate_default_options(
            {**common, "auto-approve": True, **self._variable_options(variables, var_files)}
        )
        argv = tf.generate_cmd_string("apply", **options)
        tf.last_argv = argv
        return argv, tf.temp_var_files.clean_up

    def destroy(
        self,
        variables: Mapping[str, Any] | None = None,
        var_files: Sequence[Path | str] = (),
        targets: Sequence[str] = (),
    ) -> str:
        """Destroy everything, or only ``targets`` (and what depends on them)."""
        tf = self.terraform
        # python-terraform adds -force, which Terraform removed in 0.15: use -auto-approve.
        result = tf.destroy(
            force=IsNotFlagged,
            auto_approve=IsFlagged,
            target=list(targets) or None,
            **self._variable_options(variables, var_files),
        )
        return _check(tf, result)

    def outputs(self) -> dict[str, Any]:
        """Every root output's value."""
        raw = self.run("output", json=IsFlagged)
        return {name: item["value"] for name, item in json.loads(raw or "{}").items()}

    def show(self) -> dict[str, Any]:
        """`terraform show -json`: the current state in Terraform's JSON format."""
        return json.loads(self.run("show", json=IsFlagged, no_color=IsFlagged) or "{}")

    def resources(self) -> list[dict[str, Any]]:
        """Every resource in the state, from every module, as `terraform show -json` gives them
        (address, type, name, index, values...)."""
        found: list[dict[str, Any]] = []

        def walk(module: Mapping[str, Any]) -> None:
            found.extend(module.get("resources", []))
            for child in module.get("child_modules", []):
                walk(child)

        walk(self.show().get("values", {}).get("root_module", {}))
        return found

    def test(
        self, variables: Mapping[str, str] | None = None, extra_args: Sequence[str] = ()
    ) -> str:
        """`terraform test`: the module's tests/*.tftest.hcl; returns what it printed."""
        options: dict[str, Any] = {"no_color": IsFlagged}
        if variables:
            # `terraform test` takes -var (not a JSON var file) for string values.
            options["var"] = [f"{key}={value}" for key, value in variables.items()]
        return self.run("test", *extra_args, **options)

    @staticmethod
    def _variable_options(
        variables: Mapping[str, Any] | None, var_files: Sequence[Path | str] = ()
    ) -> dict[str, Any]:
        # A dict becomes a temporary JSON -var-file (python-terraform), so maps and bools keep
        # their types; None means none at all. User var files come after it, so they win.
        return {
            "var": dict(variables) if variables else None,
            "var_file": [str(path) for path in var_files] or None,
        }


def fmt_check(
    paths: Iterable[Path | str] = (INFRA_DIR,), env: Mapping[str, str] | None = None
) -> str:
    """`terraform fmt -check -recursive -diff`; raises TerraformError listing unformatted files."""
    argv = [terraform_bin(env), "fmt", "-check", "-recursive", "-diff", *map(str, paths)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=terraform_env(env), check=False)
    if proc.returncode != 0:
        raise TerraformError(argv, proc.returncode, proc.stdout + proc.stderr)
    return proc.stdout


def main(argv: list[str] | None = None) -> int:
    """`python -m roomchat_tools.infra.tf` says how providers will be installed (handy when init fails)."""
    installation = provider_installation()
    print(f"mode: {installation.mode} ({installation.reason})")
    if installation.cli_config:
        print(f"TF_CLI_CONFIG_FILE={installation.cli_config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
