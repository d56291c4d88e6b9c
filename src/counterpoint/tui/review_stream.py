"""Reading a review while it streams: the findings that are complete so far, and the summary.

A reviewer streams one JSON object (`{"summary": ..., "verdict": ..., "findings": [...]}`),
possibly after some prose and inside a ```json fence. The reviewer pane wants to list each
finding the moment its object closes, long before the whole review parses. `ReviewScanner`
keeps a position in the text and a tiny JSON state machine (depth, in-string, escape), so
feeding N characters costs O(N) however often it is called.
"""

from __future__ import annotations

import json
import re
from typing import Any

from counterpoint.core.safe_text import visible

_FINDINGS_KEY = re.compile(r'"findings"\s*:\s*\[')
_SUMMARY = re.compile(r'"summary"\s*:\s*("(?:[^"\\]|\\.)*")')


class ReviewScanner:
    """Incrementally extracts complete finding objects from a streaming review."""

    def __init__(self) -> None:
        self.text = ""
        self.findings: list[dict[str, Any]] = []
        self.summary: str | None = None
        self._array_at: int | None = None
        """Index just after the '[' of the findings array, once seen."""
        self._pos = 0
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._object_start: int | None = None
        self._array_closed = False

    def feed(self, chunk: str) -> list[dict[str, Any]]:
        """Add streamed text; return the findings completed by it (in order)."""
        self.text += chunk
        if self.summary is None:
            match = _SUMMARY.search(self.text)
            if match:
                try:
                    self.summary = json.loads(match.group(1))
                except ValueError:
                    self.summary = None
        if self._array_at is None:
            match = _FINDINGS_KEY.search(self.text)
            if match is None:
                return []
            self._array_at = self._pos = match.end()
        return self._scan()

    def _scan(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        text = self.text
        i = self._pos
        while i < len(text) and not self._array_closed:
            ch = text[i]
            if self._in_string:
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif ch == '"':
                    self._in_string = False
            elif ch == '"':
                self._in_string = True
            elif ch == "{":
                if self._depth == 0:
                    self._object_start = i
                self._depth += 1
            elif ch == "}":
                self._depth -= 1
                if self._depth == 0 and self._object_start is not None:
                    item = _load(text[self._object_start : i + 1])
                    if item is not None:
                        self.findings.append(item)
                        found.append(item)
                    self._object_start = None
            elif ch == "]" and self._depth == 0:
                self._array_closed = True
            i += 1
        self._pos = i
        return found


def _load(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def finding_line(item: dict[str, Any]) -> str:
    """One Markdown list line for a finding as the reviewer wrote it."""
    severity = str(item.get("severity", "?"))
    category = str(item.get("category", ""))
    path = str(item.get("path", "?"))
    start, end = item.get("start_line"), item.get("end_line")
    where = f"{path}:{start}" if start == end or end is None else f"{path}:{start}-{end}"
    title = str(item.get("title", "")).replace("\n", " ")
    # Not validated yet: one list line whatever the fields hold (controls shown as escapes).
    return visible(f"- **{severity}** {category} `{where}` — {title}", newlines=False) + "\n"
