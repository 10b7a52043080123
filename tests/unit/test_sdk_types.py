"""The SDKs' protocol types are generated from docs/asyncapi.yaml (`roomchat sdk-types`) and must
match it: a schema change without regenerating them fails here."""

from __future__ import annotations

from roomchat_tools import sdk_types
from tests.schema.support import CLIENT_FRAMES, SERVER_FRAMES


def test_the_generated_files_are_up_to_date() -> None:
    for path, text in sdk_types.generated().items():
        stale = f"{path} is stale: run `roomchat sdk-types`"
        assert path.read_text(encoding="utf-8") == text, stale


def test_every_action_and_server_frame_has_a_type_in_both_sdks() -> None:
    from roomchat_client import frames

    generated = sdk_types.generated()
    typescript = generated[sdk_types.TS_OUT]
    for action, schema in CLIENT_FRAMES.items():
        assert f'  "{action}": {schema};' in typescript
        assert frames.CLIENT_FRAMES[action].__name__ == schema
    for frame_type, schema in SERVER_FRAMES.items():
        assert f'  "{frame_type}": {schema};' in typescript
        assert frames.SERVER_FRAMES[frame_type].__name__ == schema


def test_a_schema_change_changes_the_types() -> None:
    schemas = sdk_types.schemas()
    schemas["LeftFrame"]["properties"]["reason"] = {"type": "string"}
    assert "  reason?: string;" in sdk_types.typescript(schemas)
    assert "    reason: NotRequired[str]" in sdk_types.python(schemas)


def test_the_python_sdks_conversation_frames_match_their_schemas() -> None:
    from roomchat_client import protocol
    from tests.schema.support import validator

    parent, reply = "01HZX3K9Q8V7N6M5K4J3H2G1F0", "01HZX3K9Q8V7N6M5K4J3H2G1G0"
    frames = [
        protocol.send_all("r", "m", "c1", parent, also_to_room=True),
        protocol.send_all("r", "m", "c1", parent),
        protocol.thread("r", parent, 10, reply),
        protocol.threads("r", 5, parent),
        protocol.follow("r", parent, remove=True),
        *(protocol.react("r", parent, emoji, True, reply) for emoji in protocol.REACTIONS),
        protocol.mentions(20, parent),
        protocol.mentions(),
        protocol.pin("r", parent, remove=True, reply_to=parent),
        protocol.mark_read("r", reply, parent),
        protocol.edit("r", reply, "x", parent),
        protocol.delete("r", reply, parent),
    ]
    for frame in frames:
        assert validator(CLIENT_FRAMES[frame["action"]]).is_valid(frame), frame
