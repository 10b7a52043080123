"""The sample message review hook (functions/roomchat/review_hook.py): a word list."""

from __future__ import annotations

import pytest

from roomchat import review_hook
from roomchat.adapters.review import parse_answer
from roomchat.ports import ReviewVerdict


def test_masked_words_are_replaced_whole_word_and_case_insensitively():
    answer = review_hook.review("Heck, what the heck? heckle", ["heck"], [])

    assert answer == {"verdict": "replace", "message": "****, what the ****? heckle"}


def test_a_denied_word_denies_with_a_reason_naming_it():
    answer = review_hook.review("buy SPAM now", ["heck"], ["spam"])

    assert answer["verdict"] == "deny" and "'SPAM'" in answer["reason"]


def test_clean_text_is_allowed():
    assert review_hook.review("hello there", ["heck"], ["spam"]) == {"verdict": "allow"}


def test_the_handler_reads_its_lists_from_the_environment(monkeypatch):
    monkeypatch.setenv("REVIEW_BLOCKED_WORDS", " darn , heck ")
    monkeypatch.setenv("REVIEW_DENY_WORDS", "")

    answer = review_hook.handler({"message": "darn it", "roomId": "lobby"}, None)

    assert answer == {"verdict": "replace", "message": "**** it"}


@pytest.mark.parametrize("event", [{}, {"message": 5}, "text", None])
def test_an_event_without_text_is_denied(event):
    assert review_hook.handler(event, None)["verdict"] == "deny"


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ({"verdict": "allow"}, ReviewVerdict.ALLOW),
        ({"verdict": "deny"}, ReviewVerdict.DENY),
        ({"verdict": "replace", "message": "x"}, ReviewVerdict.REPLACE),
        ({"verdict": "replace"}, None),
        ({"verdict": "ALLOW"}, None),
        (["allow"], None),
        (None, None),
    ],
)
def test_only_the_three_answer_shapes_are_understood(answer, verdict):
    parsed = parse_answer(answer)
    assert (parsed.verdict if parsed else None) is verdict
