"""Warm restarts of the local stack: the emulator's resources and Terraform's state, kept together.

On AWS a stack persists between deployments and only what changed is applied. Locally the
emulator (moto, in this process) starts empty, so every start used to apply all of infra/ again.
Instead, the stack writes a *snapshot* once its whole apply is done and again when it stops
cleanly: every moto backend in use (moto keeps each service's state in a ``BackendDict``, per
account and region, in module globals) pickled as one object graph (queues point at their
event source mappings, mappings at their functions), with Terraform's state file beside it. The
next start restores both before anything talks to the emulator; Terraform's state then
describes exactly what the emulator holds, as on AWS.

The snapshot also names a *fingerprint* of the apply's inputs (``fingerprint``: the working
copy of the module with its lock file and CLI config, terraform itself, the variables, the
content of the zips they name, the region and account). Equal: nothing to apply. Different:
`terraform apply -refresh=false` diffs the restored state against the config, so only what
changed is applied (local/stack.py).

One file, written atomically (a temporary file, fsync, rename): a header line, a JSON line of
metadata (format, moto and Python versions, fingerprint, region, account, size and SHA-256 of
the payload), then the payload (a pickle). ``read`` checks all of it before unpickling anything
and raises ``Unusable`` with the reason (another moto or Python, another region, a truncated or
altered file...); the stack then starts fresh and logs why. Like the rest of the local dir the
file is trusted: it is a pickle, so it is never read from anywhere but the stack's own folder.

moto's models are plain Python objects except for a few things pickle refuses, handled by
``_Pickler`` (reduced to what rebuilds them): thread locks and conditions (new ones: nothing
holds them while the snapshot is taken, see emulator.py's gate), weak-value dictionaries (moto's
Lambda keeps its functions by ARN in one; the functions themselves are held elsewhere in the
graph), default dictionaries whose factory is a lambda (moto's Lambda aliases), and
cryptography's private keys (KMS keys: as PKCS#8 PEM).
"""

from __future__ import annotations

import collections
import hashlib
import importlib
import io
import json
import logging
import os
import pickle
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("devstack.snapshot")

FORMAT = 1
MAGIC = b"roomchat emulator snapshot\n"
FILE_NAME = "emulator.snapshot"
# The header and metadata lines are small; a longer first line is not a snapshot.
_MAX_META = 64 * 1024


class Unusable(Exception):
    """The snapshot cannot be used; ``str()`` says why (for the log line of a fresh start)."""


def moto_version() -> str:
    import moto

    return str(moto.__version__)


def python_version() -> str:
    return ".".join(str(part) for part in sys.version_info[:3])


