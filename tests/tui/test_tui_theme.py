"""Theme files, their loading and registration, theme variables in CSS; glyph sets."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.theme import BUILTIN_THEMES
from textual.widgets import Static

from counterpoint import paths
from counterpoint.core import findings
from counterpoint.core import glyphs
from counterpoint.tui.theme import (
    DARK_DEFAULTS,
    LIGHT_DEFAULTS,
    VARIABLE_NAMES,
    ThemeError,
    default_theme_dirs,
    load_theme_file,
    load_themes,
    register_all,
    theme_color,
    theme_variable_defaults,
)

BUNDLED = ["counterpoint-dark", "counterpoint-high-contrast", "counterpoint-light"]

GOOD = """
name = "midnight"
primary = "#336699"
background = "#000010"
dark = true
[variables]
diff-add-bg = "#003300"
agreement-solo = "orange"
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_themes_load_and_define_every_variable() -> None:
    themes = load_themes([paths.bundled("themes")])
    assert [t.name for t in themes] == BUNDLED
    by_name = {t.name: t for t in themes}
    assert by_name["counterpoint-dark"].dark and by_name["counterpoint-high-contrast"].dark
    assert not by_name["counterpoint-light"].dark
    for theme in themes:
        assert set(theme.variables) == set(VARIABLE_NAMES), theme.name
        for value in theme.variables.values():
            Color.parse(value)
        assert theme.background and theme.foreground


