"""The apply screen's two sides: the list of hunks (HunkList) and the highlighted hunk's
preview (HunkPreview): the findings that flag it, then its lines, numbered and highlighted
by language, each changed line marked chosen or not.

Paths, code and findings are model text: drawn through `visible` as plain Text, never markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from counterpoint.core import glyphs
from counterpoint.core.safe_text import visible
from counterpoint.tui.widgets.diff_style import (
    HIGHLIGHT_LIMIT,
    Palette,
    SyntaxStyles,
    build_palette,
    lex_rows,
    lexer_for,
)
from counterpoint.tui.widgets.findings_table import location_label
from counterpoint.tui.widgets.row_list import RowList

if TYPE_CHECKING:
    from counterpoint.core.findings import Cluster
    from counterpoint.core.selection import Piece
    from counterpoint.tui.apply_state import ApplyChoice

__all__ = ["HunkList", "HunkPreview", "finding_text"]

CHOSEN_MARK = {"all": "[✓]", "some": "[±]", "none": "[ ]"}
"""A hunk or a line chosen whole, in part, or not (a mark, never colour alone)."""
STATUS_LETTER = {"added": "A", "modified": "M", "deleted": "D"}


def _one_line(text: str) -> str:
    return visible(text, newlines=False)


def finding_text(c: Cluster, palette: Palette | None) -> Text:
    """One finding that flags a hunk: agreement glyph, severity, verdict, place, title;
    an untriaged contested one is marked first."""
    untriaged = c.contested and c.verdict == "pending"
    text = Text()
    text.append(f"{glyphs.CONTESTED.glyph} " if untriaged else "  ", style="bold")
    agreement = glyphs.agreement(c.agreement)
    text.append(f"{agreement.label:<16}", style=palette.agreement.get(c.agreement) if palette else None)
    text.append(f"{glyphs.severity(c.severity).label:<10}")
    verdict = glyphs.verdict(c.verdict)
    text.append(f"{verdict.label:<11}", style="bold" if c.verdict != "pending" else "dim")
    text.append(_one_line(c.title))
    text.append(f"  {location_label(c.path, c.start_line, c.end_line)}", style="dim")
    if untriaged:
        text.append("  (contested, not triaged)", style="italic")
    return text


class HunkList(RowList):
    """One row per piece: chosen mark, size, the findings flagging it (agreement glyphs, ⚑
    when one is contested and not triaged), ✎ when commented, file and first line."""

    def __init__(self, choice: ApplyChoice, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choice = choice
        self._palette: Palette | None = None

    def on_mount(self) -> None:
        self.set_count(len(self.choice.pieces))

    def theme_changed(self) -> None:
        self._palette = None
        self.refresh_rows()

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            self._palette = build_palette(self)
        return self._palette

    @property
    def piece(self) -> Piece | None:
        pieces = self.choice.pieces
        return pieces[self.cursor] if pieces else None

    def row_text(self, row: int) -> Text:
        choice = self.choice
        piece = choice.pieces[row]
        hunk = piece.hunk
        state = choice.state(piece)
        text = Text(no_wrap=True, end="")
        text.append(f"{CHOSEN_MARK[state]} ", style="bold" if state != "none" else "dim")
        same_file = row > 0 and choice.pieces[row - 1].hunk.path == hunk.path
        letter = STATUS_LETTER.get(choice.status.get(hunk.id, ""), "?")
        lines = hunk.lines[piece.start : piece.end]
        added = sum(1 for line in lines if line[:1] == "+")
        removed = sum(1 for line in lines if line[:1] == "-")
        text.append(f"+{added:<3}", style=self.palette.add_sign)
        text.append(f"-{removed:<3}", style=self.palette.remove_sign)
        flagged = choice.findings(piece)
        marks = "".join(glyphs.agreement(c.agreement).glyph for c in flagged[:3])
        untriaged = any(c.contested and c.verdict == "pending" for c in flagged)
        for c in flagged[:3]:
            text.append(glyphs.agreement(c.agreement).glyph, style=self.palette.agreement.get(c.agreement))
        text.append(f"{glyphs.CONTESTED.glyph if untriaged else ' '}", style="bold")
        text.append(" " * (4 - len(marks)))
        text.append("✎ " if hunk.id in choice.comments else "  ", style="italic")
        text.append(f"{letter} {_one_line(hunk.path)}", style="dim" if same_file else "bold")
        text.append(f":{piece.new_start}", style="dim")
        return text


class HunkPreview(RowList):
    """The highlighted piece: its findings, its header (and the human's comment), its lines."""

    def __init__(self, choice: ApplyChoice, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choice = choice
        self.piece: Piece | None = None
        self.first_line = 0
        """The row of the piece's first line (rows above are findings and the header)."""
        self._head: list[Text] = []
        self._code: dict[int, list[tuple[str, Style]]] = {}
        self._numbers: list[tuple[int | None, int | None]] = []
        self._palette: Palette | None = None
        self._styles: SyntaxStyles | None = None

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            self._palette = build_palette(self)
            self._styles = SyntaxStyles(self._palette.dark)
        return self._palette

    def theme_changed(self) -> None:
        self._palette = None
        self.show(self.piece, keep_cursor=True)

    def show(self, piece: Piece | None, keep_cursor: bool = False) -> None:
        same = keep_cursor and piece is self.piece
        line = self.cursor - self.first_line
        self.piece = piece
        self.range_start = None
        self._head = []
        self._code = {}
        if piece is None:
            self._head = [Text("Nothing to apply.", style="dim")]
            self.first_line = 1
            self.set_count(1)
            return
        palette = self.palette
        flagged = self.choice.findings(piece)
        if flagged:
            noun = "finding flags" if len(flagged) == 1 else "findings flag"
            self._head.append(Text(f"{len(flagged)} {noun} this hunk:", style="bold"))
            self._head.extend(finding_text(c, palette) for c in flagged)
        else:
            self._head.append(Text("No finding flags this hunk.", style="dim"))
        title = Text(no_wrap=True)
        title.append(_one_line(piece.hunk.path), style=palette.file)
        title.append(f"  {piece.header}", style=palette.hunk)
        self._head.append(title)
        comment = self.choice.comments.get(piece.hunk.id)
        if comment:
            self._head.append(Text(f"✎ {_one_line(comment)}", style="italic"))
        self.first_line = len(self._head)
        self._numbers = piece.numbers()
        self._lex(piece)
        self.set_count(self.first_line + piece.end - piece.start)
        first = piece.changed[0] - piece.start if piece.changed else 0
        self.set_reactive(RowList.cursor, self.first_line + (line if same else first))
        self.cursor = self.cursor  # clamp
        self.scroll_to(y=0, animate=False)

    def _lex(self, piece: Piece) -> None:
        lexer = lexer_for(piece.hunk.path)
        count = piece.end - piece.start
        if lexer is None or count > HIGHLIGHT_LIMIT or self._styles is None:
            return
        lines = piece.hunk.lines[piece.start : piece.end]
        # the new side (context and added lines) and the old side (context and removed
        # lines) are lexed as sources of their own, so multi-line constructs stay right
        for keep, sides in (("+", " +"), ("-", " -")):
            rows = [k for k, line in enumerate(lines) if line[:1] and line[:1] in sides]
            side: dict[int, list[tuple[str, Style]]] = {}
            lex_rows(lexer, self._styles, [_code(lines[k]) for k in rows], rows, side)
            for k in rows:
                if lines[k][:1] in (keep, " "):
                    self._code.setdefault(k, side.get(k, []))

    def validate_cursor(self, value: int) -> int:
        low = self.first_line if self.count > self.first_line else 0
        return max(low, min(value, self.count - 1)) if self.count else 0

    def line_index(self, row: int) -> int | None:
        """The hunk line (index into the hunk's lines) shown at `row`, if any."""
        if self.piece is None or row < self.first_line:
            return None
        return self.piece.start + row - self.first_line

    def row_text(self, row: int) -> Text:
        if row < self.first_line or self.piece is None:
            return self._head[row].copy() if row < len(self._head) else Text()
        piece = self.piece
        k = row - self.first_line
        line = piece.hunk.lines[piece.start + k]
        palette = self.palette
        sign = line[:1]
        old, new = self._numbers[k]
        text = Text(no_wrap=True, end="")
        if sign in ("-", "+"):
            chosen = piece.start + k in self.choice.chosen[piece.hunk.id]
            text.append(f"{CHOSEN_MARK['all' if chosen else 'none']} ", style="bold" if chosen else "dim")
        else:
            chosen = False
            text.append("    ")
        text.append(f"{old or '':>5} {new or '':>5} ", style=palette.number)
        if sign not in (" ", "-", "+"):
            text.append(_one_line(line), style=palette.meta)
            return text
        bg = None
        if chosen:
            bg = palette.add_bg if sign == "+" else palette.remove_bg
        sign_style = palette.add_sign if sign == "+" else palette.remove_sign if sign == "-" else None
        text.append(sign + " ", style=sign_style)
        tokens = self._code.get(k)
        if tokens is None:
            text.append(_code(line), style=None if chosen or sign == " " else "dim")
        else:
            for part, style in tokens:
                text.append(part, style=style if chosen or sign == " " else style + Style(dim=True))
        if bg is not None:
            text.stylize(bg)
        return text


def _code(line: str) -> str:
    return visible(line[1:], newlines=False).expandtabs(4)
