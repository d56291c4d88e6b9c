"""Themes: TOML files turned into `textual.theme.Theme` objects, plus Counterpoint's colours.

Bundled themes live in the repository's `themes/` folder (`counterpoint.paths.bundled`);
users add their own in `config_dir()/themes`. A user theme with the same name as a bundled
one replaces it. A broken user file is reported and skipped; it never stops the app.

Counterpoint's own colours (agreement, stance, diff ...) are theme *variables*. An app
returns `theme_variable_defaults(...)` from `App.get_theme_variable_defaults()` so that
Textual's built-in themes get sensible values too. Widgets that draw without CSS (the diff
view) read the resolved values with `theme_color()`.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from counterpoint import paths

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)

DARK_DEFAULTS: dict[str, str] = {
    "agreement-consensus": "#5fc77a",
    "agreement-solo": "#f0b35f",
    "agreement-split": "#c98cf5",
    "stance-agree": "#5fc77a",
    "stance-dispute": "#ef6b73",
    "stance-partial": "#f0b35f",
    "stance-none": "#7d8590",
    "verdict-accepted": "#5fc77a",
    "verdict-rejected": "#ef6b73",
    "verdict-pending": "#9aa3ad",
    "severity-critical": "#ff5370",
    "severity-high": "#ef6b73",
    "severity-medium": "#f0b35f",
    "severity-low": "#79b8ff",
    "severity-info": "#9aa3ad",
    "generator": "#5fa8f5",
    "reviewer": "#c98cf5",
    "diff-add": "#7ee293",
    "diff-add-bg": "#17301f",
    "diff-remove": "#f2878e",
    "diff-remove-bg": "#3a1d22",
    "diff-hunk": "#62b3c7",
    "diff-file": "#f0f2f5",
    "diff-file-bg": "#2b3340",
    "diff-line-number": "#636b76",
    "diff-cursor-bg": "#34405a",
    "flag-gutter": "#2f2a1c",
}
"""Counterpoint's variables and their values for dark themes (documented in the TOML files)."""

LIGHT_DEFAULTS: dict[str, str] = {
    **DARK_DEFAULTS,
    "agreement-consensus": "#1a7f37",
    "agreement-solo": "#9a6700",
    "agreement-split": "#8250df",
    "stance-agree": "#1a7f37",
    "stance-dispute": "#cf222e",
    "stance-partial": "#9a6700",
    "stance-none": "#6e7781",
    "verdict-accepted": "#1a7f37",
    "verdict-rejected": "#cf222e",
    "verdict-pending": "#57606a",
    "severity-critical": "#a40e26",
    "severity-high": "#cf222e",
    "severity-medium": "#9a6700",
    "severity-low": "#0969da",
    "severity-info": "#57606a",
    "generator": "#0b63c4",
    "reviewer": "#8250df",
    "diff-add": "#116329",
    "diff-add-bg": "#dafbe1",
    "diff-remove": "#a40e26",
    "diff-remove-bg": "#ffebe9",
    "diff-hunk": "#0550ae",
    "diff-file": "#1f2328",
    "diff-file-bg": "#dde3ec",
    "diff-line-number": "#8c959f",
    "diff-cursor-bg": "#c8ddf7",
    "flag-gutter": "#fff1c2",
}

VARIABLE_NAMES: tuple[str, ...] = tuple(DARK_DEFAULTS)

_COLOUR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_FLOAT_FIELDS = ("luminosity_spread", "text_alpha")
_BOOL_FIELDS = ("dark", "ansi")
_KNOWN_KEYS = {f.name for f in fields(Theme)}


class ThemeError(Exception):
    """A theme file that cannot be used; the message names the file and the key."""


def theme_variable_defaults(dark: bool = True) -> dict[str, str]:
    """Values for every Counterpoint variable, for `App.get_theme_variable_defaults()`.

    Textual's built-in themes do not define them; `dark=False` gives values that read on a
    light background (pass `app.current_theme.dark`).
    """
    return dict(DARK_DEFAULTS if dark else LIGHT_DEFAULTS)


