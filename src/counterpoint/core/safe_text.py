"""Model and path text made safe to show: control characters become visible escapes.

Text a model wrote (a proposal, a review, a finding's title), a provider's error message and
a file name a model chose are hostile data. Shown raw, an ESC starts a terminal sequence
(OSC 52 sets the clipboard, OSC 8 plants a hyperlink, CSI 2J clears the screen), a C1 CSI
(U+009B) does the same on terminals that honour C1, a CR overwrites a line, a bidi override
reorders what the reader sees, and a newline in a one-line field forges a new line or a
section. `visible()` is the one place that turns all of them into visible escapes
(``\\x1b``, ``\\x9b``, ``\\u202e``); every terminal, TUI widget, report and export shows
model text through it. Ordinary text (printable characters, tabs, newlines where allowed)
comes back unchanged.
"""

from __future__ import annotations

import re

__all__ = ["visible", "escape_json_output"]

_DANGER = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 but tab and newline, DEL, C1 (CR is among them)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u2028\u2029"  # line and paragraph separators: newlines to some readers
)
_UNSAFE = re.compile(f"\r\n|[{_DANGER}]")
_UNSAFE_ONE_LINE = re.compile(f"[{_DANGER}\n]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _replace(match: re.Match[str]) -> str:
    found = match.group()
    return "\n" if found == "\r\n" else _escape(found)


def visible(text: str, *, newlines: bool = True) -> str:
    """`text` with every control character shown as a visible escape.

    Tabs are kept. With `newlines` (a multi-line body) newlines are kept and a CRLF becomes a
    newline; without (a title, a table cell, one line of a report or a progress line) a
    newline is shown as ``\\n`` too, so it cannot start a line of its own.
    """
    if newlines:
        return _UNSAFE.sub(_replace, text)
    return _UNSAFE_ONE_LINE.sub(lambda m: _escape(m.group()), text)


def escape_json_output(encoded: str) -> str:
    """JSON text from `json.dumps(..., ensure_ascii=False)` with DEL, C1, bidi controls and
    line separators written as ``\\u`` escapes (they can only occur inside strings, so the
    result is the same JSON value, and no raw control reaches a terminal showing it)."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)
