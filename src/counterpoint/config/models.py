"""One settings file as pydantic models: every key, what it means and which values it takes.

Only the shape of a single file lives here. Which file wins, where a value came from and what a
repository's own file may decide are in `layers.py` and `consent.py`. The validators raise
`PydanticCustomError`s whose context `errors.py` turns into the messages users see
("FILE: KEY: expected ..., got ..."); a value of the wrong type is never coerced.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator, model_validator
from pydantic_core import PydanticCustomError

ProviderKind = Literal["anthropic", "openai"]
KINDS: tuple[str, ...] = ("anthropic", "openai")
STRUCTURED: dict[str, tuple[str, ...]] = {
    "openai": ("json_schema", "fenced"),
    "anthropic": ("tool", "output_config"),
}
REPLAY = "replay"
REPO_FILE = ".counterpoint.toml"
ENV_CONFIG = "COUNTERPOINT_CONFIG"
CHECK_FORMATS: tuple[str, ...] = ("junit", "sarif", "text")

DEFAULT_TIMEOUT = 600.0
"""Seconds between bytes; reasoning models can be silent for minutes before they stream."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_AFTER = 30.0
DEFAULT_CHECK_TIMEOUT = 300.0

MAX_BUDGET_TOKENS = 2_000_000
"""The largest context windows on offer; a bigger budget is a typo, not a wish."""
MAX_SECONDS = 86_400.0
MAX_RETRIES = 20
MAX_PRICE = 100_000.0
"""USD per million tokens."""

PROVIDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
CHECK_NAME = PROVIDER_NAME
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SPEC_EXAMPLE = "like 'openai:gpt-5.5'"
_NOTHING = object()


def expected(what: str, value: Any = _NOTHING, at: tuple[str, ...] = ()) -> PydanticCustomError:
    """An error saying what was expected (and, when given, what was found) at loc + `at`."""
    context: dict[str, Any] = {"expected": what, "at": at}
    if value is not _NOTHING:
        context["got"] = value
    return PydanticCustomError("counterpoint_expected", "expected {expected}", context)


def refused(message: str, at: tuple[str, ...] = ()) -> PydanticCustomError:
    """An error with its own wording (after "FILE: KEY: ")."""
    return PydanticCustomError("counterpoint_message", "{message}", {"message": message, "at": at})


def spec_ok(spec: str) -> bool:
    """`PROVIDER:MODEL`, both parts non-empty, no surrounding blanks."""
    provider, colon, model = spec.partition(":")
    return bool(colon and provider.strip() and model.strip()) and spec == spec.strip()


# --- leaf validators -------------------------------------------------------------------------


def _spec(value: Any) -> str | None:
    if value == "":
        return None
    if not isinstance(value, str) or not spec_ok(value):
        raise expected(f"a model spec {SPEC_EXAMPLE} (or \"\")", value)
    return value


def _strings(what: str, *, specs: bool = False) -> BeforeValidator:
    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, (list, tuple)):
            raise expected(what, value)
        for item in value:
            if not isinstance(item, str) or (specs and not spec_ok(item)):
                raise expected(what, item)
        return tuple(value)

    return BeforeValidator(check)


def _number(minimum: float, maximum: float, *, integer: bool = False) -> BeforeValidator:
    kind = "an integer" if integer else "a number"

    def check(value: Any) -> Any:
        ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or (
            isinstance(value, float) and not math.isfinite(value)
        ) or value < minimum:
            raise expected(f"{kind} >= {minimum:g}", value)
        if value > maximum:
            raise expected(f"{kind} <= {maximum:,.0f}".replace(",", "_"), value)
        return value if integer else float(value)

    return BeforeValidator(check)


def _choice(what: str, choices: tuple[str, ...]) -> BeforeValidator:
    def check(value: Any) -> str:
        if value not in choices:
            raise expected(what, value)
        return str(value)

    return BeforeValidator(check)


def _text(what: str, test: Any = None) -> BeforeValidator:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or (test and not test(value)):
            raise expected(what, value)
        return value.strip()

    return BeforeValidator(check)


