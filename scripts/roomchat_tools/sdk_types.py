"""The SDKs' protocol types, generated from docs/asyncapi.yaml (the one schema of the protocol).

    roomchat sdk-types            # writes clients/js/types/protocol.d.ts and
                                  # clients/python/src/roomchat_client/frames.py
    roomchat sdk-types --check    # exit 1 when either file differs from what the schema gives

Every schema under components/schemas becomes a TypeScript type and a Python alias or TypedDict:
strings, integers and booleans as such (their patterns and limits stay in the schema and in the
SDKs' validation), `const`/`enum` as literal unions, `oneOf` as unions, objects as interfaces /
TypedDicts with their required keys (optional ones marked), `$ref` by name. The client frames
(`*Request`) and the server frames (`*Frame`) are also listed as `ClientFrame`/`ServerFrame`
unions, by `action` and `type`. tests/unit/test_sdk_types.py fails when a file is stale.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = REPO_ROOT / "docs" / "asyncapi.yaml"
TS_OUT = REPO_ROOT / "clients" / "js" / "types" / "protocol.d.ts"
PY_OUT = REPO_ROOT / "clients" / "python" / "src" / "roomchat_client" / "frames.py"
HEADER = "Generated from docs/asyncapi.yaml by `roomchat sdk-types`; do not edit."


def schemas(document: dict[str, Any] | None = None) -> dict[str, Any]:
    doc = document or yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    return dict(doc["components"]["schemas"])


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _doc(schema: dict[str, Any]) -> str:
    return " ".join(str(schema.get("description", "")).split())


# ---- TypeScript ----------------------------------------------------------------------------------


def ts_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "unknown"
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "oneOf" in schema:
        return " | ".join(dict.fromkeys(ts_type(s) for s in schema["oneOf"]))
    if "not" in schema:
        return "Record<string, unknown>"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(ts_type({**schema, "type": k}) for k in kind)
    simple = {"string": "string", "integer": "number", "boolean": "boolean", "null": "null"}
    if kind in simple:
        return simple[kind]
    if kind == "array":
        item = ts_type(schema.get("items"))
        return f"Array<{item}>"
    if kind == "object":
        return _ts_object(schema)
    return "unknown"


def _ts_object(schema: dict[str, Any], indent: str = "") -> str:
    required = set(schema.get("required", []))
    lines = ["{"]
    for key, value in schema.get("properties", {}).items():
        doc = _doc(value)
        if doc:
            lines.append(f"{indent}  /** {doc} */")
        mark = "" if key in required else "?"
        lines.append(f"{indent}  {key}{mark}: {ts_type(value)};")
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def typescript(all_schemas: dict[str, Any]) -> str:
    out = [f"// {HEADER}", ""]
    requests, frames = _frames(all_schemas)
    for name, schema in all_schemas.items():
        if name in ("ClientFrame", "ServerFrame"):
            continue
        doc = _doc(schema)
        if doc:
            out.append(f"/** {doc} */")
        if schema.get("type") == "object" and "properties" in schema:
            out.append(f"export interface {name} {_ts_object(schema)}")
        else:
            out.append(f"export type {name} = {ts_type(schema)};")
        out.append("")
    out.append("/** Every frame a client may send, by its `action`. */")
    out.append(f"export type ClientFrame = {' | '.join(requests.values())};")
    out.append("export interface ClientFrames {")
    out += [f"  {json.dumps(action)}: {name};" for action, name in requests.items()]
    out.append("}")
    out.append("export type Action = keyof ClientFrames;")
    out.append("")
    out.append("/** Every frame the server sends, by its `type`. */")
    out.append(f"export type ServerFrame = {' | '.join(frames.values())};")
    out.append("export interface ServerFrames {")
    out += [f"  {json.dumps(kind)}: {name};" for kind, name in frames.items()]
    out.append("}")
    out.append("export type FrameType = keyof ServerFrames;")
    return "\n".join(out) + "\n"


def _frames(all_schemas: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """action -> request schema name, frame type -> server frame schema name (the order of the
    ClientFrame and ServerFrame unions)."""

    def by(union: str, key: str) -> dict[str, str]:
        found = {}
        for option in all_schemas[union]["oneOf"]:
            name = _ref_name(option["$ref"])
            found[all_schemas[name]["properties"][key]["const"]] = name
        return found

    return by("ClientFrame", "action"), by("ServerFrame", "type")


# ---- Python --------------------------------------------------------------------------------------


def py_type(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "Any"
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        literal = f"Literal[{', '.join(repr(v) for v in values)}]"
        return f"{literal} | None" if None in schema["enum"] else literal
    if "oneOf" in schema:
        return " | ".join(dict.fromkeys(py_type(s) for s in schema["oneOf"]))
    if "not" in schema:
        return "dict[str, Any]"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(py_type({**schema, "type": k}) for k in kind)
    simple = {"string": "str", "integer": "int", "boolean": "bool", "null": "None"}
    if kind in simple:
        return simple[kind]
    if kind == "array":
        return f"list[{py_type(schema.get('items'))}]"
    return "dict[str, Any]"


def python(all_schemas: dict[str, Any]) -> str:
    requests, frames = _frames(all_schemas)
    out = [
        f'"""The protocol\'s frames as types.\n\n{HEADER}\n"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, Literal, NotRequired, TypeAlias, TypedDict",
        "",
    ]
    deferred: list[str] = []
    for name, schema in all_schemas.items():
        if name in ("ClientFrame", "ServerFrame"):
            continue
        if schema.get("type") == "object" and "properties" in schema:
            required = set(schema.get("required", []))
            body = [f"class {name}(TypedDict):"]
            doc = _doc(schema)
            if doc:
                body.append(f'    """{doc}"""')
                body.append("")
            for key, value in schema.get("properties", {}).items():
                kind = py_type(value)
                body.append(f"    {key}: {kind if key in required else f'NotRequired[{kind}]'}")
            deferred.append("\n".join(body))
        else:
            out.append(f"{name}: TypeAlias = {py_type(schema)}")
    out.append("")
    out += [block + "\n\n" for block in deferred]
    out.append(f"ClientFrame: TypeAlias = {' | '.join(requests.values())}")
    out.append(f"ServerFrame: TypeAlias = {' | '.join(frames.values())}")
    out.append("")
    out.append("#: action -> the frame a client sends for it")
    out.append("CLIENT_FRAMES: dict[str, type[Any]] = {")
    out += [f"    {action!r}: {name}," for action, name in requests.items()]
    out.append("}")
    out.append("#: frame type -> the frame the server sends")
    out.append("SERVER_FRAMES: dict[str, type[Any]] = {")
    out += [f"    {kind!r}: {name}," for kind, name in frames.items()]
    out.append("}")
    return _ruff_format("\n".join(out) + "\n")


def _ruff_format(source: str) -> str:
    """The module as `ruff format` (the project's settings) writes it, so the lint passes."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff) if ruff.exists() else "ruff", "format", "--stdin-filename", str(PY_OUT), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    return result.stdout


def generated() -> dict[Path, str]:
    found = schemas()
    return {TS_OUT: typescript(found), PY_OUT: python(found)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the SDKs' protocol types.")
    parser.add_argument("--check", action="store_true", help="fail when a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in generated().items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    for path in stale:
        print(f"stale: {path.relative_to(REPO_ROOT)} (run `roomchat sdk-types`)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