def _check_colour(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ThemeError(f"{path}: {key} must be a colour string, not {type(value).__name__}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeError(f"{path}: {key} = {value!r} is not a colour") from None
    return value


def load_theme_file(path: Path) -> Theme:
    """Read one theme file. Raises ThemeError naming the file and the offending key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThemeError(f"{path}: cannot read theme file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ThemeError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(f"{path}: invalid TOML: {exc}") from None

    for key in ("name", "primary"):
        if key not in data:
            raise ThemeError(f"{path}: missing required key {key!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise ThemeError(f"{path}: name must be a non-empty string")

    kwargs: dict[str, Any] = {"name": name.strip()}
    for key, value in data.items():
        if key == "name":
            continue
        if key not in _KNOWN_KEYS:
            raise ThemeError(f"{path}: unknown key {key!r}")
        if key in _COLOUR_FIELDS:
            kwargs[key] = _check_colour(path, key, value)
        elif key in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise ThemeError(f"{path}: {key} must be true or false")
            kwargs[key] = value
        elif key in _FLOAT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ThemeError(f"{path}: {key} must be a number")
            kwargs[key] = float(value)
        elif key == "variables":
            kwargs[key] = _variables(path, value)
    return Theme(**kwargs)


def _variables(path: Path, table: Any) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ThemeError(f"{path}: [variables] must be a table")
    out: dict[str, str] = {}
    for key, value in table.items():
        if key in DARK_DEFAULTS:
            out[key] = _check_colour(path, f"variables.{key}", value)
        elif isinstance(value, str):
            out[key] = value  # a Textual variable (e.g. "block-cursor-background"): any CSS value
        else:
            raise ThemeError(f"{path}: variables.{key} must be a string")
    return out


def default_theme_dirs() -> list[Path]:
    """The bundled themes folder first, then the user's own."""
    return [paths.bundled("themes"), paths.config_dir() / "themes"]


def load_themes(
    dirs: Sequence[Path] | None = None, *, errors: list[str] | None = None
) -> list[Theme]:
    """Every theme in `dirs` (default: `default_theme_dirs()`), in order, later names winning.

    A file that cannot be loaded is logged and, when `errors` is given, its message is
    appended there so the app can show it; the other themes still load.
    """
    by_name: dict[str, Theme] = {}
    for directory in default_theme_dirs() if dirs is None else dirs:
        for file in _theme_files(Path(directory)):
            try:
                theme = load_theme_file(file)
            except ThemeError as exc:
                log.warning("skipping theme: %s", exc)
                if errors is not None:
                    errors.append(str(exc))
                continue
            by_name.pop(theme.name, None)
            by_name[theme.name] = theme
    return list(by_name.values())


def _theme_files(directory: Path) -> Iterable[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.toml") if p.is_file())


def register_all(
    app: App[Any], dirs: Sequence[Path] | None = None, *, errors: list[str] | None = None
) -> list[str]:
    """Register the themes with `app.register_theme` and return their names."""
    names = []
    for theme in load_themes(dirs, errors=errors):
        app.register_theme(theme)
        names.append(theme.name)
    return names


def theme_color(app: App[Any], name: str) -> Color:
    """A resolved theme variable (Counterpoint's or Textual's) as a Color.

    Falls back to Counterpoint's defaults for the current theme's darkness when the app does
    not provide the variable, so widgets work inside any app.
    """
    variables = getattr(app, "theme_variables", None) or {}
    value = variables.get(name)
    if value is None:
        value = theme_variable_defaults(app.current_theme.dark).get(name, "#808080")
    try:
        return Color.parse(value)
    except ColorParseError:
        return Color.parse(theme_variable_defaults(app.current_theme.dark).get(name, "#808080"))


DEFAULT_THEME = "counterpoint-dark"


def register_and_choose(app: App[Any], wanted: str | None, errors: list[str]) -> None:
    """Register every theme on `app` and start with `wanted` (the user's `ui.theme`), else
    Counterpoint's default; files that could not be loaded are added to `errors`."""
    names = register_all(app, errors=errors)
    if wanted and wanted in app.available_themes:
        _initial_theme(app, wanted)
    elif DEFAULT_THEME in names:
        _initial_theme(app, DEFAULT_THEME)


def _initial_theme(app: App[Any], name: str) -> None:
    """Start with theme `name`, without a second parse of all the CSS at start-up.

    Setting `App.theme` runs its watcher, which (besides the classes and the CSS variables
    set here) queues a full re-parse of every stylesheet — before the first frame, ~10 ms.
    Before the app runs nothing is parsed yet, so setting the value, the theme classes
    and the variables is enough. The watcher also swaps the ANSI colour mapping when the
    theme's darkness differs from the one the app was built with (Textual's dark
    default): a light theme goes through the watcher.
    """
    from textual.app import App

    theme = app.get_theme(name)
    if theme is None or theme.dark != app.current_theme.dark or app.is_running:
        app.theme = name
        return
    app.set_reactive(App.theme, name)
    app.set_class(True, f"-theme-{name}", update=False)
    app.stylesheet.set_variables(app.get_css_variables())


def save_picked_theme(app: App[Any], name: str, configured: str | None) -> None:
    """Persist a theme the human picked (ui.theme in the user's config file)."""
    if name == configured:
        return
    from counterpoint.config import ConfigError, save_user_setting

    try:
        save_user_setting("ui.theme", name)
    except (ConfigError, OSError) as exc:
        app.notify(f"Theme not saved: {exc}", severity="warning", markup=False)  # a path, an OS error
