"""`make run`: the whole chat on this machine, in one process tree that Ctrl-C stops.

1. a moto server on loopback (emulator.py, a thread of this process), restored from the
   snapshot the last run left when there is a usable one (snapshot.py: every moto backend, so
   the resources and the tables' data, and Terraform's state beside them), as a stack on AWS
   persists between deployments; the memberships and records of the connections open then are
   cleared (no connection survives a restart), the event source mappings enabled as Terraform
   made them. No snapshot, an unusable one (another moto or Python, cut short, altered: the log
   says why) or `--fresh`: the emulator starts empty and the state with it;
2. the deployment zip (../infra/build_lambda.py) and `terraform init` (only when the module
   changed since the last run), then, against the emulator (../infra/tf.py):
   - restored, same inputs (snapshot.fingerprint: module, lock file, CLI config, terraform, the
     variables, the zips' content, region and account): nothing to apply;
   - restored, inputs changed: `apply -json -refresh=false`, the restored state diffed against
     the config, so only what changed is applied (an edited function: its code; a variable:
     what uses it). If that apply fails before the chat is ready, the stack starts again from
     an empty emulator (logged);
   - fresh: `apply -json` of the whole module (from a saved plan when there is one);
3. as soon as the apply has created what the chat needs (applystream.py: all but the fan-out
   tier's queues and mapping and the alarms, which cost the provider ~40 s of fixed waits), the
   local gateway (gateway.py), built from what Terraform deployed: routes, integrations, route
   responses and functions read back from the emulator, code checked against CodeSha256. The
   rest of the apply finishes behind it; its event source mapping is polled when it appears, a
   failure stops the stack (exit 1, the snapshot dropped), Ctrl-C stops terraform first.
4. once the whole apply is done, and again at a clean stop (Ctrl-C once the apply is done), a
   snapshot for the next start (.local/devstack/emulator.snapshot, written atomically).

`roomchat run --fresh` (`make run FRESH=1`) drops the snapshot first: everything, the tables'
data too, starts from empty.

While it runs, `.local/stack.json` says where everything is (roomchat_tools.stackfile: the
chat and history clients and the tests read it); `applied` turns true, with Terraform's outputs,
once the whole apply is done. Settings come from the environment:

  ROOMCHAT_PORT=8080            gateway port (WebSocket, @connections and web client)
  ROOMCHAT_EMULATOR_PORT=5000   moto server port (0: any free port)
  ROOMCHAT_HOST=127.0.0.1       address both listen on
  ROOMCHAT_IDLE_TIMEOUT=600     seconds without a client frame before the gateway closes
  ROOMCHAT_MAX_CONNECTION=7200  seconds a connection may last
  ROOMCHAT_LAMBDA_CONCURRENCY=2 concurrent invocations (worker processes) per function at most
  ROOMCHAT_WORKER_IDLE=60       seconds before extra idle workers stop (one per function stays)
  ROOMCHAT_PREWARM=0            1: start one worker per function up front (no cold starts)
  ROOMCHAT_LOCAL_DIR=.local     where state, the zip, logs and stack.json go
  ROOMCHAT_FAULTS=1             0: no /_devstack/faults (fault injection, see faults.py)
                                nor /_devstack/usage (invocations, posts, throttled requests)
  ROOMCHAT_THROTTLE=1           0: none of API Gateway's shared limits (the stage's route
                                throttles, the account's requests/s and new connections/s,
                                the 4,096-character URL; local/throttle.py)
  ROOMCHAT_ACCOUNT_RPS=10000    the account's requests/s (burst 5,000)
  ROOMCHAT_NEW_CONNECTIONS_PER_S=500  the account's new connections/s
  ROOMCHAT_READ_LAG_MS=         set (even to 0): the functions reach DynamoDB through a proxy
                                whose eventually consistent and GSI reads lag this many ms
                                behind writes; /_devstack/dynamodb changes it while running
                                and injects DynamoDB errors (local/dynamoproxy.py).
                                Unset: no proxy.
  ROOMCHAT_WARM=1               0: neither restore nor save snapshots: every start is fresh
                                (launcher.py's stacks, the tests' and the bench's, set 0);
                                restore: restore one (launcher.py's seeded stacks) but never
                                save one.
  ROOMCHAT_PLAN_CACHE=1         0: always plan; 1: once a fresh start's whole apply is done,
                                save the plan (against an empty state) in .local/devstack/plan/,
                                and apply it on the next fresh start with the same module, code
                                and variables (skips planning: ~1-5 s). launcher.py's stacks
                                set 0.
  ROOMCHAT_FUNCTIONS_SRC=       the functions' package folder the zips are built from (default
                                functions/roomchat; a copy named roomchat to try changes on).
  ROOMCHAT_DYNAMODB=moto        local: the functions' tables live in AWS's DynamoDB Local
                                (`make dynamodb-local`), a copy of the tables Terraform made
                                in the emulator (local/dataplane.py); with ROOMCHAT_READ_LAG_MS
                                the proxy sits in front of it. stack.json's dynamodb_endpoint
                                says where the data is. The copy is made on every start, warm
                                ones too.
  ROOMCHAT_TF_VARS='{...}'      extra Terraform variables as JSON, e.g. the token authorizer:
                                '{"auth_mode": "jwt", "auth_secret": "a-dev-secret-of-32+chars..."}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
WEB_DIR = REPO_ROOT / "web"

log = logging.getLogger("devstack")
# The rooms table's address in infra/'s state and apply stream.
ROOMS_TABLE = "module.tables.aws_dynamodb_table.rooms"


class StackError(RuntimeError):
    """Something the user can fix (a busy port, a failed apply); printed without a traceback."""


def local_dir() -> Path:
    from roomchat_tools import stackfile

    return stackfile.local_dir()


def stack_file(base: Path | None = None) -> Path:
    from roomchat_tools import stackfile

    return stackfile.path(base)


def _ensure_port_free(host: str, port: int, variable: str) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers set SO_REUSEADDR, so connections of a previous run in TIME_WAIT are no obstacle.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise StackError(
                f"port {port} on {host} is in use ({exc.strerror}); stop what uses it "
                f"or choose another with {variable}=<port>"
            ) from None


@contextlib.contextmanager
def _single_instance(base: Path) -> Iterator[None]:
    """One local stack per local dir: they would share Terraform state and stack.json."""
    base.mkdir(parents=True, exist_ok=True)
    lock_path = base / "devstack.lock"
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StackError(
                f"a local stack is already running with {base} (see {stack_file(base)}); "
                "stop it first, or set ROOMCHAT_LOCAL_DIR to another folder"
            ) from None
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def _extra_variables() -> dict[str, Any]:
    raw = os.environ.get("ROOMCHAT_TF_VARS", "").strip()
    try:
        extra = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise StackError(f"ROOMCHAT_TF_VARS is not JSON: {exc}") from None
    if not isinstance(extra, dict):
        raise StackError("ROOMCHAT_TF_VARS must be a JSON object of Terraform variables")
    return extra


@contextlib.contextmanager
def _phase(name: str) -> Iterator[None]:
    """One progress line per phase of the start, with its time."""
    log.info("%s ...", name)
    started = time.monotonic()
    yield
    log.info("%s done in %.1f s", name, time.monotonic() - started)


def _auth_on() -> bool:
    """Whether ROOMCHAT_TF_VARS turns the $connect authorizer on (it needs its own zip)."""
    return _extra_variables().get("auth_mode", "none") != "none"


LOCAL_PAGE_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*"]


def _terraform_variables(
    zip_path: Path,
    authorizer_zip: Path | None = None,
    emulator_endpoint: str | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """The variables of the apply. The zips are named relative to Terraform's working directory
    (``workdir``), so neither the state nor the snapshot's fingerprint names the local dir: a
    copy of it elsewhere (the test stacks) restores a snapshot and finds nothing to apply."""

    def named(path: Path) -> str:
        return os.path.relpath(path, workdir) if workdir is not None else str(path)

    extra = _extra_variables()
    variables = {**extra, "lambda_zip_path": named(zip_path)}
    # The web page is served by the gateway on a loopback port: it uploads to and downloads from
    # the emulator's S3, which must allow it (CORS configured by the attachments module).
    variables.setdefault("attachment_cors_origins", LOCAL_PAGE_ORIGINS)
    # The emulator is plain HTTP and moto applies bucket policies: a TLS-only one refuses all.
    variables.setdefault("attachments_tls_only", False)
    if authorizer_zip is not None:
        variables["authorizer_zip_path"] = named(authorizer_zip)
    if extra.get("cognito_user_pool") and emulator_endpoint and "cognito_base_url" not in extra:
        # The pool's JWKS is served by the emulator (moto: /<pool id>/.well-known/jwks.json).
        variables["cognito_base_url"] = emulator_endpoint
    return variables


@dataclasses.dataclass
class _Restored:
    """A snapshot of an earlier run put back into the emulator, and the Terraform state that
    describes it (now the working copy's state)."""

    snapshot: Any  # snapshot.Snapshot
    state: dict[str, Any]

    def ids(self) -> dict[str, str]:
        """address -> id of every resource in the state, as the apply's stream reports them."""
        from roomchat_tools.local import snapshot

        return {
            address: str(attributes["id"])
            for address, attributes in snapshot.state_resources(self.state).items()
            if attributes.get("id") is not None
        }


@dataclasses.dataclass
class _Deploy:
    """The apply of infra/ for this start, started in the background. Three ways (``mode``):
    ``fresh`` (an empty emulator: the whole module, from the plan an earlier start saved for
    exactly these inputs when there is one), ``changed`` (a restored snapshot whose inputs
    differ: `apply -refresh=false` applies the difference) and ``unchanged`` (a restored
    snapshot of exactly these inputs: nothing to apply)."""

    stack: Any  # tf.Stack, echoing terraform's output when asked
    quiet: Any  # the same working copy without echo (outputs, saving the plan)
    variables: dict[str, Any]
    work: Path
    echo: bool
    plan: Path | None  # the saved plan for these inputs (None: ROOMCHAT_PLAN_CACHE=0)
    emu: Any = None  # emulator.Emulator
    fingerprint: str = ""  # of the apply's inputs (snapshot.fingerprint)
    restored: _Restored | None = None
    warm: bool = False  # snapshots are written (ROOMCHAT_WARM)
    apply: Any = None
    from_plan: bool = False
    mode: str = "fresh"
    _saving: Any = dataclasses.field(default_factory=threading.Lock)

    @property
    def state(self) -> Path:
        return self.work / "terraform.tfstate"

    @property
    def snapshot_path(self) -> Path:
        from roomchat_tools.local import snapshot

        return snapshot.path_in(self.work)

    def start(self, use_plan: bool = True) -> None:
        from roomchat_tools.local import snapshot
        from roomchat_tools.local.applystream import BackgroundApply, CompletedApply

        self.from_plan = False
        if self.restored is not None and self.restored.snapshot.fingerprint == self.fingerprint:
            self.mode = "unchanged"
            log.info("warm start: the inputs are those of the snapshot, nothing to apply")
            outputs = snapshot.state_outputs(self.restored.state)
            self.apply = CompletedApply(self.restored.ids(), outputs)
            return
        if self.restored is not None:
            self.mode = "changed"
            log.info("warm start: inputs changed since the snapshot, applying the difference")
            argv, cleanup = self.stack.apply_json_command(self.variables, refresh=False)
        else:
            self.mode = "fresh"
            for stale in (self.state, self.work / "terraform.tfstate.backup"):
                stale.unlink(missing_ok=True)  # the emulator is new and empty
            self.from_plan = use_plan and self.plan is not None and self.plan.is_file()
            if self.from_plan:
                log.info(
                    "applying the plan saved by an earlier start (same module, code, variables)"
                )
                argv, cleanup = self.stack.apply_json_command(plan_file=self.plan)
            else:
                argv, cleanup = self.stack.apply_json_command(self.variables)
        self.apply = BackgroundApply(
            argv,
            self.stack.workdir,
            self.stack.env,
            echo=self.echo,
            cleanup=cleanup,
            record=self.work / "apply.jsonl",
        )

    def fall_back(self, why: str) -> None:
        """The warm start failed: start again with an empty emulator, saying why."""
        log.warning("warm start failed, starting fresh: %s", why)
        self.apply.stop()
        self.discard_snapshot("the warm start failed")
        self.restored = None
        self.emu.reset()
        self.start()

    def ids(self) -> dict[str, str]:
        """address -> id of every resource the gateway may look for: the restored state's,
        updated by what this start's apply has reported."""
        ids = self.restored.ids() if self.restored is not None else {}
        ids.update(self.apply.progress.ids)
        return ids

    def save_snapshot(self) -> None:
        """The emulator's backends and Terraform's state, for the next start (snapshot.py):
        taken with the emulator's requests held back, so neither is half way through a change."""
        if not self.warm or self.emu is None or self.emu.gate is None:
            return
        from roomchat_tools.local import snapshot

        with self._saving:
            started = time.monotonic()
            with self.emu.gate.closed():
                backends = snapshot.capture_backends()
                tfstate = self.state.read_bytes()
            size = snapshot.write(
                self.snapshot_path,
                backends=backends,
                tfstate=tfstate,
                fingerprint=self.fingerprint,
                region=self.emu.region,
                account=self.emu.account,
            )
            log.info(
                "snapshot saved for the next start (%.1f MB, %.1f s)",
                size / 1e6,
                time.monotonic() - started,
            )

    def discard_snapshot(self, why: str) -> None:
        from roomchat_tools.local import snapshot

        snapshot.discard(self.snapshot_path, why)

    def save_plan(self) -> None:
        """Plan against an empty state (the next fresh start's emulator is empty too) and keep
        it for the next fresh start with the same inputs: applying a saved plan skips planning,
        ~4-10 s of the start. Run once the whole apply is done, so it takes nothing from the
        start."""
        if self.plan is None or self.from_plan or self.mode != "fresh":
            return
        started = time.monotonic()
        empty, tmp = self.plan.with_suffix(".empty-state"), self.plan.with_suffix(".tmp")
        empty.unlink(missing_ok=True)
        self.quiet.plan(self.variables, out=tmp, state=empty)
        for old in self.plan.parent.glob("*.tfplan"):
            old.unlink()
        tmp.replace(self.plan)
        log.info("plan saved for the next start in %.1f s", time.monotonic() - started)


def _plan_path(work: Path, fingerprint: str) -> Path | None:
    """Where the plan for exactly these inputs is kept: named by their fingerprint
    (snapshot.fingerprint: module, lock file, CLI config, terraform, the variables, the content
    of the zips they name, the emulator's region and account). None when
    ROOMCHAT_PLAN_CACHE=0 (the tests: every stack of theirs is new)."""
    if os.environ.get("ROOMCHAT_PLAN_CACHE", "1").strip() == "0":
        return None
    return work / "plan" / f"{fingerprint[:32]}.tfplan"


def _warm_enabled() -> bool:
    """Whether a snapshot is restored at start (ROOMCHAT_WARM not 0)."""
    return os.environ.get("ROOMCHAT_WARM", "1").strip() != "0"


def _saves_snapshots() -> bool:
    """Whether snapshots are saved (ROOMCHAT_WARM neither 0 nor restore)."""
    return os.environ.get("ROOMCHAT_WARM", "1").strip() not in {"0", "restore"}


def _restore(emu: Any, work: Path) -> _Restored | None:
    """The snapshot of an earlier run put back into the (new, empty) emulator, its Terraform
    state into the working copy; None (and a log line saying why, and an empty emulator) when
    there is none or it cannot be used, and the start is fresh."""
    from roomchat_tools.local import snapshot

    path = snapshot.path_in(work)
    started = time.monotonic()
    try:
        snap = snapshot.read(path, region=emu.region, account=emu.account)
        state = snapshot.parse_state(snap.tfstate)
        services = snapshot.restore_backends(snap.backends)
        mappings, cleared = _after_restore(emu, state)
    except snapshot.Unusable as exc:
        log.info("fresh start: %s", exc)
        _reset_after_failed_restore(emu, path)
        return None
    except Exception as exc:  # the emulator refusing what the snapshot holds, a moto change
        log.warning("fresh start: the snapshot did not restore (%s: %s)", type(exc).__name__, exc)
        _reset_after_failed_restore(emu, path)
        return None
    state_path = work / "terraform.tfstate"
    tmp = state_path.with_name(state_path.name + ".tmp")
    tmp.write_bytes(snap.tfstate)
    tmp.replace(state_path)
    (work / "terraform.tfstate.backup").unlink(missing_ok=True)
    log.info(
        "warm start: emulator and Terraform state restored from the snapshot of %s ago in %.1f s "
        "(%d resources in %s; %d event source mappings; %d items of closed connections cleared)",
        _age(snap.age_s),
        time.monotonic() - started,
        len(snapshot.state_resources(state)),
        ", ".join(sorted(services)),
        mappings,
        cleared,
    )
    return _Restored(snap, state)


def _reset_after_failed_restore(emu: Any, path: Path) -> None:
    from roomchat_tools.local import snapshot

    if path.exists():
        snapshot.discard(path, "it cannot be used")
    emu.reset()  # whatever part of it was restored


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _after_restore(emu: Any, state: dict[str, Any]) -> tuple[int, int]:
    """What a restored emulator needs before anything uses it: the event source mappings as
    Terraform made them (the stack that took the snapshot had disabled them in moto's view to
    poll them itself, local/eventsources.py), and no membership or connection record of the
    connections that were open then (none survives a restart: the rooms would list ghosts until
    a post to them is answered 410). Done on moto's backends in this process, through the
    methods its own request handlers call (an API call each would make clients and load models
    the start does not otherwise need). Returns (mappings, items cleared)."""
    from moto.awslambda.models import lambda_backends
    from moto.dynamodb.models import dynamodb_backends

    from roomchat.adapters.dynamodb import lives_with_a_connection
    from roomchat_tools.local import snapshot

    functions = lambda_backends[emu.account][emu.region]
    mappings = snapshot.resources_of_type(state, "aws_lambda_event_source_mapping")
    for mapping in mappings:
        enabled = bool(mapping.get("enabled", True))
        if functions.update_event_source_mapping(mapping["uuid"], {"Enabled": enabled}) is None:
            raise snapshot.Unusable(f"the event source mapping {mapping['uuid']} is missing")
    rooms = snapshot.state_resources(state).get(ROOMS_TABLE, {}).get("name")
    if not rooms:
        return len(mappings), 0
    table = dynamodb_backends[emu.account][emu.region].get_table(rooms)
    stale = [
        item
        for item in table.all_items()
        if lives_with_a_connection(
            {"roomId": item.hash_key.to_json(), "connectionId": item.range_key.to_json()}
        )
    ]
    for item in stale:
        table.delete_item(item.hash_key, item.range_key)
    return len(mappings), len(stale)


class _EarlyInit:
    """`terraform init` of the working copy in a thread, started before the zips are built and
    the emulator starts (init needs neither: ~2 s of hashing the provider against the lock file
    that a fresh clone's first start would otherwise wait for). Done before anything touches the
    state file; `_prepare_apply`'s own init then finds it done (tf.Stack.init with reuse)."""

    def __init__(self, work: Path) -> None:
        from roomchat_tools.infra import tf

        self.stack = tf.Stack(work / "terraform", state_path=work / "terraform.tfstate")
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="terraform-init", daemon=True)
        self.started = time.monotonic()

    def _run(self) -> None:
        try:
            if self.stack.init(reuse=True):
                log.info("terraform init done early in %.1f s", time.monotonic() - self.started)
        except BaseException as exc:  # raised again where the start waits for it
            self.error = exc

    def start(self) -> _EarlyInit:
        # Only without a state file (a first start): init reads an existing one, which this
        # start may yet restore from a snapshot or remove (a fresh start), after this thread.
        if not self.stack.state_path or not self.stack.state_path.exists():
            self.thread.start()
        return self

    def wait(self) -> None:
        """Until it is done; its failure is raised here (as the init in _prepare_apply would)."""
        if self.thread.is_alive() or self.thread.ident is not None:
            self.thread.join()
        if self.error is not None:
            from roomchat_tools.infra import tf

            if isinstance(self.error, tf.TerraformError):
                raise StackError(f"terraform failed:\n{self.error}") from None
            raise self.error


