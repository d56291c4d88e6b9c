"""JSON export: the summary, pretty-printed with a stable key order."""

from __future__ import annotations

import json
from typing import Any


def render_json(summary: dict[str, Any]) -> str:
    """Keys sorted at every level so two exports of one session diff cleanly."""
    return json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