def _flag(what: str) -> BeforeValidator:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise expected(what, value)
        return value

    return BeforeValidator(check)


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise expected("an http:// or https:// URL", value)
    return value


def _env_name(value: Any) -> str:
    if not isinstance(value, str) or not ENV_NAME.match(value):
        raise expected("the name of an environment variable", value)
    return value


_EVERY_STRUCTURED = tuple(sorted({s for options in STRUCTURED.values() for s in options}))
Spec = Annotated[str | None, BeforeValidator(_spec)]
Seconds = Annotated[float | None, _number(1, MAX_SECONDS)]
Price = Annotated[float | None, _number(0, MAX_PRICE)]
Globs = Annotated[tuple[str, ...] | None, _strings("a list of glob patterns like '*.lock'")]


# --- tables ----------------------------------------------------------------------------------


class Table(BaseModel):
    """A TOML table: unknown keys are refused with the list of the known ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise expected("a table", data)
        for name in data:
            if name not in cls.model_fields:
                raise PydanticCustomError(
                    "counterpoint_unknown", "unknown key",
                    {"at": (name,), "allowed": tuple(cls.model_fields)},
                )
        return data


class RolesFile(Table):
    """`[roles]`: which model plays which part (`PROVIDER:MODEL`)."""

    generator: Spec = None
    """The model that writes the change ("" for none)."""
    reviewers: Annotated[
        tuple[str, ...] | None, _strings(f"a list of model specs {SPEC_EXAMPLE}", specs=True)
    ] = None
    """The models that review each proposal."""
    planner: Spec = None
    """The model that writes a plan before the generator starts ("" for none)."""


class ProviderFile(Table):
    """`[providers.NAME]`: a model server and how to talk to it."""

    kind: Annotated[ProviderKind | None, _choice('"openai" or "anthropic"', KINDS)] = None
    """Which API the server speaks: "openai" (also Ollama, vLLM, ...) or "anthropic"."""
    base_url: Annotated[str | None, BeforeValidator(_url)] = None
    """Where requests go. From a repository's file only with your consent."""
    api_key_env: Annotated[str | None, BeforeValidator(_env_name)] = None
    """The environment variable holding the API key (never the key itself)."""
    structured: Annotated[
        str | None,
        _choice("one of " + ", ".join(f'"{s}"' for s in _EVERY_STRUCTURED), _EVERY_STRUCTURED),
    ] = None
    """How reviews are asked for as JSON (json_schema, fenced, tool, output_config)."""
    tools: Annotated[
        Literal["native", "text"] | None, _choice('"native" or "text"', ("native", "text"))
    ] = None
    """How the read-only tools are offered (`context.tools`): "native" (function calling) or
    "text" (a fenced block in the answer, for an OpenAI-compatible server without tools)."""
    timeout: Seconds = None
    """Seconds to wait between two bytes of a response."""
    max_retries: Annotated[int | None, _number(0, MAX_RETRIES, integer=True)] = None
    """Retries of a request that failed for a transient reason."""
    max_retry_after: Annotated[float | None, _number(0, 3600)] = None
    """The longest `Retry-After` (seconds) worth waiting for; longer fails the step."""


class PriceFile(Table):
    """`[prices."PROVIDER:MODEL"]`: USD per million tokens."""

    input: Price = None
    """Uncached input tokens."""
    output: Price = None
    """Output tokens (reasoning included)."""
    cached_input: Price = None
    """Input tokens read from the provider's cache (default: the input price)."""
    cache_write: Price = None
    """Input tokens written to the provider's cache."""


class ContextFile(Table):
    """`[context]`: what of the repository is sent to the models."""

    include: Globs = None
    """Only files matching one of these patterns are candidates."""
    exclude: Globs = None
    """Files matching one of these are never sent."""
    budget_tokens: Annotated[
        int | None, _number(1000, MAX_BUDGET_TOKENS, integer=True)
    ] = None
    """Tokens per request for the map, files, task and plan."""
    tools: Annotated[bool | None, _flag("true or false")] = None
    """true: the generator and the reviewers may call the read-only tools (read_file,
    search, list_files, find_symbol), within per-step bounds, under the same rules."""


