"""The offline demo: a fresh temp copy of a bundled sample repo and its scripted cassettes."""

from __future__ import annotations

import importlib.util
import json
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from counterpoint.paths import bundled

if TYPE_CHECKING:  # the checks pull in the findings model (pydantic): not before the first frame
    from counterpoint.workflow.checks import CheckSpec


class DemoError(Exception):
    pass


@dataclass(frozen=True)
class DemoSetup:
    repo: Path
    task: str
    generator: str
    reviewers: list[str]
    planner: str | None
    rounds: int
    checks: list[CheckSpec] = field(default_factory=list)
    """The sample's own test suite, run by the Python that runs Counterpoint (none when
    that Python has no pytest)."""
    checks_skipped: str = ""
    """Why the sample's checks are not run, said to the user (empty when they are)."""


def samples() -> list[str]:
    root = bundled("sample_repos")
    return sorted(p.name[: -len(".demo")] for p in root.glob("*.demo") if p.is_dir())


def prepare_demo(sample: str = "payments-webhooks", dest: Path | None = None) -> DemoSetup:
    """Copy the sample repo into a new temp dir, `git init` and commit it."""
    root = bundled("sample_repos")
    source, script_dir = root / sample, root / f"{sample}.demo"
    if not source.is_dir() or not (script_dir / "demo.json").is_file():
        known = ", ".join(samples()) or "none"
        raise DemoError(f"no sample named {sample!r} (known: {known})")
    script = json.loads((script_dir / "demo.json").read_text(encoding="utf-8"))
    base = dest or Path(tempfile.mkdtemp(prefix="counterpoint-demo-"))
    repo = base / sample
    shutil.copytree(
        source, repo, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    )
    import git

    r = git.Repo.init(repo, initial_branch="main")
    with r.config_writer() as cfg:
        cfg.set_value("user", "name", "Counterpoint Demo")
        cfg.set_value("user", "email", "demo@counterpoint.invalid")
    r.git.add(A=True)
    r.git.commit("-q", "-m", f"{sample}: sample repository for the Counterpoint demo")

    def cassette(spec: str) -> str:
        kind, _, path = spec.partition(":")
        return f"replay:{(script_dir / path).resolve()}" if kind == "replay" else spec

    return DemoSetup(
        repo=repo,
        task=script["task"],
        generator=cassette(script["generator"]),
        reviewers=[cassette(s) for s in script["reviewers"]],
        planner=cassette(script["planner"]) if script.get("planner") else None,
        rounds=int(script.get("rounds", 2)),
        checks=_checks(script.get("checks", [])),
        checks_skipped=_checks_skipped(script.get("checks", [])),
    )


def _checks_skipped(entries: list[dict[str, object]]) -> str:
    if entries and importlib.util.find_spec("pytest") is None:
        return f"the demo's checks are skipped: {sys.executable} has no pytest"
    return ""


def _checks(entries: list[dict[str, object]]) -> list[CheckSpec]:
    if importlib.util.find_spec("pytest") is None:
        return []
    from counterpoint.workflow.checks import CheckSpec

    python = shlex.quote(sys.executable)
    return [
        CheckSpec(
            name=str(e["name"]),
            command=str(e["command"]).replace("{python}", python),
            timeout_s=float(e.get("timeout_s", 120)),  # type: ignore[arg-type]
            format=str(e["format"]) if e.get("format") else None,
        )
        for e in entries
    ]
