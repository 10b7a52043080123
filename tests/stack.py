"""The whole local stack, as `make run` starts it, once per test session.

`python -m roomchat_tools.local` (emulator + terraform apply of infra/ + gateway running the real
functions) on free ports, driven over the network by tests/e2e, tests/browser and tests/reliability.
tests/conftest.py defines the `stack` fixture from here, so every folder shares one stack.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest

from roomchat_tools import stackfile
from roomchat_tools.local import emulator as emulator_mod
from roomchat_tools.local import iam_check, launcher

REPO_ROOT = Path(__file__).resolve().parents[1]


STACK_IDLE_TIMEOUT_S = 10
QUOTA_LOG = "message payload quota"  # in the gateway's log line for an oversize reply or post


@dataclasses.dataclass
class RunningStack:
    proc: subprocess.Popen
    info: dict
    local_dir: Path
    log_path: Path
    env: dict
    ready_s: float = 0.0
    # stack.json as it was when the stack became ready (``info`` is updated by applied()).
    launch_info: dict = dataclasses.field(default_factory=dict)
    # Started from a copy of the suite's seed (a warm start), not from an empty emulator.
    seeded: bool = False

    @property
    def url(self) -> str:
        return self.info["websocket_url"]

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=(
                stackfile.dynamodb_endpoint(self.info)
                if service == "dynamodb"
                else self.info["emulator_endpoint"]
            ),
            region_name=self.info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def management(self):
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=self.info["callback_url"],
            region_name=self.info["region"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def applied(self, timeout_s: float = 180.0) -> dict:
        """stack.json once the stack's whole apply is done: the fan-out tier's queues and event
        source mapping, the alarms, and Terraform's outputs (``info["outputs"]``). The stack is
        ready to chat before that; tests that need any of these wait here."""
        launched = launcher.LaunchedStack(
            self.proc, self.info, self.local_dir, self.log_path, self.env, self.ready_s
        )
        try:
            self.info = launcher.wait_applied(launched, timeout_s)
        except launcher.StackNotReady as e:
            pytest.fail(str(e))
        return self.info

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        # As servers bind: TIME_WAIT leftovers of closed connections do not block a new listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


COGNITO_PASSWORD = "Correct-Horse-Battery-9"  # meets any pool's password policy


@pytest.fixture(scope="session")
def oidc_stack(tmp_path_factory):
    """A second local stack, applied with `auth_mode = "oidc"` and a Cognito user pool on the
    emulator: the suite's one auth stack (tests/e2e/test_cognito_stack.py and
    tests/browser/test_signed_in_client.py share it), started on first use (~25-60 s)."""
    tf_vars = json.dumps({"auth_mode": "oidc", "cognito_user_pool": True})
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROOMCHAT_TF_VARS", tf_vars)
        stack = _start_stack(tmp_path_factory)
        running = next(stack)
    running.applied()  # its tests read the pool and client ids from the outputs
    yield running
    with contextlib.suppress(StopIteration):
        next(stack)


@pytest.fixture(scope="session")
def cognito_user(oidc_stack):
    """`cognito_user(username)` creates a confirmed user with COGNITO_PASSWORD in the emulator's
    pool (as an admin would: AdminCreateUser + AdminSetUserPassword)."""
    pool = oidc_stack.info["outputs"]["cognito_user_pool_id"]
    idp = oidc_stack.client("cognito-idp")

    def create(username: str) -> str:
        idp.admin_create_user(
            UserPoolId=pool, Username=username, TemporaryPassword=COGNITO_PASSWORD + "-tmp"
        )
        idp.admin_set_user_password(
            UserPoolId=pool, Username=username, Password=COGNITO_PASSWORD, Permanent=True
        )
        return username

    return create


@pytest.fixture(scope="session")
def sign_in(oidc_stack, cognito_user):
    """username -> (ID token, sub) of a user created in the emulator's pool and signed in with
    InitiateAuth USER_PASSWORD_AUTH."""
    import jwt

    client_id = oidc_stack.info["outputs"]["cognito_client_id"]
    idp = oidc_stack.client("cognito-idp")

    def user(username: str) -> tuple[str, str]:
        cognito_user(username)
        result = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": COGNITO_PASSWORD},
        )["AuthenticationResult"]
        token = result["IdToken"]
        return token, jwt.decode(token, options={"verify_signature": False})["sub"]

    return user


@pytest.fixture(scope="session")
def jwt_stack(tmp_path_factory):
    """A local stack with `auth_mode = "jwt"` (tokens from `roomchat token` or
    tests/e2e/support.py's token_for, signed with AUTH_SECRET): the moderation-with-roles tests
    and the signed-in terminal client share it, started on first use."""
    from tests.e2e.support import AUTH_SECRET

    tf_vars = {"auth_mode": "jwt", "auth_secret": AUTH_SECRET}
    yield from _start_stack(tmp_path_factory, {"ROOMCHAT_TF_VARS": json.dumps(tf_vars)})


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """`python -m roomchat_tools.local` (`roomchat run`) on free ports, with a short idle timeout;
    stopped with SIGINT at the end, which must leave no process and no listening port behind."""
    yield from _start_stack(tmp_path_factory)


def _stack_env() -> dict[str, str]:
    port, emulator_port = emulator_mod.free_port(), emulator_mod.free_port()
    return {
        "ROOMCHAT_PORT": str(port),
        "ROOMCHAT_EMULATOR_PORT": str(emulator_port),
        "ROOMCHAT_IDLE_TIMEOUT": str(STACK_IDLE_TIMEOUT_S),
        "PYTHONUNBUFFERED": "1",
        # The delayed-visibility DynamoDB proxy, in the path but with no lag until a test sets one
        # (tests/reliability/support.py read_lag).
        "ROOMCHAT_READ_LAG_MS": "0",
    }


# The fixtures that start a stack from the seed (tests/conftest.py runs their tests after the rest,
# so the seed is built while the others run).
SEEDED_FIXTURES = frozenset(
    {"stack", "chat_stack", "jwt_stack", "oidc_stack", "hook_stack", "auth_stack"}
    | {"ddb_local_stack", "baseline"}
)
SEED_TIMEOUT_S = 600.0
_builders: list[threading.Thread] = []


def _seed_disabled() -> bool:
    return os.environ.get("ROOMCHAT_TEST_SEED", "1").strip() == "0"


def _seed_root(basetemp: Path) -> Path:
    # pytest-xdist: each process has its own basetemp, all below the run's one.
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def start_seed_build(basetemp: Path) -> None:
    """Start building the suite's seed in the background, once per run: the first test process
    to get here builds it (launcher.build_seed: one fresh stack of infra/ with its default
    variables, its whole apply done, stopped), the others find it started."""
    if _seed_disabled():
        return
    root = _seed_root(basetemp)
    with (root / "stack-seed.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = root / "stack-seed.started"
        if started.exists():
            return
        started.write_text(str(os.getpid()))

    def build() -> None:
        seed = root / "stack-seed"
        try:
            launcher.build_seed(seed, _stack_env(), timeout_s=SEED_TIMEOUT_S / 2)
        except Exception as e:  # every stack then starts fresh and shows what is broken
            (root / "stack-seed.failed").write_text(f"{type(e).__name__}: {e}")
            return
        (seed / "ready").write_text("")

    builder = threading.Thread(target=build, name="stack-seed", daemon=True)
    builder.start()
    _builders.append(builder)


def join_seed_build() -> None:
    """At the end of a test process: a seed still being built is finished (and its stack
    stopped) rather than left running."""
    while _builders:
        _builders.pop().join(SEED_TIMEOUT_S)


def suite_seed(tmp_path_factory) -> Path | None:
    """The suite's seed (start_seed_build), once it is built; None when ROOMCHAT_TEST_SEED=0 or
    it failed (each stack then starts fresh, and fails there if the stack is broken)."""
    if _seed_disabled():
        return None
    root = _seed_root(tmp_path_factory.getbasetemp())
    start_seed_build(tmp_path_factory.getbasetemp())  # when collection did not (a lone test)
    seed, failed = root / "stack-seed", root / "stack-seed.failed"
    deadline = time.monotonic() + SEED_TIMEOUT_S
    while time.monotonic() < deadline:
        if (seed / "ready").exists():
            return seed
        if failed.exists():
            return None
        time.sleep(0.5)
    pytest.fail(f"the suite's seed stack was not built within {SEED_TIMEOUT_S:.0f} s")


def _start_stack(tmp_path_factory, extra_env: dict[str, str] | None = None, *, seeded: bool = True):
    """A stack in a new local dir. ``seeded``: from a copy of the suite's seed, as a second
    `make run` starts (ROOMCHAT_WARM=restore: only what its variables change is applied, and it
    saves no snapshot); otherwise from an empty emulator, as a first `make run` starts."""
    local = tmp_path_factory.mktemp("local")
    seed = suite_seed(tmp_path_factory) if seeded else None
    if seed is not None:
        launcher.plant_seed(seed, local)
    # Leftovers of an earlier run that died: they must not stop a new run (a restored snapshot
    # brings its own state; a fresh start deletes it).
    (local / "devstack").mkdir(exist_ok=True)
    (local / "devstack" / "terraform.tfstate").write_text("not a state file")
    (local / "stack.json").write_text(json.dumps({"pid": 999999, "websocket_url": "ws://x"}))
    env = {
        **_stack_env(),
        **({"ROOMCHAT_WARM": "restore"} if seed is not None else {}),
        **(extra_env or {}),
    }
    port, emulator_port = int(env["ROOMCHAT_PORT"]), int(env["ROOMCHAT_EMULATOR_PORT"])
    try:
        launched = launcher.launch(local, env, timeout_s=300)
    except launcher.StackNotReady as e:
        pytest.fail(str(e))
    running = RunningStack(
        launched.proc,
        launched.info,
        local,
        launched.log_path,
        launched.env,
        launched.ready_s,
        dict(launched.info),
        seeded=seed is not None,
    )
    yield running

    # Ctrl-C: everything stops, nothing is left behind.
    code, tree = launcher.stop(launched.proc, timeout_s=60)
    if code is None:
        pytest.fail("the stack did not stop within 60 s of SIGINT")
    time.sleep(0.5)
    leftovers = [pid for pid in tree if _alive(pid)]
    assert code == 0, running.log_tail()
    # API Gateway's 128 KB message quota: no reply or post of any test may have exceeded it (the
    # gateway drops such a reply, refuses such a post, and logs either).
    log_lines = launched.log_path.read_text().splitlines()
    oversize = [line for line in log_lines if QUOTA_LOG in line]
    assert oversize == [], "frames over the 128 KB message quota:\n" + "\n".join(oversize[:5])
    # IAM on the local stack (roomchat_tools/local/iam_check.py): no function of any test may
    # have made a call its Terraform-made role does not grant (AccessDenied on AWS).
    denied = [line for line in log_lines if iam_check.DENIED_MARK in line]
    assert denied == [], "calls the functions' roles do not grant:\n" + "\n".join(denied[:5])
    assert not leftovers, f"processes left after Ctrl-C: {leftovers}"
    assert _port_free(port) and _port_free(emulator_port)
    assert not (local / "stack.json").exists()