class UIFile(Table):
    """`[ui]`: the workbench's looks."""

    theme: Annotated[str | None, _text("a theme name like 'counterpoint-dark'")] = None
    """A theme shipped with Counterpoint or one in the user's themes folder."""


class CheckSettings(Table):
    """One `[[checks]]` entry: a command whose failures become findings of `check:NAME`."""

    name: Annotated[
        str, _text("a check name of letters, digits, '_', '-' or '.'", CHECK_NAME.match)
    ]
    """Names the reviewer voice `check:NAME`; a later file's check of the same name replaces it."""
    command: Annotated[str, _text("a command line like 'python -m pytest -q'")]
    """Run from the root of the scratch tree, in the sandbox."""
    timeout_s: Annotated[float, _number(1, MAX_SECONDS)] = DEFAULT_CHECK_TIMEOUT
    """Seconds before the whole process group is killed and the check counts as timed out."""
    format: Annotated[
        Literal["junit", "sarif", "text"] | None,
        _choice('"junit", "sarif" or "text"', CHECK_FORMATS),
    ] = None
    """How to read its report; omitted: detected from the output."""

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        for key, what in (("name", "a check name like 'tests'"),
                          ("command", "a command line like 'python -m pytest -q'")):
            if isinstance(data, dict) and key not in data:
                raise expected(what, at=(key,))
        return data


class RepositoryFile(Table):
    """`[repositories."PATH"]` in your own config: what you decided for one repository."""

    checks: Annotated[bool | None, _flag("true or false")] = None
    """true: run its checks without asking; false: never run them (`--checks` still does)."""
    allowed_base_urls: Annotated[
        tuple[str, ...] | None, _strings("a list of http:// or https:// URLs")
    ] = None
    """Provider URLs its `.counterpoint.toml` may send requests to."""


class SettingsFile(Table):
    """A whole settings file (user, repository or `COUNTERPOINT_CONFIG`)."""

    roles: RolesFile = RolesFile()
    """Which model plays which part."""
    providers: dict[str, ProviderFile] = {}
    """Model servers by name; `anthropic`, `openai` and local presets are built in."""
    prices: dict[str, PriceFile] = {}
    """Prices by model spec, or `PROVIDER:*` for every model of a provider."""
    context: ContextFile = ContextFile()
    """What of the repository is sent."""
    ui: UIFile = UIFile()
    """The workbench's looks."""
    checks: tuple[CheckSettings, ...] = ()
    """The repository's own tests and analysers, run on each proposal when switched on."""
    repositories: dict[str, RepositoryFile] = {}
    """Your decisions per repository (absolute path, or starting with ~)."""

    @field_validator("providers", "prices", "repositories", mode="before")
    @classmethod
    def _named_tables(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, dict):
            raise expected("a table", value)
        for name in value:
            problem = _table_name_problem(info.field_name, name)
            if problem:
                raise refused(problem, at=(name,))
        return value

    @field_validator("checks", mode="before")
    @classmethod
    def _array(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise expected("an array of tables ([[checks]])", value)
        return value

    @field_validator("checks")
    @classmethod
    def _unique(cls, value: tuple[CheckSettings, ...]) -> tuple[CheckSettings, ...]:
        seen: set[str] = set()
        for check in value:
            if check.name in seen:
                raise expected("a name no other check in this file uses", check.name,
                               at=(check.name,))
            seen.add(check.name)
        return value


def _table_name_problem(field: str, name: str) -> str | None:
    if field == "providers":
        if name == REPLAY:
            return "'replay' is reserved for cassettes (replay:PATH); pick another name"
        if not PROVIDER_NAME.match(name):
            return f"expected a provider name of letters, digits, '_', '-' or '.', got {name!r}"
    elif field == "prices":
        if not spec_ok(name) and not re.match(r"^[^:\s]+:\*$", name):
            return f"expected a model spec {SPEC_EXAMPLE} (or 'provider:*') as the table name"
    elif not Path(name).expanduser().is_absolute():
        return "expected the absolute path of a repository (or one starting with ~) as the table name"
    return None