def _prepare_apply(
    emu: Any,
    zip_path: Path,
    work: Path,
    echo: bool,
    authorizer_zip: Path | None = None,
    restored: _Restored | None = None,
) -> _Deploy:
    """`terraform init` (when needed) and what the apply needs; `start()` starts it."""
    from roomchat_tools.infra import tf
    from roomchat_tools.local import snapshot

    state = work / "terraform.tfstate"
    if restored is None:
        # The emulator is new and empty, so an earlier run's state describes nothing (and init
        # reads it). A restored snapshot's state is the emulator's: kept.
        for stale in (state, work / "terraform.tfstate.backup"):
            stale.unlink(missing_ok=True)
    # Most of an apply is the provider's fixed waits (each function ~6 s, each queue ~25 s, the
    # KMS key ~13 s), which hold one of Terraform's operation slots (default 10) each: with 32,
    # the 21 roles queued behind the waiting queues, alarms and log groups and the functions
    # started ~3 s late. Enough for every resource of one wave at once (resources only, no
    # effect on what is built).
    env = {**emu.environ(), "TF_CLI_ARGS_apply": "-parallelism=256"}
    stack = tf.Stack(work / "terraform", env=env, state_path=state, echo=echo)
    try:
        with _phase("init"):
            # The working copy persists between runs: init only when what it depends on changed.
            if not stack.init(reuse=True):
                log.info("terraform init: nothing changed since the last run, reused")
    except tf.TerraformError as exc:
        raise StackError(f"terraform failed:\n{exc}") from None
    quiet = tf.Stack(work / "terraform", env=env, state_path=state, echo=False)
    variables = _terraform_variables(zip_path, authorizer_zip, emu.endpoint, stack.workdir)
    fingerprint = snapshot.fingerprint(
        stack.init_fingerprint(), variables, emu.region, emu.account, base=stack.workdir
    )
    plan = _plan_path(work, fingerprint)
    if plan is not None:
        plan.parent.mkdir(exist_ok=True)
    return _Deploy(
        stack,
        quiet,
        variables,
        work,
        echo,
        plan,
        emu=emu,
        fingerprint=fingerprint,
        restored=restored,
        warm=_saves_snapshots(),
    )


