"""Text from the network, made safe to print on a terminal.

A chat message or a name is somebody else's text. Printed as it is, a carriage return or a line
feed can start a line that looks like another sender's message, an escape sequence (ESC, CSI) can
move the cursor, recolour or erase the screen, and a bidirectional override (U+202A-U+202E,
U+2066-U+2069) can reorder what follows it. ``printable`` shows every such character the way
Python's ``repr`` does (``\\x1b``, ``\\n``, ``\\r``, ``\\u202e``), so the text stays on its line and
means what it says; every other character, accents and emoji included, is kept.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 controls and DEL, C1 controls, the line/paragraph separators, and the bidi embeddings,
# overrides, isolates and marks (explicit formatting that reorders or hides what follows).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` as one terminal-safe line: control and bidi characters shown as escapes."""
    return _UNSAFE.sub(_escape, str(text))


def message_text(message: dict[str, object]) -> str:
    """A message frame's text as the terminal clients show it: a tombstone (``message`` null,
    ``deletedAt`` set) as ``(deleted)``, an edited one with ``(edited)``, escaped."""
    if message.get("message") is None:
        return "(deleted)"
    text = printable(message.get("message", ""))
    return f"{text} (edited)" if message.get("editedAt") else text
