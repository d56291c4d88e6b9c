"""The context list: what a session sends about the repository (path, tokens, why), shown
and edited the same way in the task screen and the workbench's context screen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from counterpoint.core.safe_text import visible

COLUMNS = ("File", "Tokens", "Why")


def _cell(text: str) -> Text:
    return Text(visible(text, newlines=False))  # paths and reasons may come from anywhere: plain text


def fill(table: DataTable[Any], total: Static, bundle: Any, added: Sequence[str], dropped: Sequence[str]) -> None:
    """Each file sent (path, tokens, why), then the ones the human dropped, then the ones the
    human added that cannot be sent (with the reason); the total against the budget."""
    table.clear()
    for sent in bundle.files:
        why = sent.reason + (" (in part)" if sent.partial else "")
        table.add_row(_cell(sent.path), Text(str(sent.tokens)), _cell(why), key=sent.path)
    for path in dropped:
        table.add_row(_cell(path), Text("—"), Text("dropped by you"), key=path)
    for path in added:
        reason = bundle.omitted.get(path)
        if reason is not None:
            table.add_row(_cell(path), Text("—"), _cell(f"not sent: {reason}"), key=path)
    total.update(Text(f"{bundle.tokens} of {bundle.budget} tokens; "
                      f"the map names {len(bundle.map_files)} more files"))


def highlighted(table: DataTable[Any]) -> str | None:
    if table.row_count == 0:
        return None
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


def toggle(path: str, added: list[str], dropped: list[str]) -> None:
    """Drop a file that is sent, or keep again one that was dropped."""
    if path in dropped:
        dropped.remove(path)
    else:
        dropped.append(path)
        if path in added:
            added.remove(path)


def add(path: str, added: list[str], dropped: list[str]) -> None:
    if path in dropped:
        dropped.remove(path)
    if path not in added:
        added.append(path)