def _wait_for_chat_path(deploy: _Deploy) -> None:
    """Until every resource the chat needs is applied (applystream.DEFERRED may still run)."""
    with _phase("apply (the chat's resources)"):
        ready = deploy.apply.wait_ready()
        if not ready and deploy.mode == "changed":
            deploy.fall_back(f"terraform apply of the changes failed:\n{deploy.apply.failure()}")
            ready = deploy.apply.wait_ready()
        if not ready and deploy.from_plan:
            # A saved plan that does not apply (e.g. Terraform finds it stale) is dropped, and
            # the apply planned afresh, as long as it created nothing yet.
            log.warning("the saved plan did not apply:\n%s", deploy.apply.failure())
            deploy.plan.unlink(missing_ok=True)
            if not deploy.apply.created_anything():
                deploy.apply.stop()
                deploy.start(use_plan=False)
                ready = deploy.apply.wait_ready()
        if not ready:
            raise StackError(f"terraform apply failed:\n{deploy.apply.failure()}")
    apply = deploy.apply
    pending = apply.progress.planned - apply.progress.applied
    if pending:
        alarms = {a for a in pending if a.startswith("module.monitoring")}
        named = sorted(pending - alarms) + (
            [f"{len(alarms)} of module.monitoring"] if alarms else []
        )
        log.info("still applying in the background: %s", ", ".join(named))


