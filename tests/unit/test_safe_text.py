"""core.safe_text: control characters as visible escapes; JSON output with C1 escaped."""

from __future__ import annotations

import json

import pytest

from counterpoint.core.safe_text import escape_json_output, visible


@pytest.mark.parametrize("text", [
    "plain ASCII, punctuation [/] `code` | pipes",
    "tabs\tand\nnewlines\n",
    "Ünïcödé — 日本語 — emoji 👩‍💻 (ZWJ kept) — עברית (RTL text itself kept)",
    "",
])
def test_ordinary_text_comes_back_unchanged(text):
    assert visible(text) == text


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),  # OSC 52: ESC and BEL
    ("\x1b]8;;http://x\x1b\\link", "\\x1b]8;;http://x\\x1b\\link"),  # OSC 8 hyperlink
    ("\x9b2J", "\\x9b2J"),  # C1 CSI
    ("\x85\x90\x9d\x9c", "\\x85\\x90\\x9d\\x9c"),  # NEL, DCS, OSC, ST
    ("a\x00b\x08c\x7f", "a\\x00b\\x08c\\x7f"),  # NUL, BS, DEL
    ("ok\rFAILED", "ok\\rFAILED"),  # a lone CR would overwrite the line
    ("\u202etxt.exe\u2066\u200f", "\\u202etxt.exe\\u2066\\u200f"),  # bidi override, isolate, mark
    ("one\u2028two\u2029", "one\\u2028two\\u2029"),  # line and paragraph separators
])
def test_controls_become_visible_escapes(raw, shown):
    assert visible(raw) == shown
    assert visible(raw, newlines=False) == shown


def test_crlf_is_a_newline_in_a_body_and_shown_on_one_line():
    assert visible("a\r\nb\n") == "a\nb\n"
    assert visible("a\r\nb\n", newlines=False) == "a\\r\\nb\\n"
    assert visible("title\n## Applied", newlines=False) == "title\\n## Applied"
    assert visible("tab\tkept", newlines=False) == "tab\tkept"


def test_visible_is_idempotent_and_leaves_nothing_raw():
    nasty = "".join(chr(c) for c in range(0, 0xA0)) + "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    once = visible(nasty, newlines=False)
    assert visible(once, newlines=False) == once
    assert all(ch == "\t" or " " <= ch <= "~" for ch in once)  # the tab is kept


def test_json_output_escapes_c1_del_and_bidi_and_loses_nothing():
    value = {"title": "\x1b[2J \x9b2J \x7f \u202e \u2028 ü 日本"}
    encoded = escape_json_output(json.dumps(value, ensure_ascii=False))
    assert json.loads(encoded) == value
    for raw in ("\x1b", "\x9b", "\x7f", "\u202e", "\u2028"):
        assert raw not in encoded
    assert "ü 日本" in encoded  # ordinary non-ASCII stays readable
