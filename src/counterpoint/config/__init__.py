"""Settings: built-in defaults, then TOML files, each overriding the one before.

1. built-in defaults (providers anthropic and openai, presets for local servers, prices)
2. the user file: `paths.config_dir()/config.toml`
3. the repository's `<repo>/.counterpoint.toml`
4. the file named by `COUNTERPOINT_CONFIG`

A missing file is an empty layer; a file that cannot be read or parsed, an unknown key or a
value of the wrong type or out of range is a `ConfigError` naming the file, the dotted key and
what was expected. The repository's file comes with the code: it may not choose API keys, send
a key elsewhere, or decide for the user; the provider URLs it sets need the user's consent, and
its `[[checks]]` run only when the user switches checks on (`consent.py`).

- `models.py`: one file's keys as pydantic models (extra="forbid", a docstring per field)
- `files.py`: reading, validating and writing one file
- `layers.py`: layering and provenance into `Settings`
- `consent.py`: what only the user decides (provider URLs, checks), remembered per repository
- `describe.py`: `counterpoint config`
"""

from counterpoint.config.consent import (
    ChecksDecision,
    allow_checks,
    allow_urls,
    checks_enabled,
    refuse_checks,
    revoke,
)
from counterpoint.config.describe import describe, review
from counterpoint.config.errors import ConfigError, dotted, parse_dotted
from counterpoint.config.files import save_user_setting, user_config_path
from counterpoint.config.layers import ProviderSettings, RepoURL, Settings, load_settings
from counterpoint.config.models import REPLAY, CheckSettings

__all__ = [
    "REPLAY",
    "CheckSettings",
    "ChecksDecision",
    "ConfigError",
    "ProviderSettings",
    "RepoURL",
    "Settings",
    "allow_checks",
    "allow_urls",
    "checks_enabled",
    "describe",
    "dotted",
    "load_settings",
    "parse_dotted",
    "refuse_checks",
    "review",
    "revoke",
    "save_user_setting",
    "user_config_path",
]