def fingerprint(
    init_fingerprint: str,
    variables: Mapping[str, Any],
    region: str,
    account: str,
    base: Path | None = None,
) -> str:
    """A hash of everything the apply of infra/ depends on: ``init_fingerprint`` (tf.Stack's:
    every file of the working copy, the lock file, CLI config and terraform binary), the
    variables, the content of every zip they name (a relative path is relative to ``base``,
    Terraform's working directory), and the emulator's region and account. Nothing in it names
    where the stack lives, so a snapshot applies as well in a copy of the local dir."""
    digest = hashlib.sha256(b"roomchat apply inputs v1\0")
    digest.update(init_fingerprint.encode())
    digest.update(json.dumps(dict(variables), sort_keys=True, default=str).encode())
    for value in sorted(str(v) for v in variables.values()):
        path = (base or Path.cwd()) / value
        if value.endswith(".zip") and path.is_file():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(f"{region}:{account}".encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Pickling moto's backends
# --------------------------------------------------------------------------------------------

_LOCK_TYPES = {type(threading.Lock()): "lock", type(threading.RLock()): "rlock"}
_FACTORIES: dict[type, Any] = {dict: dict, list: list, set: set, int: int}


def _new_lock(kind: str) -> Any:
    return threading.RLock() if kind == "rlock" else threading.Lock()


def _weak_values(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _private_key_types() -> tuple[type, ...]:
    try:
        from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    except ImportError:  # pragma: no cover - moto depends on cryptography
        return ()
    return (
        rsa.RSAPrivateKey,
        ec.EllipticCurvePrivateKey,
        ed25519.Ed25519PrivateKey,
        ed448.Ed448PrivateKey,
    )


class _Pickler(pickle.Pickler):
    """pickle.Pickler with reductions for what moto's models hold and pickle refuses."""

    _keys = _private_key_types()

    def reducer_override(self, obj: Any) -> Any:
        kind = _LOCK_TYPES.get(type(obj))
        if kind is not None:
            return _new_lock, (kind,)
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if isinstance(obj, weakref.WeakValueDictionary):
            return _weak_values, (dict(obj.items()),)
        if isinstance(obj, collections.defaultdict) and _is_lambda(obj.default_factory):
            made = obj.default_factory()  # type: ignore[misc]
            factory = _FACTORIES.get(type(made))
            if factory is None or made != factory():
                raise pickle.PicklingError(
                    f"a defaultdict whose factory makes {type(made).__name__}: not kept"
                )
            return collections.defaultdict, (factory, dict(obj))
        if self._keys and isinstance(obj, self._keys):
            from cryptography.hazmat.primitives import serialization

            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _load_private_key, (pem,)
        return NotImplemented


def _is_lambda(factory: Any) -> bool:
    return getattr(factory, "__name__", "") == "<lambda>"


def _backend_dicts() -> list[tuple[str, str, Any]]:
    """(module, attribute, BackendDict) of every moto service in use, found by identity among
    the globals of the module that defines the service's backend class."""
    from moto.core.base_backend import BackendDict

    found = []
    for backend_dict in list(BackendDict._instances):
        module_name = backend_dict.backend.__module__
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
        for name, value in vars(module).items():
            if value is backend_dict:
                found.append((module_name, name, backend_dict))
                break
        else:
            raise pickle.PicklingError(
                f"moto's {backend_dict.service_name} backends are not a global of {module_name}"
            )
    return found


def capture_backends() -> bytes:
    """Every moto backend in use, pickled as one graph: [(module, attribute, {account: {region:
    backend}})]. Call it while no request is being served (emulator.Gate)."""
    graph = [
        (module, name, {account: dict(regions) for account, regions in backend_dict.items()})
        for module, name, backend_dict in _backend_dicts()
    ]
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(graph)
    return buffer.getvalue()


def restore_backends(data: bytes) -> list[str]:
    """Put the backends of ``capture_backends`` back into moto (which should be empty: reset it
    first); returns the services restored. Raises Unusable when the pickle does not load."""
    try:
        graph = pickle.loads(data)
    except Exception as exc:  # a class moved, a truncated stream...
        raise Unusable(
            f"the emulator's state does not load ({type(exc).__name__}: {exc})"
        ) from None
    services = []
    for module_name, name, accounts in graph:
        backend_dict = getattr(importlib.import_module(module_name), name)
        for account, regions in accounts.items():
            account_backends = backend_dict[account]  # creates it, and marks the service in use
            for region, backend in regions.items():
                dict.__setitem__(account_backends, region, backend)
        services.append(str(backend_dict.service_name))
    return services


# --------------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    meta: dict[str, Any]
    backends: bytes
    tfstate: bytes

    @property
    def fingerprint(self) -> str:
        return str(self.meta.get("fingerprint", ""))

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - float(self.meta.get("created", 0)))


def path_in(work: Path) -> Path:
    return work / FILE_NAME


def write(
    path: Path,
    *,
    backends: bytes,
    tfstate: bytes,
    fingerprint: str,
    region: str,
    account: str,
) -> int:
    """Write a snapshot atomically (the old one stays whole until the new one is complete);
    returns its size in bytes."""
    payload = pickle.dumps({"backends": backends, "tfstate": tfstate}, protocol=5)
    meta = {
        "format": FORMAT,
        "moto": moto_version(),
        "python": python_version(),
        "fingerprint": fingerprint,
        "region": region,
        "account": account,
        "created": time.time(),
        "payload_bytes": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # a run killed while writing
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            out.write(MAGIC)
            out.write(json.dumps(meta, sort_keys=True).encode() + b"\n")
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(MAGIC) + len(payload)


def read(path: Path, *, region: str, account: str) -> Snapshot:
    """The snapshot at ``path``, checked; raises Unusable (saying why) when there is none or it
    cannot be used for this emulator."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise Unusable("no snapshot of an earlier run") from None
    except OSError as exc:
        raise Unusable(f"the snapshot cannot be read ({exc.strerror})") from None
    if not raw.startswith(MAGIC):
        raise Unusable("the snapshot is not one (its header is missing)")
    end = raw.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_META)
    if end < 0:
        raise Unusable("the snapshot's metadata is cut short")
    try:
        meta = json.loads(raw[len(MAGIC) : end])
    except ValueError:
        meta = None
    if not isinstance(meta, dict):
        raise Unusable("the snapshot's metadata is not readable")
    expected = {
        "format": FORMAT,
        "moto": moto_version(),
        "python": python_version(),
        "region": region,
        "account": account,
    }
    for key, value in expected.items():
        if meta.get(key) != value:
            raise Unusable(
                f"the snapshot was made with {key} {meta.get(key)!r}, this run has {value!r}"
            )
    payload = raw[end + 1 :]
    if len(payload) != meta.get("payload_bytes") or (
        hashlib.sha256(payload).hexdigest() != meta.get("payload_sha256")
    ):
        raise Unusable("the snapshot is incomplete or altered (size or SHA-256 differs)")
    try:
        parts = pickle.loads(payload)
        backends, tfstate = parts["backends"], parts["tfstate"]
    except Exception as exc:
        raise Unusable(f"the snapshot's payload does not load ({type(exc).__name__})") from None
    if not isinstance(backends, bytes) or not isinstance(tfstate, bytes):
        raise Unusable("the snapshot's payload is not what this version writes")
    return Snapshot(meta, backends, tfstate)


def discard(path: Path, why: str | None = None) -> None:
    """Remove the snapshot (the next start is fresh), saying why when told."""
    if path.exists():
        path.unlink(missing_ok=True)
        if why:
            log.info("snapshot removed: %s", why)


# --------------------------------------------------------------------------------------------
# What the restored state says
# --------------------------------------------------------------------------------------------


def _index(key: Any) -> str:
    return f"[{json.dumps(key)}]" if key is not None else ""


def state_resources(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """address -> attributes of every resource instance in a Terraform state (v4), addressed as
    `terraform apply -json` names them (``module.functions.aws_lambda_function.this["connect"]``,
    ``data.aws_partition.current``)."""
    found: dict[str, dict[str, Any]] = {}
    for resource in state.get("resources", []):
        prefix = f"{resource['module']}." if resource.get("module") else ""
        data = "data." if resource.get("mode") == "data" else ""
        base = f"{prefix}{data}{resource['type']}.{resource['name']}"
        for instance in resource.get("instances", []):
            found[base + _index(instance.get("index_key"))] = instance.get("attributes") or {}
    return found


def resources_of_type(state: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """The attributes of every managed resource instance of type ``kind`` in a state."""
    return [
        instance.get("attributes") or {}
        for resource in state.get("resources", [])
        if resource.get("type") == kind and resource.get("mode", "managed") == "managed"
        for instance in resource.get("instances", [])
    ]


def state_outputs(state: Mapping[str, Any]) -> dict[str, Any]:
    """The root module's outputs, as `terraform output -json` gives their values (null ones
    left out, as the apply's stream does)."""
    return {
        name: item.get("value")
        for name, item in (state.get("outputs") or {}).items()
        if item.get("value") is not None
    }


def parse_state(tfstate: bytes) -> dict[str, Any]:
    try:
        state = json.loads(tfstate)
    except ValueError:
        raise Unusable("the snapshot's Terraform state is not JSON") from None
    if not isinstance(state, dict) or state.get("version") != 4:
        raise Unusable("the snapshot's Terraform state is not a version 4 state")
    return state
