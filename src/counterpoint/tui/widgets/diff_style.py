"""The diff view's styles: the theme palette of one theme generation and Pygments tokens as
Rich styles (foreground only: the row backgrounds stay the diff's)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rich.style import Style

from counterpoint.core import glyphs
from counterpoint.tui.theme import theme_color

if TYPE_CHECKING:
    from pygments.lexer import Lexer
    from textual.widget import Widget

__all__ = ["HIGHLIGHT_LIMIT", "Palette", "SyntaxStyles", "build_palette", "lex_rows", "lexer_for"]

HIGHLIGHT_LIMIT = 4000
"""Hunks longer than this many rows are shown without syntax colours (keeps first paint fast)."""


@dataclass
class Palette:
    """Rich styles for one theme generation."""

    base: Style
    number: Style
    file: Style
    hunk: Style
    meta: Style
    add_bg: Style
    remove_bg: Style
    add_sign: Style
    remove_sign: Style
    cursor_bg: Style
    flag_bg: Style
    agreement: dict[str, Style]
    dark: bool


@lru_cache(maxsize=64)
def lexer_for(path: str) -> Lexer | None:
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        return get_lexer_for_filename(path, stripnl=False, ensurenl=False, stripall=False)
    except ClassNotFound:
        return None


class SyntaxStyles:
    """Maps Pygments token types to foreground-only Rich styles (row backgrounds stay ours)."""

    def __init__(self, dark: bool) -> None:
        from rich.syntax import PygmentsSyntaxTheme

        self._theme = PygmentsSyntaxTheme("monokai" if dark else "friendly")
        self._cache: dict[object, Style] = {}

    def style(self, token_type: object) -> Style:
        style = self._cache.get(token_type)
        if style is None:
            full = self._theme.get_style_for_token(token_type)  # type: ignore[arg-type]
            style = Style(color=full.color, bold=full.bold, italic=full.italic)
            self._cache[token_type] = style
        return style


def build_palette(widget: Widget) -> Palette:
    """The palette for `widget`'s current style and its app's theme."""
    app = widget.app

    def fg(name: str) -> Style:
        return Style(color=theme_color(app, name).rich_color)

    def bg(name: str) -> Style:
        return Style(bgcolor=theme_color(app, name).rich_color)

    return Palette(
        base=widget.rich_style,
        number=fg("diff-line-number"),
        file=fg("diff-file") + bg("diff-file-bg") + Style(bold=True),
        hunk=fg("diff-hunk"),
        meta=fg("diff-line-number") + Style(italic=True),
        add_bg=bg("diff-add-bg"),
        remove_bg=bg("diff-remove-bg"),
        add_sign=fg("diff-add") + Style(bold=True),
        remove_sign=fg("diff-remove") + Style(bold=True),
        cursor_bg=bg("diff-cursor-bg"),
        flag_bg=bg("flag-gutter"),
        agreement={name: fg(mark.variable) + Style(bold=True) for name, mark in glyphs.AGREEMENT.items()},
        dark=app.current_theme.dark,
    )


def lex_rows(
    lexer: Lexer,
    styles: SyntaxStyles,
    texts: list[str],
    rows: list[int],
    out: dict[int, list[tuple[str, Style]]],
) -> None:
    """Lex `texts` (the text of `rows`, one side of a hunk) as one source; each row's tokens
    go to `out[row]`."""
    source = "\n".join(texts)
    style_of = styles.style
    line: list[tuple[str, Style]] = []
    position = 0
    for token_type, value in lexer.get_tokens(source):
        style = style_of(token_type)
        parts = value.split("\n")
        for k, part in enumerate(parts):
            if k:
                if position < len(rows):
                    out[rows[position]] = line
                position += 1
                line = []
            if part:
                line.append((part, style))
    if position < len(rows):
        out[rows[position]] = line
