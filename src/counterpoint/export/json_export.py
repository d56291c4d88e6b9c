"""JSON export: the summary, pretty-printed with a stable key order; DEL, C1 and bidi
controls from model text written as `\\u` escapes (ESC and the other C0 controls always are)."""

from __future__ import annotations

import json
from typing import Any

from counterpoint.core.safe_text import escape_json_output


def render_json(summary: dict[str, Any]) -> str:
    """Keys sorted at every level so two exports of one session diff cleanly."""
    return escape_json_output(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
