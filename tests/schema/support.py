"""docs/asyncapi.yaml as Python validators: one JSON Schema (draft-07) per message and frame.

    from tests.schema.support import validator, check_server_frame

    validator("JoinRequest").is_valid({"action": "join", "roomId": "lobby"})
    check_server_frame('{"type":"pong"}')  # AssertionError naming what is wrong, if anything

The schemas refer to each other inside the document (`#/components/schemas/...`), so each
validator resolves references against the whole document.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

REPO_ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = REPO_ROOT / "docs" / "asyncapi.yaml"
DOCUMENT_URI = "urn:roomchat:asyncapi"

# Server frame `type` -> its schema in components/schemas.
SERVER_FRAMES = {
    "joined": "JoinedFrame",
    "left": "LeftFrame",
    "presence": "PresenceFrame",
    "message": "MessageFrame",
    "history": "HistoryFrame",
    "members": "MembersFrame",
    "pong": "PongFrame",
    "closing": "ClosingFrame",
    "roomCreated": "RoomCreatedFrame",
    "role": "RoleFrame",
    "deleted": "DeletedFrame",
    "edited": "EditedFrame",
    "typing": "TypingFrame",
    "read": "ReadFrame",
    "kicked": "KickedFrame",
    "disconnected": "DisconnectedFrame",
    "resumed": "ResumedFrame",
    "thread": "ThreadFrame",
    "following": "FollowingFrame",
    "threads": "ThreadsFrame",
    "reaction": "ReactionFrame",
    "mentions": "MentionsFrame",
    "pinned": "PinnedFrame",
    "upload": "UploadFrame",
    "attachmentUrl": "AttachmentUrlFrame",
    "device": "DeviceFrame",
    "notifyLevel": "NotifyLevelFrame",
    "error": "ErrorFrame",
}
# Client frame `action` -> its schema.
CLIENT_FRAMES = {
    "join": "JoinRequest",
    "leave": "LeaveRequest",
    "sendAll": "SendAllRequest",
    "history": "HistoryRequest",
    "members": "MembersRequest",
    "ping": "PingRequest",
    "createRoom": "CreateRoomRequest",
    "invite": "InviteRequest",
    "uninvite": "UninviteRequest",
    "promote": "PromoteRequest",
    "demote": "DemoteRequest",
    "resume": "ResumeRequest",
    "delete": "DeleteRequest",
    "edit": "EditRequest",
    "typing": "TypingRequest",
    "markRead": "MarkReadRequest",
    "kick": "KickRequest",
    "disconnectUser": "DisconnectUserRequest",
    "thread": "ThreadRequest",
    "threads": "ThreadsRequest",
    "follow": "FollowRequest",
    "react": "ReactRequest",
    "mentions": "MentionsRequest",
    "pin": "PinRequest",
    "prepareUpload": "PrepareUploadRequest",
    "attachmentUrl": "AttachmentUrlRequest",
    "registerDevice": "RegisterDeviceRequest",
    "unregisterDevice": "UnregisterDeviceRequest",
    "notifyLevel": "NotifyLevelRequest",
}


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(document(), default_specification=DRAFT7)
    return Registry().with_resource(DOCUMENT_URI, resource)


def resolve(ref: str) -> Any:
    """The part of the document a local `#/...` reference names (references followed)."""
    node: Any = document()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return resolve(node["$ref"]) if isinstance(node, dict) and "$ref" in node else node


@cache
def validator(schema_name: str) -> Draft7Validator:
    """A draft-07 validator for components/schemas/<schema_name>."""
    document()["components"]["schemas"][schema_name]  # KeyError for a name that is not there
    return validator_for_ref(f"#/components/schemas/{schema_name}")


@cache
def validator_for_ref(ref: str) -> Draft7Validator:
    return Draft7Validator({"$ref": f"{DOCUMENT_URI}{ref}"}, registry=_registry())


def problems(schema_name: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(frame)'}: {error.message}"
        for error in validator(schema_name).iter_errors(instance)
    ]


def check_server_frame(raw: Any) -> None:
    """Every roomchat server frame (JSON with a known `type`) matches its schema.

    Anything else passes: text that is not JSON, API Gateway's own `{"message": ...}` frames, and
    the frames of the test functions the gateway tests deploy (types the protocol does not have).
    """
    try:
        frame = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        return
    if not isinstance(frame, dict) or frame.get("type") not in SERVER_FRAMES:
        return
    found = problems(SERVER_FRAMES[frame["type"]], frame)
    assert not found, f"server frame does not match docs/asyncapi.yaml: {found}; frame: {raw!r}"


def inline(schema_name: str) -> Any:
    """components/schemas/<schema_name> with every `$ref` replaced by what it names (the schemas
    have no cycles), for tools that only resolve references inside one schema."""

    def expand(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return expand(resolve(node["$ref"]))
            return {key: expand(value) for key, value in node.items()}
        if isinstance(node, list):
            return [expand(item) for item in node]
        return node

    return expand(document()["components"]["schemas"][schema_name])


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Hypothesis values for an inlined schema (the keywords docs/asyncapi.yaml uses), each one
    checked against the schema itself. (hypothesis-jsonschema would do this, but its releases do
    not work with current Hypothesis.)"""
    check = Draft7Validator(schema)
    return _values(schema).filter(check.is_valid)


def _values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "oneOf" in schema:
        return st.one_of([_values(option) for option in schema["oneOf"]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_values({**schema, "type": one}) for one in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "string":
        if "pattern" in schema:
            # "(?![\s\S])" (end of text in ECMA-262 and Python) reads better to Hypothesis as \Z
            return st.from_regex(schema["pattern"].replace("(?![\\s\\S])", "\\Z"))
        return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 40))
    if kind == "array":
        return st.lists(_values(schema["items"]), max_size=3)
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {key: _values(properties[key]) for key in sorted(required)},
            optional={
                key: _values(value) for key, value in properties.items() if key not in required
            },
        )
    raise ValueError(f"no strategy for schema {schema!r}")
