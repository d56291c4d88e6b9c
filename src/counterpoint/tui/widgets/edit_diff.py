"""Edit blocks drawn as diffs inside the generator pane's log (`ProposalLog`).

The pane's text (`counterpoint.tui.proposal_stream`) carries each edit block as an embedded
block of the log (`markdown_segments.EMBED`): a header line with the path, then one line per
SEARCH line (removed, ``-``) and per REPLACE line (added, ``+``). `encode_edit` writes that
form and `ProposalLog.render_embedded` draws it: the path, the lines with their signs on the
diff view's backgrounds, highlighted by the file's language as the diff view highlights
them (`diff_style`), numbered from the file's line where the SEARCH text was found. A note
(a block that could not be read) is drawn as one line.

Every field is model text made safe here, once: path and code through `visible` (code with
tabs expanded, as the diff view does), drawn as plain Text, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from counterpoint.core.safe_text import visible
from counterpoint.tui.widgets.diff_rows import clean_line
from counterpoint.tui.widgets.diff_style import (
    HIGHLIGHT_LIMIT,
    Palette,
    SyntaxStyles,
    build_palette,
    lex_rows,
    lexer_for,
)
from counterpoint.tui.widgets.markdown_log import MarkdownLog
from counterpoint.tui.widgets.markdown_segments import EMBED

if TYPE_CHECKING:
    from textual.theme import Theme

__all__ = ["ProposalLog", "encode_edit", "encode_note"]

_OPEN = EMBED * 2
"""How each embedded block's first line starts (see `markdown_segments.block_boundaries`)."""
_FIELD = "\x1f"
"""Between the header's fields (a control character: `visible` escapes it in model text)."""


def _lines(text: str) -> list[str]:
    return text.splitlines() if text else []


def encode_edit(
    path: str | None, search: str, replace: str, *, first_line: int | None = None, open_: bool = False
) -> str:
    """An edit block as the pane's text carries it (ends with a newline)."""
    name = visible(path, newlines=False) if path is not None else ""
    header = _FIELD.join([name, str(first_line or ""), "open" if open_ else ""])
    rows = [f"{_OPEN}@{header}\n"]
    rows += [f"{EMBED}-{clean_line(line)}\n" for line in _lines(search)]
    rows += [f"{EMBED}+{clean_line(line)}\n" for line in _lines(replace)]
    return "".join(rows)


def encode_note(problem: str) -> str:
    """A block that could not be read, with the reason (one line)."""
    return f"{_OPEN}!{visible(problem, newlines=False)}\n"


class ProposalLog(MarkdownLog):
    """The generator pane's log: prose as Markdown, edit blocks as diffs."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._palette: Palette | None = None
        self._syntax: SyntaxStyles | None = None

    def _on_theme_changed(self, theme: Theme) -> None:
        self._palette = None
        self._syntax = None
        super()._on_theme_changed(theme)

    def render_embedded(self, text: str, width: int) -> list[Strip]:
        if self._palette is None:
            self._palette = build_palette(self)
        pal = self._palette
        rows = text.rstrip("\n").split("\n")
        head = rows[0][len(_OPEN) :]
        if head.startswith("!"):
            note = Text("✗ ", style=pal.remove_sign)
            note.append(head[1:])
            return self._wrapped(note, width)
        path, first, state = (head[1:].split(_FIELD) + ["", "", ""])[:3]
        removed = [row[2:] for row in rows[1:] if row[1:2] == "-"]
        added = [row[2:] for row in rows[1:] if row[1:2] == "+"]
        start = int(first) if first else None
        title = f" {path or '(no file named yet)'}{f':{start}' if start is not None else ''}"
        title += f"  -{len(removed)} +{len(added)}{'  …' if state == 'open' else ''}"
        style = pal.base + pal.file
        strips = [Strip([Segment(title, style)]).crop_extend(0, width, style)]
        number_width = len(str(start + max(len(removed), len(added)))) if start is not None else 0
        for sign, lines in (("-", removed), ("+", added)):
            tokens = self._tokens(path, lines)
            for k, line in enumerate(lines):
                number = f"{start + k:>{number_width}} " if start is not None else ""
                strips += self._row(sign, number, number_width, line, tokens.get(k), width, pal)
        return strips

    def _tokens(self, path: str, lines: list[str]) -> dict[int, list[tuple[str, Style]]]:
        out: dict[int, list[tuple[str, Style]]] = {}
        lexer = lexer_for(path) if path else None
        if lexer is None or not lines or len(lines) > HIGHLIGHT_LIMIT:
            return out
        if self._syntax is None:
            assert self._palette is not None
            self._syntax = SyntaxStyles(self._palette.dark)
        lex_rows(lexer, self._syntax, lines, list(range(len(lines))), out)
        return out

    def _row(
        self,
        sign: str,
        number: str,
        number_width: int,
        line: str,
        tokens: list[tuple[str, Style]] | None,
        width: int,
        pal: Palette,
    ) -> list[Strip]:
        """One removed or added line, folded at the width under its gutter."""
        base = pal.base + (pal.remove_bg if sign == "-" else pal.add_bg)
        sign_style = base + (pal.remove_sign if sign == "-" else pal.add_sign)
        code = Text(style=base, end="")
        if tokens:
            for part, style in tokens:
                code.append(part, base + style)
        else:
            code.append(line)
        gutter = len(number) + 2
        room = max(1, width - gutter)
        console = self.app.console
        pieces = code.wrap(console, room, overflow="fold") if code.cell_len > room else [code]
        strips = []
        for k, piece in enumerate(pieces):
            head = [
                Segment(number if k == 0 else " " * len(number), base + pal.number),
                Segment(f"{sign} " if k == 0 else "  ", sign_style),
            ]
            strips.append(Strip(head + list(piece.render(console))).extend_cell_length(width, base))
        return strips

    def _wrapped(self, text: Text, width: int) -> list[Strip]:
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        return [Strip(line) for line in console.render_lines(text, options, pad=False)]
