"""Pure rules: ULIDs, validation and settings, no AWS at all."""

from __future__ import annotations

import pytest

from roomchat import protocol
from roomchat.errors import BadRequest, TooLarge, UnknownAction
from roomchat.settings import Settings, SettingsError
from roomchat.ulid import UlidGenerator, is_ulid, timestamp_ms


def test_ulids_are_unique_and_sort_by_time_even_within_one_millisecond():
    new_ulid = UlidGenerator()
    ids = [new_ulid(1_800_000_000_000) for _ in range(1000)] + [new_ulid(1_800_000_000_001)]

    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(is_ulid(i) for i in ids)
    assert timestamp_ms(ids[-1]) >= 1_800_000_000_001


def test_ulid_validation_rejects_other_text():
    assert not is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FA")  # 25 chars
    assert not is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAI")  # I is not Crockford base32
    assert not is_ulid(12345)
    assert not is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV\n")  # $ would match before the newline
    assert is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV")


@pytest.mark.parametrize("room", ["lobby", "a", "A-b_c.d:e", "r" * 64])
def test_valid_room_ids(room):
    assert protocol.check_room_id(room) == room


@pytest.mark.parametrize(
    "room", ["", "r" * 65, "has space", "conn#x", "ünï", "lobby\n", None, 5, ["x"]]
)
def test_invalid_room_ids(room):
    with pytest.raises(BadRequest):
        protocol.check_room_id(room)


def test_names_are_trimmed_and_limited_to_32_printable_chars():
    assert protocol.check_name("  ana  ") == "ana"
    assert protocol.check_name("n" * 32) == "n" * 32
    assert protocol.check_name("Zoë 🎉") == "Zoë 🎉"
    for bad in ["", "   ", "n" * 33, "a\nb", "\x00", 3, None]:
        with pytest.raises(BadRequest):
            protocol.check_name(bad)


def test_message_limit_counts_utf8_bytes():
    assert protocol.check_message("€" * 10, 30) == "€" * 10  # 3 bytes each
    with pytest.raises(TooLarge):
        protocol.check_message("€" * 11, 30)


def test_history_limit_defaults_to_50_and_accepts_1_to_100():
    assert protocol.parse_history({"roomId": "r"}).limit == 50
    assert protocol.parse_history({"roomId": "r", "limit": 1}).limit == 1
    assert protocol.parse_history({"roomId": "r", "limit": 100}).limit == 100


def test_default_route_classification():
    assert isinstance(protocol.classify_default("{bad"), BadRequest)
    assert isinstance(protocol.classify_default(b"\xff\xfe"), BadRequest)
    assert isinstance(protocol.classify_default('{"action": "x"}'), UnknownAction)
    assert isinstance(protocol.classify_default('{"x": 1}'), BadRequest)


def test_frames_keep_non_ascii_text_as_is():
    assert protocol.encode({"type": "pong", "t": "日本"}) == '{"type":"pong","t":"日本"}'


def test_settings_from_env_with_defaults():
    s = Settings.from_env({"ROOMS_TABLE": "r", "HISTORY_TABLE": "h"})

    assert (s.rooms_by_connection_index, s.fanout_workers, s.history_retention_days) == (
        "byConnection",
        32,
        0,
    )
    assert s.callback_url is None and s.max_message_bytes == 32 * 1024


def test_a_configured_review_hook_fails_closed_unless_told_otherwise():
    """A hook that is cold (its first call after idle or a scale-out takes longer than the
    200 ms budget) or down must not let messages through unreviewed: REVIEW_FALLBACK defaults
    to deny; allow only when set."""
    env = {"ROOMS_TABLE": "r", "HISTORY_TABLE": "h", "REVIEW_FUNCTION": "hook"}
    assert Settings.from_env(env).review_fallback == "deny"
    assert Settings.from_env({**env, "REVIEW_FALLBACK": "allow"}).review_fallback == "allow"


def test_settings_strip_a_trailing_slash_from_the_callback_url():
    env = {"ROOMS_TABLE": "r", "HISTORY_TABLE": "h", "CALLBACK_URL": "https://x/prod/"}
    assert Settings.from_env(env).callback_url == "https://x/prod"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"HISTORY_TABLE": "h"}, "ROOMS_TABLE"),
        ({"ROOMS_TABLE": "r", "HISTORY_TABLE": "h", "FANOUT_WORKERS": "many"}, "FANOUT_WORKERS"),
        ({"ROOMS_TABLE": "r", "HISTORY_TABLE": "h", "FANOUT_WORKERS": "0"}, "from 1 to 256"),
        ({"ROOMS_TABLE": "r", "HISTORY_TABLE": "h", "LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_settings_name_the_variable(env, needle):
    with pytest.raises(SettingsError, match=needle):
        Settings.from_env(env)