def test_dark_theme_file_matches_the_dark_defaults() -> None:
    """The defaults (used under Textual's built-in themes) are the dark theme's colours."""
    theme = load_theme_file(paths.bundled("themes") / "counterpoint-dark.toml")
    assert theme.variables == DARK_DEFAULTS
    light = load_theme_file(paths.bundled("themes") / "counterpoint-light.toml")
    assert light.variables == LIGHT_DEFAULTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\nprimary = "#fff"\n[oops', "invalid TOML"),
        ('primary = "#ffffff"\n', "missing required key 'name'"),
        ('name = "x"\n', "missing required key 'primary'"),
        ('name = ""\nprimary = "#fff"\n', "name must be a non-empty string"),
        ('name = "x"\nprimary = "#fff"\nbackground = "not-a-colour"\n', "background = 'not-a-colour' is not a colour"),
        ('name = "x"\nprimary = 12\n', "primary must be a colour string"),
        ('name = "x"\nprimary = "#fff"\nprimery2 = "#fff"\n', "unknown key 'primery2'"),
        ('name = "x"\nprimary = "#fff"\ndark = "yes"\n', "dark must be true or false"),
        ('name = "x"\nprimary = "#fff"\n[variables]\ndiff-add = "greenish"\n', "variables.diff-add = 'greenish' is not a colour"),
        ('name = "x"\nprimary = "#fff"\nvariables = 3\n', "[variables] must be a table"),
    ],
)
def test_bad_theme_files_name_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ThemeError) as info:
        load_theme_file(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_missing_file_is_a_theme_error(tmp_path: Path) -> None:
    with pytest.raises(ThemeError, match="cannot read theme file"):
        load_theme_file(tmp_path / "absent.toml")


def test_user_themes_load_after_bundled_and_a_broken_one_is_reported(tmp_path: Path) -> None:
    user = tmp_path / "user-themes"
    write(user, "good.toml", GOOD)
    broken = write(user, "broken.toml", 'name = "broken"\nprimary = "nope"\n')
    write(user, "notes.txt", "not a theme")
    errors: list[str] = []
    themes = load_themes([paths.bundled("themes"), user, tmp_path / "does-not-exist"], errors=errors)
    assert [t.name for t in themes] == [*BUNDLED, "midnight"]
    assert len(errors) == 1 and str(broken) in errors[0] and "primary" in errors[0]
    midnight = themes[-1]
    assert midnight.variables == {"diff-add-bg": "#003300", "agreement-solo": "orange"}


def test_user_theme_replaces_a_bundled_one_with_the_same_name(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    write(user, "mine.toml", 'name = "counterpoint-dark"\nprimary = "#ff0000"\n')
    themes = {t.name: t for t in load_themes([paths.bundled("themes"), user])}
    assert themes["counterpoint-dark"].primary == "#ff0000"


def test_default_dirs_are_bundled_then_user_config() -> None:
    assert default_theme_dirs() == [paths.bundled("themes"), paths.config_dir() / "themes"]


def test_variable_defaults_are_copies_for_dark_and_light() -> None:
    dark = theme_variable_defaults()
    dark["diff-add"] = "#000000"
    assert theme_variable_defaults()["diff-add"] == DARK_DEFAULTS["diff-add"]
    assert theme_variable_defaults(dark=False)["diff-add-bg"] == LIGHT_DEFAULTS["diff-add-bg"]
    assert set(theme_variable_defaults(dark=False)) == set(VARIABLE_NAMES)


class ThemedApp(App[None]):
    CSS = """
    #add { background: $diff-add-bg; color: $agreement-solo; }
    """

    def __init__(self, dirs: list[Path]) -> None:
        super().__init__()
        self.dirs = dirs
        self.errors: list[str] = []
        self.names: list[str] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def compose(self) -> ComposeResult:
        yield Static("x", id="add")

    def on_mount(self) -> None:
        self.names = register_all(self, self.dirs, errors=self.errors)


async def test_registered_themes_resolve_variables_in_css(tmp_path: Path) -> None:
    user = tmp_path / "themes"
    write(user, "good.toml", GOOD)
    write(user, "broken.toml", "this is = = not toml")
    builtin_before = dict(BUILTIN_THEMES)
    app = ThemedApp([paths.bundled("themes"), user])
    async with app.run_test(size=(40, 10)) as pilot:
        assert app.names == [*BUNDLED, "midnight"]
        assert len(app.errors) == 1 and "broken.toml" in app.errors[0]
        static = app.query_one("#add", Static)
        # A built-in Textual theme: our variables come from the defaults.
        assert static.styles.background == Color.parse(DARK_DEFAULTS["diff-add-bg"])
        for name in BUNDLED:
            app.theme = name
            await pilot.pause()
            theme = app.get_theme(name)
            assert theme is not None
            assert static.styles.background == Color.parse(theme.variables["diff-add-bg"])
            assert static.styles.color == Color.parse(theme.variables["agreement-solo"])
            assert theme_color(app, "diff-remove") == Color.parse(theme.variables["diff-remove"])
        app.theme = "midnight"
        await pilot.pause()
        assert static.styles.background == Color.parse("#003300")
        assert static.styles.color == Color.parse("orange")
        # Not set by midnight: falls back to the defaults.
        assert theme_color(app, "diff-remove-bg") == Color.parse(DARK_DEFAULTS["diff-remove-bg"])
    assert BUILTIN_THEMES == builtin_before


async def test_theme_color_works_in_an_app_without_our_defaults() -> None:
    class Plain(App[None]):
        pass

    app = Plain()
    async with app.run_test(size=(20, 5)) as pilot:
        await pilot.pause()
        assert theme_color(app, "diff-add-bg") == Color.parse(DARK_DEFAULTS["diff-add-bg"])
        app.theme = "textual-light"
        await pilot.pause()
        assert theme_color(app, "diff-add-bg") == Color.parse(LIGHT_DEFAULTS["diff-add-bg"])
        assert theme_color(app, "primary") == Color.parse(BUILTIN_THEMES["textual-light"].primary)


@pytest.mark.parametrize(
    ("table", "literal"),
    [
        (glyphs.AGREEMENT, findings.Agreement),
        (glyphs.STANCE, findings.Stance),
        (glyphs.VERDICT, findings.Verdict),
        (glyphs.SEVERITY, findings.Severity),
    ],
)
def test_every_state_has_a_distinct_glyph_and_word(table: dict[str, glyphs.Mark], literal: object) -> None:
    assert set(table) == set(get_args(literal))
    marks = list(table.values())
    assert len({m.glyph for m in marks}) == len(marks)
    assert all(len(m.glyph) == 1 for m in marks)
    assert [m.word for m in marks] == list(table)
    assert all(m.variable in VARIABLE_NAMES for m in marks)


def test_mark_labels_and_unknown_states() -> None:
    assert glyphs.agreement("consensus").label == "● consensus"
    assert glyphs.stance("dispute").label == "✗ dispute"
    assert glyphs.verdict("pending").label == "… pending"
    assert glyphs.severity("bogus").label == "? bogus"
