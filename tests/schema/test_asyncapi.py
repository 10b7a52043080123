"""docs/asyncapi.yaml is a valid AsyncAPI 3 document, its examples match their schemas, and
docs/protocol.md's protocol table (and README's brief one) names the same actions and frames."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

from tests.schema.support import (
    ASYNCAPI,
    CLIENT_FRAMES,
    REPO_ROOT,
    SERVER_FRAMES,
    check_server_frame,
    document,
    resolve,
    validator,
    validator_for_ref,
)

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
SPECS = NODE_MODULES / "@asyncapi" / "specs" / "schemas"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (Node 20+ runs the AsyncAPI parser)")
    if not (NODE_MODULES / "@asyncapi" / "parser").is_dir():
        pytest.skip("tests/schema/node_modules is missing: `make test` installs it with npm")
    return node


def _messages() -> dict[str, dict]:
    return document()["components"]["messages"]


def test_document_is_valid_asyncapi_3_for_the_asyncapi_parser() -> None:
    result = subprocess.run(
        [_node(), str(HERE / "check_asyncapi.mjs"), str(ASYNCAPI)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    *diagnostics, summary = lines
    errors = [d for d in diagnostics if d["severity"] == 0]
    warnings = [d for d in diagnostics if d["severity"] == 1]
    assert errors == [] and warnings == []
    assert summary == {"parsed": True, "version": "3.0.0"}


def test_document_matches_the_asyncapi_3_0_json_schema() -> None:
    """The same check without node: the JSON Schema of AsyncAPI 3.0.0 that @asyncapi/specs ships."""
    _node()
    schema = json.loads((SPECS / "3.0.0-without-$id.json").read_text())
    errors = [e.message for e in Draft7Validator(schema).iter_errors(document())]
    assert errors == []


@pytest.mark.parametrize("name", sorted(document()["components"]["schemas"]))
def test_every_schema_is_a_valid_draft_07_schema(name: str) -> None:
    Draft7Validator.check_schema(document()["components"]["schemas"][name])


@pytest.mark.parametrize("name", sorted(_messages()))
def test_every_example_matches_its_payload_schema(name: str) -> None:
    message = _messages()[name]
    examples = message.get("examples", [])
    assert examples, f"message {name} has no example"
    check = validator_for_ref(message["payload"]["$ref"])
    for example in examples:
        errors = [e.message for e in check.iter_errors(example["payload"])]
        assert errors == [], f"{name} example {example.get('name', '')}: {errors}"


def test_each_action_and_frame_has_one_message_and_schema() -> None:
    payloads = {m["payload"]["$ref"].rsplit("/", 1)[1] for m in _messages().values()}
    assert set(CLIENT_FRAMES.values()) | set(SERVER_FRAMES.values()) | {"OtherFrame"} == payloads
    for action, schema in CLIENT_FRAMES.items():
        assert resolve(f"#/components/schemas/{schema}")["properties"]["action"] == {
            "const": action
        }
    for frame_type, schema in SERVER_FRAMES.items():
        assert resolve(f"#/components/schemas/{schema}")["properties"]["type"] == {
            "const": frame_type
        }


def test_every_action_is_an_operation_the_server_receives_with_its_replies() -> None:
    operations = document()["operations"]
    received = {
        resolve(op["messages"][0]["$ref"])["payload"]["$ref"].rsplit("/", 1)[1]: op
        for op in operations.values()
        if op["action"] == "receive"
    }
    assert set(received) == set(CLIENT_FRAMES.values()) | {"OtherFrame"}
    sent = {
        resolve(op["messages"][0]["$ref"])["payload"]["$ref"].rsplit("/", 1)[1]
        for op in operations.values()
        if op["action"] == "send"
    }
    # left is also posted to an uninvited user's connections in a private room; deleted, edited
    # and kicked are each the acknowledgement of their action too
    assert sent == {
        "MessageFrame",
        "PresenceFrame",
        "LeftFrame",
        "DeletedFrame",
        "EditedFrame",
        "TypingFrame",
        "KickedFrame",
        "ReactionFrame",
        "PinnedFrame",
        "ClosingFrame",  # the last frame of a connection closed for rate
    }
    replies = {
        resolve(ref["$ref"])["payload"]["$ref"].rsplit("/", 1)[1]
        for op in received.values()
        for ref in op["reply"]["messages"]
    }
    assert replies | sent == set(SERVER_FRAMES.values())


def test_joined_carries_the_cursor_for_older_history() -> None:
    """The agreed field: joined.next is the `before` cursor for older messages, or null."""
    joined = validator("JoinedFrame")
    base = {
        "type": "joined",
        "roomId": "r",
        "name": "ana",
        "members": 1,
        "recent": [],
        "you": "ana-sub",
        "lastRead": None,
        "unread": 0,
        "unreadCapped": False,
        "pins": [],
    }
    assert joined.is_valid({**base, "next": None})
    assert joined.is_valid({**base, "next": "01HZX3K9Q8V7N6M5K4J3H2G1F0"})
    assert not joined.is_valid({**base, "next": "not a cursor"})


# ---- the protocol table (docs/protocol.md) and README's brief one --------------------------------


def _protocol_rows(page: str = "docs/protocol.md") -> dict[str, list[str]]:
    text = (REPO_ROOT / page).read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^\| `([$\w]+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


_readme_protocol_rows = _protocol_rows  # the full table moved from README.md to docs/protocol.md


def test_readme_table_names_the_same_actions() -> None:
    routes = set(_readme_protocol_rows())
    assert routes - {"$connect", "$disconnect", "$default"} == set(CLIENT_FRAMES)
    assert {"$connect", "$disconnect", "$default"} <= routes


def test_readme_brief_table_names_every_action_and_its_answer() -> None:
    rows = _protocol_rows("README.md")
    assert set(rows) == set(CLIENT_FRAMES)
    answers = {row[1] for row in rows.values()}
    for frame_type in set(SERVER_FRAMES) - {"error", "presence"}:
        assert any(f"`{frame_type}`" in a for a in answers), f"README never names {frame_type}"


def test_readme_table_names_the_same_server_frames_and_their_fields() -> None:
    rows = _readme_protocol_rows()
    replies = " ".join(cell for cells in rows.values() for cell in cells[1:])
    frames = re.findall(r'\{"type":"(\w+)"([^}]*)\}', replies)
    # the sendAll row names the message frame in words: it is the ack
    assert {t for t, _ in frames} | {"message"} == set(SERVER_FRAMES)
    for frame_type, rest in frames:
        schema = resolve(f"#/components/schemas/{SERVER_FRAMES[frame_type]}")
        # keys are quoted words not preceded by ':' (a value) or 'or ' (an alternative value)
        fields = {word for prefix, word in re.findall(r'(:|or )?"(\w+)"', rest) if not prefix}
        unknown = fields - set(schema["properties"])
        assert not unknown, f"README's {frame_type} frame names {unknown}, not in the schema"
        if "…" not in rest:
            missing = set(schema["required"]) - fields - {"type"}
            assert not missing, f"README's {frame_type} frame leaves out {missing}"


@pytest.mark.parametrize("action", sorted(CLIENT_FRAMES))
def test_readme_request_examples_match_the_schema(action: str) -> None:
    cell = _readme_protocol_rows()[action][0]
    # the frame is the cell's first code span; words after it say who may send it
    request = re.match(r"`([^`]+)`", cell)
    assert request, f"README's {action} row does not start with the frame in backticks: {cell}"
    frame = json.loads(request.group(1).replace("<messageId>", "01HZX3K9Q8V7N6M5K4J3H2G1F0"))
    assert validator(CLIENT_FRAMES[action]).is_valid(frame)


def test_the_e2e_check_refuses_a_roomchat_frame_off_the_schema_and_passes_the_rest() -> None:
    """tests/e2e/support.py runs check_server_frame on every frame a client receives."""
    check_server_frame('{"type":"pong"}')
    check_server_frame('{"message":"Internal server error","connectionId":"x"}')  # API Gateway's
    check_server_frame('{"type":"echo","anything":1}')  # a gateway-test function's frame
    check_server_frame("not json")
    with pytest.raises(AssertionError, match=r"does not match docs/asyncapi\.yaml"):
        check_server_frame('{"type":"left","roomId":"r","extra":true}')
