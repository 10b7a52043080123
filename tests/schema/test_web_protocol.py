"""The JavaScript SDK's protocol.js (clients/js/src/protocol.js, the web page's too) agrees with
docs/asyncapi.yaml: cases generated here run through its own functions and through ajv (a JSON
Schema validator) in node, and both must agree.

- roomIdProblem and the clientMsgId pattern accept exactly what the schemas accept;
- checkName and userIdProblem accept exactly the names and user ids the schemas accept (outside
  the characters the document says their patterns cannot list), policyProblem the policies;
- every frame the client builds from accepted input is a valid client frame, and what
  messageProblem lets through is a valid sendAll (the client is stricter: a 32 KB frame);
- newClientMsgId makes valid ids, and parseFrame takes every valid server frame by its type.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.schema.support import CLIENT_FRAMES, SERVER_FRAMES, document, inline, strategy

HERE = Path(__file__).resolve().parent
GAP = {"Cn", "Cf", "Co", "Cs"}  # what neither pattern can list (see the document)


def _run(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (Node 20+ runs clients/js/src/protocol.js)")
    if not (HERE / "node_modules" / "ajv").is_dir():
        pytest.skip("tests/schema/node_modules is missing: `make test` installs it with npm")
    result = subprocess.run(
        [node, str(HERE / "web_agreement.mjs")],
        input=json.dumps({"document": document(), "cases": cases}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout)
    assert len(results) == len(cases)
    return results


def _cases(draw_all) -> list[dict[str, Any]]:
    """Examples from a Hypothesis strategy, drawn once (one node process for all of them)."""
    found: list[Any] = []

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(draw_all)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


def _disagreements(cases: list[dict[str, Any]]) -> list[tuple[dict, dict]]:
    return [(c, r) for c, r in zip(cases, _run(cases), strict=True) if r["client"] != r["schema"]]


def _outside_gap(text: str) -> bool:
    return not any(unicodedata.category(ch) in GAP for ch in text)


_edge_text = st.text(
    alphabet=st.sampled_from("aZ09_.:-# \t\n\x00\x7f\x85\xa0\u200b\u2028\u3000éü🎉"), max_size=70
)


def test_room_ids_agree() -> None:
    values = _cases(
        st.one_of(strategy(inline("RoomId")), _edge_text, st.text(max_size=70)).filter(
            lambda v: "\ud800" not in v
        )
    )
    values += ["lobby", "lobby\n", "", "r" * 64, "r" * 65, "has space", "conn#x", "ünï"]
    assert _disagreements([{"kind": "roomId", "value": v} for v in values]) == []


def test_client_msg_ids_agree() -> None:
    values = _cases(st.one_of(strategy(inline("ClientMsgId")), _edge_text))
    values += ["c-1", "a b", "x" * 64, "x" * 65, "abc\n"]
    assert _disagreements([{"kind": "clientMsgId", "value": v} for v in values]) == []


def test_names_agree() -> None:
    values = _cases(
        st.one_of(strategy(inline("Name")), _edge_text, st.text(max_size=40)).filter(_outside_gap)
    )
    values += [
        "ana",
        "  ana  ",
        "\tana\n",
        "Zoë 🎉",
        "n" * 32,
        "n" * 33,
        "",
        "   ",
        "a\u2028b",
        "a\u202fb",
        "ana \u2764\ufe0f",
        "a\u034fb\u3164",
    ]
    assert _disagreements([{"kind": "name", "value": v} for v in values]) == []


def test_user_ids_agree() -> None:
    values = _cases(
        st.one_of(strategy(inline("UserId")), _edge_text, st.text(max_size=140)).filter(
            _outside_gap
        )
    )
    values += ["ana-sub-42", " padded ", "u" * 128, "u" * 129, "", " ", "a\u3000b", "🎉" * 128]
    assert _disagreements([{"kind": "userId", "value": v} for v in values]) == []


def test_policies_agree() -> None:
    values = ["open", "private", "announce", "Open", "public", "", " open", None, 1]
    assert _disagreements([{"kind": "policy", "value": v} for v in values]) == []


def test_frames_the_client_builds_are_valid_client_frames() -> None:
    ulid = "01HZX3K9Q8V7N6M5K4J3H2G1F0"
    cases = [
        {"kind": "build", "action": "join", "args": ["lobby", "ana"]},
        {"kind": "build", "action": "join", "args": ["lobby", ""]},
        {"kind": "build", "action": "join", "args": ["lobby", "ana", ulid]},
        {"kind": "build", "action": "join", "args": ["lobby", None, ulid]},
        {"kind": "build", "action": "leave", "args": ["lobby"]},
        {"kind": "build", "action": "sendAll", "args": ["lobby", "hi", "c-1"]},
        {"kind": "build", "action": "history", "args": ["lobby"]},
        {"kind": "build", "action": "history", "args": ["lobby", {"limit": 100, "before": ulid}]},
        {"kind": "build", "action": "history", "args": ["lobby", {"limit": 100, "after": ulid}]},
        {
            "kind": "build",
            "action": "resume",
            "args": [[{"roomId": "lobby", "after": ulid}, {"roomId": "dev"}], "ana"],
        },
        {"kind": "build", "action": "resume", "args": [[{"roomId": "lobby"}]]},
        {"kind": "build", "action": "members", "args": ["lobby"]},
        {"kind": "build", "action": "ping", "args": []},
        {"kind": "build", "action": "createRoom", "args": ["team"]},
        *(
            {"kind": "build", "action": "createRoom", "args": ["team", policy]}
            for policy in ("open", "private", "announce")
        ),
        *(
            {"kind": "build", "action": action, "args": ["team", "ana-sub-42"]}
            for action in ("invite", "uninvite", "promote", "demote", "kick", "disconnectUser")
        ),
        {"kind": "build", "action": "kick", "args": ["team", "ana-sub-42", 3600]},
        {"kind": "build", "action": "kick", "args": ["team", "ana-sub-42", "forever"]},
        {"kind": "build", "action": "delete", "args": ["lobby", ulid]},
        {"kind": "build", "action": "edit", "args": ["lobby", ulid, "new text"]},
        {"kind": "build", "action": "typing", "args": ["lobby"]},
        {"kind": "build", "action": "markRead", "args": ["lobby", ulid]},
        # Conversations: the thread variants of the message actions, then the new actions.
        *(
            {"kind": "build", "action": "sendAll", "args": ["lobby", "re", "c-2", options]}
            for options in ({"replyTo": ulid}, {"replyTo": ulid, "alsoToRoom": True})
        ),
        {"kind": "build", "action": "delete", "args": ["lobby", ulid, ulid]},
        {"kind": "build", "action": "edit", "args": ["lobby", ulid, "new text", ulid]},
        {"kind": "build", "action": "markRead", "args": ["lobby", ulid, ulid]},
        {"kind": "build", "action": "thread", "args": ["lobby", ulid]},
        {
            "kind": "build",
            "action": "thread",
            "args": ["lobby", ulid, {"limit": 10, "before": ulid}],
        },
        {"kind": "build", "action": "threads", "args": ["lobby"]},
        {"kind": "build", "action": "threads", "args": ["lobby", ulid]},
        {"kind": "build", "action": "follow", "args": ["lobby", ulid]},
        {"kind": "build", "action": "follow", "args": ["lobby", ulid, True]},
        {"kind": "build", "action": "react", "args": ["lobby", ulid, "👍"]},
        {
            "kind": "build",
            "action": "react",
            "args": ["lobby", ulid, "🏳️‍🌈", {"remove": True, "replyTo": ulid}],
        },
        {"kind": "build", "action": "mentions", "args": []},
        {"kind": "build", "action": "mentions", "args": [ulid]},
        {"kind": "build", "action": "pin", "args": ["team", ulid]},
        {
            "kind": "build",
            "action": "pin",
            "args": ["team", ulid, {"remove": True, "replyTo": ulid}],
        },
        # Attachments and notifications.
        {
            "kind": "build",
            "action": "prepareUpload",
            "args": ["lobby", {"name": "cat.png", "type": "image/png", "size": 48213}],
        },
        {"kind": "build", "action": "attachmentUrl", "args": ["lobby", ulid, ulid]},
        {
            "kind": "build",
            "action": "attachmentUrl",
            "args": ["lobby", ulid, ulid, {"thumbnail": True}],
        },
        {
            "kind": "build",
            "action": "registerDevice",
            "args": [
                {
                    "endpoint": "https://push.example.com/s/1",
                    "keys": {
                        "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1"
                        "XbjhazAkj7I99e8QcYP7DkM",
                        "auth": "tBHItJI5svbpez7KI4CCXg",
                    },
                }
            ],
        },
        {"kind": "build", "action": "unregisterDevice", "args": ["q3BvZ2xK0mUe1t5c8r2XwA"]},
        *(
            {"kind": "build", "action": "notifyLevel", "args": ["team", level]}
            for level in ("all", "mentions", "none")
        ),
        *({"kind": "newClientMsgId"} for _ in range(20)),
    ]
    results = _run(cases)
    assert [r for r in results if not r["schema"]] == []
    built = {c["action"] for c in cases if c["kind"] == "build"}
    assert built == set(CLIENT_FRAMES), "a frame builder of the SDK is not checked"


def test_what_the_client_lets_a_user_send_is_a_valid_send_all() -> None:
    messages = _cases(st.text(min_size=1, max_size=60).filter(_outside_gap))
    messages += ["€" * 10_000, "€" * 11_000, "x" * 32_700, "x" * 40_000]
    cases = [
        {"kind": "sendable", "roomId": "lobby", "message": m, "clientMsgId": "c-1"}
        for m in messages
    ]
    results = _run(cases)
    assert [
        c["message"][:20]
        for c, r in zip(cases, results, strict=True)
        if r["client"] and not r["schema"]
    ] == []
    assert any(not r["client"] for r in results), "the 32 KB frame limit was never exercised"


def test_the_client_takes_every_valid_server_frame_by_its_type() -> None:
    frames = [
        example["payload"]
        for message in document()["components"]["messages"].values()
        for example in message.get("examples", [])
        if example["payload"].get("type") in SERVER_FRAMES
    ]
    frames += _cases(strategy(inline("ServerFrame")))
    assert {f["type"] for f in frames} == set(SERVER_FRAMES)
    assert _disagreements([{"kind": "serverFrame", "frame": f} for f in frames]) == []