def _early_outputs(deploy: _Deploy) -> dict[str, Any]:
    """What the gateway needs before Terraform's outputs exist (they come at the apply's end):
    the ids the apply reported for the resources (and, on a warm start, those of the restored
    state), as `terraform output` would name them."""
    ids = deploy.ids()
    auth_mode = _extra_variables().get("auth_mode", "none")
    return {
        "api_id": ids.get("module.websocket_api.aws_apigatewayv2_api.this"),
        "stage_name": ids.get("module.websocket_api.aws_apigatewayv2_stage.this"),
        "rooms_table_name": ids.get(ROOMS_TABLE),
        "history_table_name": ids.get("module.tables.aws_dynamodb_table.history"),
        "auth_mode": auth_mode,
        "cognito_client_id": ids.get("aws_cognito_user_pool_client.this[0]"),
    }


def _write_stack_file(path: Path, info: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    tmp.replace(path)


def _banner(info: dict[str, Any], ready_s: float, has_web: bool) -> str:
    web = info["http_url"] + "/" if has_web else "(no web client yet: web/index.html is missing)"
    return "\n".join(
        [
            "",
            f"roomchat local stack ready in {ready_s:.1f} s",
            f"  WebSocket    {info['websocket_url']}",
            f"  web client   {web}",
            f"  @connections {info['callback_url']}/@connections/{{connectionId}}",
            f"  emulator     {info['emulator_endpoint']} (moto)",
            f"  DynamoDB     {info['dynamodb_endpoint']} ({info['dynamodb_engine']}; tables "
            f"{info['rooms_table']}, {info['history_table']})",
            "  chat         make chat ROOM=lobby NAME=ana   (finds this stack by its state file)",
            "  history      make history ROOM=lobby   (or roomchat history --room lobby --json)",
            f"  state        {info['stack_file']}",
            "Ctrl-C stops everything.",
            "",
        ]
    )


async def _serve(
    api: Any,
    code: Any,
    emu: Any,
    applying: Any,
    started: float,
    base: Path,
    lambda_logs: bool,
    data: Any,
    dynamodb: Any = None,
) -> None:
    deploy: _Deploy = applying
    outputs = _early_outputs(deploy)
    from roomchat_tools.local import webpage
    from roomchat_tools.local.eventsources import EventSources
    from roomchat_tools.local.gateway import Gateway, GatewaySettings, default_log_sink

    settings = GatewaySettings.from_env(web_dir=WEB_DIR)
    sink = default_log_sink if lambda_logs else (lambda fn, line: None)
    gateway = Gateway(
        api,
        code,
        settings,
        emulator_endpoint=emu.endpoint,
        region=emu.region,
        log_sink=sink,
        dynamodb=dynamodb,
        dynamodb_endpoint=data.endpoint,
        web_auth=webpage.web_auth(outputs, emu.endpoint),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals_seen = 0

    def on_signal(signum: int) -> None:
        nonlocal signals_seen
        signals_seen += 1
        if signals_seen > 1:
            print("\nforced exit", file=sys.stderr, flush=True)
            os._exit(130)  # workers die with us (PR_SET_PDEATHSIG and closed pipes)
        log.info("stopping (%s)", signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await gateway.start()
    except OSError as exc:
        raise StackError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "choose another port with ROOMCHAT_PORT=<port>"
        ) from None
    # The queues' event source mappings (the fan-out tier), polled here in moto's stead, from
    # right after the banner (_follow_apply).
    sources = EventSources(gateway, *_queue_clients(emu, _session(emu.region)))
    if os.environ.get("ROOMCHAT_PREWARM", "") not in ("", "0"):
        await gateway.prewarm()
    path = stack_file(base)
    info = {
        "pid": os.getpid(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "websocket_url": gateway.websocket_url,
        "http_url": gateway.http_url,
        "callback_url": gateway.callback_url,
        "api_id": api.api_id,
        "stage": api.stage,
        "emulator_endpoint": emu.endpoint,
        "region": emu.region,
        "rooms_table": outputs.get("rooms_table_name"),
        "history_table": outputs.get("history_table_name"),
        "dynamodb_engine": data.engine,
        "dynamodb_endpoint": data.endpoint,
        "dynamodb_proxy": dynamodb.url if dynamodb is not None else None,
        "stack_file": str(path),
        # False until the whole apply is done (the fan-out tier, alarms); then Terraform's
        # outputs are here too (tests that need the tier wait for it: launcher.wait_applied).
        "applied": False,
        "outputs": {},
    }
    follow = loop.create_task(_follow_apply(deploy, sources, (path, info), started, stop))
    try:
        _write_stack_file(path, info)
        print(_banner(info, time.monotonic() - started, (WEB_DIR / "index.html").is_file()))
        sys.stdout.flush()
        await stop.wait()
    finally:
        follow.cancel()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        await sources.stop()
        await gateway.stop()
        log.info("gateway stopped")
    failure = None if not follow.done() or follow.cancelled() else follow.result()
    if failure:
        raise StackError(f"terraform apply failed in the background, stack stopped:\n{failure}")
    if deploy.apply.succeeded:
        # A clean stop: the tables' data as it is now, for the next start.
        try:
            await asyncio.to_thread(deploy.save_snapshot)
        except Exception as exc:
            log.warning("could not save the snapshot: %s", exc)


async def _follow_apply(
    deploy: _Deploy,
    sources: Any,
    state: tuple[Path, dict[str, Any]],
    started: float,
    stop: asyncio.Event,
) -> str | None:
    """The rest of the apply, behind the running chat: the event source mappings are polled as
    soon as they exist (those a warm start restored at once), and when the apply is done
    stack.json gets ``applied`` and the outputs, and a snapshot is saved for the next start. A
    failed apply stops the stack; returns what failed (None when all went well)."""
    apply = deploy.apply
    # The mappings there are already (a warm start's: the fan-out tier works at once).
    await sources.add_new()
    polled_mappings = False
    while not apply.finished.is_set():
        if not polled_mappings and apply.applied_any("aws_lambda_event_source_mapping."):
            polled_mappings = True
            await sources.add_new()
        await asyncio.sleep(0.2)
    if not apply.succeeded:
        failure = str(apply.failure())
        log.error("TERRAFORM APPLY FAILED in the background; stopping the stack:\n%s", failure)
        deploy.discard_snapshot("the apply failed; the next start is fresh")
        stop.set()
        return failure
    outputs = apply.progress.outputs
    if outputs is None or apply.progress.sensitive_outputs:  # not all in the stream
        outputs = await asyncio.to_thread(deploy.quiet.outputs)
    await sources.add_new()
    path, info = state
    info.update(applied=True, outputs=outputs)
    _write_stack_file(path, info)
    if deploy.mode == "unchanged":
        log.info("fan-out tier and alarms as restored: nothing was applied")
        return None
    log.info(
        "fan-out tier and alarms ready after %.1f s (whole apply %.1f s)",
        time.monotonic() - started,
        apply.finished_s,
    )
    for save, what in ((deploy.save_snapshot, "snapshot"), (deploy.save_plan, "plan")):
        try:
            await asyncio.to_thread(save)
        except Exception as exc:  # the next start is fresh, or plans afresh; this one is fine
            log.warning("could not save the %s for the next start: %s", what, exc)
    return None


def _session(region: str) -> Any:
    """The boto3 session of the stack's own clients: a session loads the models of the services
    it makes clients of, and botocore's endpoint data, once (a session per client loaded them
    again each time: ~0.5 s of a warm start's CPU)."""
    session = _SESSIONS.get(region)
    if session is None:
        import boto3

        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        _SESSIONS[region] = session
    return session


_SESSIONS: dict[str, Any] = {}


def _queue_clients(emu: Any, session: Any = None) -> tuple[Any, Any]:
    """lambda and sqs clients for the emulator (its event source mappings and queues)."""
    import boto3
    from botocore.config import Config

    session = session or boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=emu.region
    )
    # Long polls hold a connection each: one per poller and invocation in flight.
    config = Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=50)
    return (
        session.client("lambda", endpoint_url=emu.endpoint, config=config),
        session.client("sqs", endpoint_url=emu.endpoint, config=config),
    )


def _dynamodb_proxy(emu: Any, upstream: str) -> Any:
    """The delayed-visibility DynamoDB proxy (in front of ``upstream``, the data plane) when
    ROOMCHAT_READ_LAG_MS is set, else None."""
    raw = os.environ.get("ROOMCHAT_READ_LAG_MS", "").strip()
    if not raw:
        return None
    from roomchat_tools.local.dynamoproxy import MAX_LAG_MS, DynamoDBProxy

    try:
        lag = float(raw)
    except ValueError:
        lag = -1.0
    if not 0 <= lag <= MAX_LAG_MS:
        raise StackError(f"ROOMCHAT_READ_LAG_MS must be a number of ms from 0 to {MAX_LAG_MS}")
    proxy = DynamoDBProxy(upstream, emu.region, lag_ms=lag)
    log.info("DynamoDB proxy on %s, reads lag %s ms", proxy.url, raw)
    return proxy


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_stack(*, terraform_echo: bool, lambda_logs: bool, fresh: bool = False) -> None:
    from roomchat_tools.infra import build_lambda
    from roomchat_tools.local import dataplane, emulator, snapshot
    from roomchat_tools.local.apimodel import emulator_clients, load_api
    from roomchat_tools.local.runtime import CodeStore

    started = time.monotonic()
    host = os.environ.get("ROOMCHAT_HOST", "127.0.0.1")
    port = int(os.environ.get("ROOMCHAT_PORT") or 8080)
    emulator_port = int(os.environ.get("ROOMCHAT_EMULATOR_PORT") or 5000)
    base = local_dir()
    work = base / "devstack"
    work.mkdir(parents=True, exist_ok=True)
    try:
        engine = dataplane.engine_from_env()
    except dataplane.DataPlaneError as exc:
        raise StackError(str(exc)) from None
    with _single_instance(base):
        if fresh:
            snapshot.discard(snapshot.path_in(work), "--fresh: the emulator starts empty")
        _ensure_port_free(host, port, "ROOMCHAT_PORT")
        _ensure_port_free(host, emulator_port, "ROOMCHAT_EMULATOR_PORT")
        early_init = _EarlyInit(work).start()
        source = Path(os.environ.get("ROOMCHAT_FUNCTIONS_SRC") or build_lambda.SOURCE_DIR)
        zip_path, digest = build_lambda.build(work / "functions.zip", source)
        log.info("built %s (%s)", zip_path, digest)
        zips = [zip_path]
        authorizer_zip = None
        if _auth_on():
            authorizer_zip, digest = build_lambda.build_authorizer(work / "authorizer.zip", source)
            log.info("built %s (%s)", authorizer_zip, digest)
            zips.append(authorizer_zip)
        with contextlib.ExitStack() as running:
            with _phase("emulator"):
                emu = running.enter_context(emulator.running(port=emulator_port or None, host=host))
            log.info("emulator listening on %s", emu.endpoint)
            try:  # DynamoDB Local's JVM starts while Terraform applies
                launched = dataplane.launch(engine)
            except dataplane.DataPlaneError as exc:
                raise StackError(str(exc)) from None
            if launched is not None:
                running.callback(launched.stop)
            early_init.wait()  # before the state file is restored or removed
            restored = _restore(emu, work) if _warm_enabled() and not fresh else None
            deploy = _prepare_apply(emu, zip_path, work, terraform_echo, authorizer_zip, restored)
            deploy.start()
            # Ctrl-C or an error from here on: terraform is stopped cleanly first.
            running.callback(lambda: deploy.apply.stop())
            _wait_for_chat_path(deploy)
            with _phase(f"DynamoDB data plane ({engine})"):
                try:
                    data = dataplane.ready(engine, emu.endpoint, emu.region, launched)
                except dataplane.DataPlaneError as exc:
                    raise StackError(str(exc)) from None
            if data.tables:
                log.info("DynamoDB Local on %s: %s", data.endpoint, ", ".join(data.tables))
            with _phase("gateway (routes and code read back)"):
                # As API Gateway would: the routes, integrations and functions as deployed.
                apigw, lam = emulator_clients(emu.endpoint, emu.region, _session(emu.region))
                outputs = _early_outputs(deploy)
                api = load_api(apigw, lam, api_id=outputs["api_id"], stage=outputs["stage_name"])
                code = CodeStore(zips)
            log.info(
                "API %s stage %s: routes %s",
                api.api_id,
                api.stage,
                ", ".join(sorted(api.routes)),
            )
            dynamodb = _dynamodb_proxy(emu, data.endpoint)
            try:
                asyncio.run(
                    _serve(api, code, emu, deploy, started, base, lambda_logs, data, dynamodb)
                )
            finally:
                code.cleanup()
                if dynamodb is not None:
                    dynamodb.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="roomchat run",
        description="Run roomchat locally: emulator + terraform apply + WebSocket gateway.",
        epilog="Ports and limits come from ROOMCHAT_* variables: see local/stack.py.",
    )
    parser.add_argument("--verbose", action="store_true", help="show terraform's output")
    parser.add_argument(
        "--quiet", action="store_true", help="hide the functions' logs (shown by default)"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="start from an empty emulator (drops the snapshot of the last run: resources, "
        "Terraform state, the tables' data)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("werkzeug", "botocore", "urllib3", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Until the event loop takes over, SIGTERM unwinds like Ctrl-C so everything is cleaned up.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)
    try:
        run_stack(terraform_echo=args.verbose, lambda_logs=not args.quiet, fresh=args.fresh)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
