"""A sample message review hook: a word list. Deployed by Terraform when
``review_hook_sample_words`` is set (handler ``roomchat.review_hook.handler``).

``REVIEW_BLOCKED_WORDS`` (comma-separated, case-insensitive, whole words) are masked with
``*``; ``REVIEW_DENY_WORDS`` deny the message with a reason the sender sees.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any


def _words(raw: str) -> list[str]:
    return [w.strip().lower() for w in raw.split(",") if w.strip()]


def _pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted(set(words), key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)


def review(text: str, masked: Iterable[str], denied: Iterable[str]) -> dict[str, Any]:
    """The verdict on one message: deny if it has a denied word, else mask masked words."""
    deny = _pattern(denied)
    if deny is not None:
        found = deny.search(text)
        if found:
            return {"verdict": "deny", "reason": f"the word {found.group(0)!r} is not allowed here"}
    mask = _pattern(masked)
    if mask is not None:
        replaced = mask.sub(lambda m: "*" * len(m.group(0)), text)
        if replaced != text:
            return {"verdict": "replace", "message": replaced}
    return {"verdict": "allow"}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    text = event.get("message") if isinstance(event, dict) else None
    if not isinstance(text, str):
        return {"verdict": "deny", "reason": "no message to review"}
    return review(
        text,
        _words(os.environ.get("REVIEW_BLOCKED_WORDS", "")),
        _words(os.environ.get("REVIEW_DENY_WORDS", "")),
    )
