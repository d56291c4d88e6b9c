"""The session's checks in the TUI: which run, the consent dialog, attaching them.

The same decision as the command line (`workflow.check_step.plan_checks`): `--checks` /
`--no-checks`, else the user's config for the repository, else a consent remembered per
repository. When nobody decided and the repository has checks (configured or detected), the
consent dialog (`screens/consent.py`) asks once, before a new session's first round runs: allow for this
repository (remembered, `allow_checks`), not now (this session runs none), never (remembered,
`refuse_checks`). The demo's own checks run unless `--no-checks`.

Where there is no sandbox the checks refuse to run (the dialog and a toast say why, and how
to opt in with `--checks-unsandboxed`); an opted-in unsandboxed run is said loudly too.
Imported when a session starts, not before the first frame.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from counterpoint.tui.startup import ChecksFlags
from counterpoint.workflow.check_step import ChecksChoice, ChecksPlan, plan_checks, setup_checks
from counterpoint.workflow.sandbox import SandboxUnavailable, find_sandbox

if TYPE_CHECKING:
    from counterpoint.tui.app import CounterpointApp
    from counterpoint.workflow.demo import DemoSetup
    from counterpoint.workflow.orchestrator import Orchestrator


def sandbox_problem(unsandboxed: bool) -> str | None:
    """Why checks could not run here (no sandbox and no opt-in), or None."""
    try:
        find_sandbox(allow_unsandboxed=unsandboxed)
    except SandboxUnavailable as exc:
        return str(exc)
    return None


def _settings_for(app: CounterpointApp, root: Path) -> Any:
    """The settings of the session's repository (a resumed session's app has none of it)."""
    settings = app.settings
    repo_root = getattr(settings, "repo_root", None)
    if repo_root is not None and Path(repo_root).resolve() == root.resolve():
        return settings
    from counterpoint.config import load_settings

    return load_settings(root)


def begin_checks(
    app: CounterpointApp,
    orch: Orchestrator,
    flags: ChecksFlags,
    demo: DemoSetup | None,
    then: Callable[[], None],
    *,
    may_ask: bool = True,
) -> None:
    """Give the session its checks (asking first when nobody decided and `may_ask`: a resumed
    session is not asked, its first round ran already), then call `then`."""
    from counterpoint.config import ConfigError

    demo_checks = list(demo.checks) if demo is not None else None
    if demo is not None and demo.checks_skipped and flags.checks is not False:
        app.notify(demo.checks_skipped, title="Checks skipped", severity="warning")

    root = orch.workspace.root
    try:
        settings = _settings_for(app, root)
        plan = plan_checks(settings, root, flags.checks, demo_checks)
    except ConfigError as exc:
        app.notify(str(exc), title="Checks off", severity="error")
        then()
        return
    if not plan.ask or not may_ask:
        _attach(app, orch, plan, plan.enabled, flags.unsandboxed)
        then()
        return
    from counterpoint.tui.screens.consent import ConsentScreen

    def answered(answer: str | None) -> None:
        _remember(app, settings, answer)
        _attach(app, orch, plan, answer == "allow", flags.unsandboxed)
        then()

    app.push_screen(ConsentScreen(plan, sandbox_problem(flags.unsandboxed)), answered)


def _remember(app: CounterpointApp, settings: Any, answer: str | None) -> None:
    from counterpoint.config import ConfigError, allow_checks, refuse_checks

    try:
        if answer == "allow":
            allow_checks(settings)
        elif answer == "never":
            refuse_checks(settings)
    except ConfigError as exc:
        app.notify(f"{exc}\n(this session goes on as you chose)", title="Not remembered", severity="warning")


def _attach(app: CounterpointApp, orch: Orchestrator, plan: ChecksPlan, enabled: bool, unsandboxed: bool) -> None:
    orch.checks = setup_checks(
        plan.defined, orch.workspace.root, ChecksChoice(enabled, unsandboxed), safe_path=orch.workspace.safe_path
    )
    checks = orch.checks
    if checks is None:
        return
    if checks.problem:
        app.notify(f"The checks cannot run: {checks.problem}", title="Checks refused", severity="error", timeout=15)
    elif not checks.sandboxed:
        app.notify("The checks run WITHOUT a sandbox (--checks-unsandboxed).", title="Unsandboxed", severity="warning")
    elif plan.detected:
        names = ", ".join(f"{c.name} ({c.command})" for c in plan.defined)
        app.notify(f"No [[checks]] configured; running the detected: {names}", title="Checks")
