"""What only the user may decide for a repository: where requests go, whether checks run.

A repository's `.counterpoint.toml` arrives with `git clone`; it may define providers and
checks, but the user decides whether its provider URLs are used and whether checks run:

- provider URLs (`base_url` set by the repository's file): allowed when listed in
  `allowed_base_urls` under `[repositories."PATH"]` in the user's own config, or when the user
  ran `counterpoint config --allow-urls` in the repository (remembered per repository and per
  provider, for that exact URL: a changed URL is asked again);
- checks: `--checks` / `--no-checks` on the command line, else `checks = true|false` under
  `[repositories."PATH"]` in the user's config, else a consent remembered per repository
  (`counterpoint config --allow-checks`, or the TUI's dialog) for the exact commands the
  repository's file defined then: changed commands switch checks off until allowed again;
  the TUI dialog's "never" is remembered too (`refuse_checks`): checks stay off, unasked.

Consents live in `COUNTERPOINT_HOME/consent.json`; `counterpoint config --revoke` forgets a
repository's. A consent file that cannot be read counts as no consent.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from counterpoint import paths
from counterpoint.config.errors import ConfigError, dotted
from counterpoint.config.files import user_config_path, write_atomically
from counterpoint.config.models import REPO_FILE, RepositoryFile

if TYPE_CHECKING:
    from counterpoint.config.layers import Settings

ALLOW_URLS = "counterpoint config --allow-urls"
ALLOW_CHECKS = "counterpoint config --allow-checks"


def consent_path() -> Path:
    return paths.home() / "consent.json"


def safe_url(url: str | None) -> str:
    """A URL without credentials or query string (they can hold keys)."""
    if not url:
        return "(SDK default)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    if port:
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"***@{host}"
    query = "?…" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, "", "")) + query


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _root_key(repo_root: Path) -> str:
    return str(Path(repo_root).resolve())


def _read_all() -> dict[str, Any]:
    try:
        data = json.loads(consent_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    repos = data.get("repositories") if isinstance(data, dict) else None
    return repos if isinstance(repos, dict) else {}


def _entry(repo_root: Path | None) -> dict[str, Any]:
    if repo_root is None:
        return {}
    entry = _read_all().get(_root_key(repo_root))
    return entry if isinstance(entry, dict) else {}


def _write_entry(repo_root: Path, entry: dict[str, Any] | None) -> Path:
    """Replace one repository's entry, under a lock so concurrent writers keep each other's."""
    path = consent_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = path.with_name(".consent.lock").open("a")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        repos = _read_all()
        if entry is None:
            repos.pop(_root_key(repo_root), None)
        else:
            repos[_root_key(repo_root)] = entry
        text = json.dumps({"version": 1, "repositories": repos}, indent=2) + "\n"
        write_atomically(path, text)
    return path


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- provider URLs ---------------------------------------------------------------------------


def url_allowed(
    repo_root: Path | None, yours: RepositoryFile, provider: str, url: str
) -> str | None:
    """Who allowed the repository's `url` for `provider`: a short phrase, or None."""
    if url in (yours.allowed_base_urls or ()):
        return "your config (allowed_base_urls)"
    given = _entry(repo_root).get("base_urls", {})
    record = given.get(provider) if isinstance(given, dict) else None
    if isinstance(record, dict) and record.get("sha256") == _digest(url):
        return f"your consent of {str(record.get('at', ''))[:10]}"
    return None


def url_refusal(file: str, provider: str, url: str) -> str:
    """The message for a repository URL nobody allowed: what it is and how to allow it."""
    root = Path(file).parent
    return (
        f"{file}: {dotted(('providers', provider, 'base_url'))}: a repository's {REPO_FILE}"
        f" may not choose where requests go without your consent (it would send the task and"
        f" files to {safe_url(url)}); review it with `counterpoint config`, then allow it for"
        f" this repository with `{ALLOW_URLS}`, or list it in allowed_base_urls under"
        f' [repositories."{root}"] in your user config ({user_config_path()})'
    )


def allow_urls(settings: Settings) -> list[str]:
    """Remember the user's consent to the repository's current provider URLs; what was allowed."""
    root = _require_root(settings)
    entry = _entry(root)
    given = entry.get("base_urls")
    given = dict(given) if isinstance(given, dict) else {}
    allowed = []
    for url in settings.repo_urls:
        if url.allowed_by is None:
            given[url.provider] = {"sha256": _digest(url.url), "shown": safe_url(url.url),
                                   "at": _now()}
            allowed.append(f"providers.{url.provider}.base_url = {safe_url(url.url)}")
    if allowed:
        _write_entry(root, {**entry, "base_urls": given})
    return allowed


# --- checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecksDecision:
    """Whether checks run in a repository, who decided, and whether the user should be asked."""

    enabled: bool
    reason: str
    """For the UI: "--checks", "your config for this repository (FILE)", ..."""
    ask: bool = False
    """Nobody decided yet (or the repository's checks changed): offer the consent dialog."""

    def __bool__(self) -> bool:
        return self.enabled


def checks_fingerprint(settings: Settings) -> str:
    """The commands the repository's own file defines: a consent covers exactly these."""
    ours = [
        [check.name, check.command] for check in settings.checks
        if settings.sources.get(dotted(("checks", check.name))) == settings.repo_file
    ]
    return _digest(json.dumps(ours))


def checks_enabled(
    settings: Settings, repo_root: Path | None = None, flag: bool | None = None
) -> ChecksDecision:
    """Whether checks run: the flag, else the user's config for the repository, else consent.

    A repository's own file can never switch them on (`[repositories]` is refused there).
    """
    root = repo_root if repo_root is not None else settings.repo_root
    if flag is not None:
        return ChecksDecision(flag, "--checks" if flag else "--no-checks")
    if settings.repository.checks is not None:
        source = next((path for key, path in settings.sources.items()
                       if key.startswith("repositories.") and key.endswith(".checks")), "?")
        return ChecksDecision(settings.repository.checks,
                              f"your config for this repository ({source})")
    record = _entry(root).get("checks")
    how = f"run with --checks, or allow them for this repository with `{ALLOW_CHECKS}`"
    if isinstance(record, dict):
        when = str(record.get("at", ""))[:10]
        if record.get("refused"):
            return ChecksDecision(False, f"off: you declined them for this repository on {when}; {how}")
        if record.get("fingerprint") == checks_fingerprint(settings):
            return ChecksDecision(True, f"your consent of {when}")
        return ChecksDecision(
            False, f"off: the repository's checks changed since you allowed them on {when};"
            f" {how}", ask=True)
    return ChecksDecision(False, f"off: {how}", ask=True)


def allow_checks(settings: Settings) -> Path:
    """Remember that checks may run in this repository, for its current commands."""
    root = _require_root(settings)
    entry = _entry(root)
    entry["checks"] = {"fingerprint": checks_fingerprint(settings), "at": _now()}
    return _write_entry(root, entry)


def refuse_checks(settings: Settings) -> Path:
    """Remember that checks never run in this repository and the user is not asked again
    (until `--allow-checks`, `--checks` or `--revoke`)."""
    root = _require_root(settings)
    entry = _entry(root)
    entry["checks"] = {"refused": True, "at": _now()}
    return _write_entry(root, entry)


def revoke(repo_root: Path) -> bool:
    """Forget every consent given for the repository; whether there was one."""
    if not _entry(repo_root):
        return False
    _write_entry(repo_root, None)
    return True


def _require_root(settings: Settings) -> Path:
    if settings.repo_root is None:
        raise ConfigError("not in a git repository: consent is given per repository")
    return settings.repo_root
