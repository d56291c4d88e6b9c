"""The command line: parses arguments and hands over to the headless runner or the TUI.

Exit codes: 0 done; 1 the session ran but a step failed; 2 bad usage or bad input.
Nothing heavy is imported at module level, so `counterpoint --version` stays instant.

Over 500 lines on purpose: it is the public command-line contract (PRODUCT.md) in one file,
one small function per subcommand, most of it argument definitions; the work itself is in
workflow/launch.py and headless.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from counterpoint import __version__
from counterpoint.core.safe_text import visible


class UsageError(Exception):
    """Bad usage or input: printed as `counterpoint: ...` and exit 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="counterpoint",
        description="A terminal workbench for multi-model coding: one model writes, "
        "others review, you triage every finding before anything touches your tree.",
    )
    p.add_argument("--version", action="version", version=f"counterpoint {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def session_flags(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--headless", action="store_true", help="no UI; print a summary")
        sp.add_argument("--json", action="store_true", help="with --headless: JSON lines")
        sp.add_argument(
            "--accept",
            choices=("none", "consensus", "all"),
            default="none",
            help="headless verdict policy (default: none)",
        )
        sp.add_argument("--apply", action="store_true", help="write the final changeset")
        sp.add_argument("--commit", action="store_true", help="with --apply: commit it")
        sp.add_argument("--checks", action="store_true", default=None,
                        help="run the repository's checks on each proposal (sandboxed)")
        sp.add_argument("--no-checks", action="store_false", dest="checks", help="do not run checks")
        sp.add_argument("--checks-unsandboxed", action="store_true",
                        help="where no sandbox exists, run checks without one (you trust the code)")
        sp.add_argument("--apply-failing", action="store_true",
                        help="with --apply: write even when the selection's checks fail")

    def context_flags(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--file", metavar="PATH", action="append", dest="files", default=[],
                        help="send this file too (first); repeatable")
        sp.add_argument("--no-file", metavar="PATH", action="append", dest="no_files", default=[],
                        help="never send this file; repeatable")

    run = sub.add_parser("run", help="one session on TASK in the current git repository")
    run.add_argument("task")
    run.add_argument("--generator", metavar="SPEC")
    run.add_argument("--reviewer", metavar="SPEC", action="append", dest="reviewers")
    run.add_argument("--planner", metavar="SPEC")
    run.add_argument("--plan-only", action="store_true",
                     help="with a planner: print its plan and stop (headless); resume goes on from it")
    run.add_argument("--plan", metavar="FILE", dest="plan_file",
                     help="follow the plan in FILE (e.g. an edited --plan-only plan); no planner is asked")
    run.add_argument("--rounds", type=int, default=1)
    run.add_argument("--record", metavar="CASSETTE", help="save the exchanges as cassettes")
    context_flags(run)
    session_flags(run)

    ctx = sub.add_parser("context", help="what a model would be sent for TASK, and why")
    ctx.add_argument("task")
    context_flags(ctx)
    ctx.add_argument("--json", action="store_true", help="one JSON object")

    demo = sub.add_parser("demo", help="the scripted offline demo on a sample repository")
    demo.add_argument("--sample", default="payments-webhooks")
    demo.add_argument("--speed", type=float, default=None, help="pace of the scripted models")
    session_flags(demo)

    sub.add_parser("sessions", help="list saved sessions")
    res = sub.add_parser("resume", help="reopen a session exactly where it stopped")
    res.add_argument("session_id", nargs="?")
    res.add_argument("--last", action="store_true")
    session_flags(res)

    exp = sub.add_parser("export", help="export a session's findings")
    exp.add_argument("session_id")
    exp.add_argument("--format", choices=export_formats(),
                     default="markdown")
    exp.add_argument("--sarif-profile", choices=("github", "ai"), default="github")
    exp.add_argument("-o", "--output", metavar="FILE")

    st = sub.add_parser("stats", help="which model raised what, and what the human kept")
    st.add_argument("--json", action="store_true")
    st.add_argument("--format", choices=("text", "markdown", "csv"), default="text")
    st.add_argument("--repo", metavar="PATH|NAME", help="sessions in this repository only")
    st.add_argument("--since", metavar="DATE", help="sessions started on or after DATE")
    st.add_argument("--model", metavar="SPEC", help="this model's rows and sessions only")

    und = sub.add_parser("undo", help="restore the working tree from the last apply")
    und.add_argument("undo_id", nargs="?")

    cfg = sub.add_parser("config", help="print the effective settings and where they came from")
    cfg.add_argument("--allow-urls", action="store_true",
                     help="allow the provider URLs this repository's .counterpoint.toml sets")
    cfg.add_argument("--allow-checks", action="store_true",
                     help="allow the checks this repository defines to run (sandboxed)")
    cfg.add_argument("--revoke", action="store_true",
                     help="forget what you allowed for this repository")
    return p


def export_formats() -> tuple[str, ...]:
    from counterpoint.export import FORMATS

    return FORMATS


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        handler = globals()[f"_cmd_{(args.command or 'tui').replace('-', '_')}"]
        return int(handler(args) or 0)
    except UsageError as exc:  # may quote a path or a provider's message: controls shown
        print(visible(f"counterpoint: {exc}", newlines=False), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("counterpoint: interrupted; the session is journaled: counterpoint resume --last", file=sys.stderr)
        return 130
    except Exception as exc:
        from counterpoint.core.journal import JournalError

        if isinstance(exc, JournalError):  # e.g. COUNTERPOINT_HOME on a full disk mid-session
            print(f"counterpoint: {exc}; the journal keeps every event before this one", file=sys.stderr)
            return 2
        raise


# -- shared helpers ---------------------------------------------------------------------
def _settings(repo_root: Path | None) -> Any:
    from counterpoint.config import ConfigError, load_settings

    try:
        return load_settings(repo_root)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def _workspace(path: Path) -> Any:
    from counterpoint.workspace import Workspace, WorkspaceError

    try:
        workspace = Workspace.open(path)
        _say_recovered(workspace.recover())
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    return workspace


def _say_recovered(lines: list[str]) -> None:
    """Report the interrupted applies the workspace just rolled back (see Workspace.recover)."""
    for line in lines:
        print(f"counterpoint: {line}", file=sys.stderr)


def _check_keys(specs: list[str], settings: Any) -> None:
    from counterpoint.providers.registry import MissingKey, SpecError, check_keys

    try:
        check_keys(specs, settings)
    except (MissingKey, SpecError) as exc:
        raise UsageError(str(exc)) from None


def _printer(args: argparse.Namespace) -> Any:
    from counterpoint.headless import HeadlessPrinter

    return HeadlessPrinter(as_json=args.json)


def _announce_indexing(files: int) -> None:
    print(f"counterpoint: indexing {files} files of this repository (once: later runs "
          "read the cache)…", file=sys.stderr, flush=True)


def _headless(orch: Any, args: argparse.Namespace, printer: Any, rounds: int) -> int:
    import asyncio  # here: commands that run no session do not pay for importing it

    from counterpoint.headless import run_headless

    orch.conversation.announce = _announce_indexing

    try:
        return asyncio.run(
            run_headless(
                orch,
                rounds=rounds,
                accept=args.accept,
                apply=args.apply,
                commit=args.commit,
                printer=printer,
                apply_failing=args.apply_failing,
                plan_only=getattr(args, "plan_only", False),
            )
        )
    finally:
        orch.close()


def _start(
    args: argparse.Namespace,
    *,
    workspace: Any,
    task: str,
    generator: str,
    reviewers: list[str],
    planner: str | None,
    rounds: int,
    speed: float | None,
    settings: Any,
    base_dir: Path,
    printer: Any,
    plan: str | None = None,
) -> Any:
    from counterpoint.workflow.launch import SessionError, start_session

    record = getattr(args, "record", None)
    try:
        return start_session(
            workspace=workspace,
            task=task,
            generator=generator,
            reviewers=reviewers,
            planner=planner,
            rounds=rounds,
            settings=settings,
            base_dir=base_dir,
            context_files=getattr(args, "files", None) or (),
            context_dropped=getattr(args, "no_files", None) or (),
            speed=speed,
            record=Path(record) if record else None,
            listeners=[printer],
            plan=plan,
        )
    except SessionError as exc:
        raise UsageError(str(exc)) from None


def _attach_checks(orch: Any, settings: Any, args: argparse.Namespace, demo_checks: Any = None) -> None:
    """Give the session its checks when the user switched them on (or the demo's own)."""
    from counterpoint.workflow.check_step import ChecksChoice, plan_checks, setup_checks

    root = orch.workspace.root
    plan = plan_checks(settings, root, args.checks, demo_checks)
    enabled, defined = plan.enabled, plan.defined
    if enabled and plan.detected:
        names = ", ".join(f"{c.name} ({c.command})" for c in defined)
        print(f"counterpoint: no [[checks]] configured; running the detected: {names}", file=sys.stderr)
    elif not enabled and plan.ask and not plan.detected:
        print(f"counterpoint: checks {plan.reason}", file=sys.stderr)
    orch.checks = setup_checks(
        defined, root, ChecksChoice(enabled, args.checks_unsandboxed), safe_path=orch.workspace.safe_path
    )
    if orch.checks is not None and orch.checks.problem:
        print(f"counterpoint: checks cannot run: {orch.checks.problem}", file=sys.stderr)
    elif orch.checks is not None and not orch.checks.sandboxed:
        print("counterpoint: checks run WITHOUT a sandbox (--checks-unsandboxed)", file=sys.stderr)


def _checks_flags(args: argparse.Namespace) -> Any:
    """The checks' flags for the TUI (which asks for consent when they decide nothing)."""
    from counterpoint.tui.startup import ChecksFlags

    return ChecksFlags(args.checks, args.checks_unsandboxed)


# -- commands ---------------------------------------------------------------------------
def _cmd_tui(args: argparse.Namespace) -> int:
    workspace = _workspace(Path.cwd())
    settings = _settings(workspace.root)
    from counterpoint.tui.app import run_app
    from counterpoint.tui.startup import TaskStart

    return run_app(TaskStart(workspace), settings=settings)


def _cmd_run(args: argparse.Namespace) -> int:
    workspace = _workspace(Path.cwd())
    settings = _settings(workspace.root)
    generator = args.generator or settings.generator
    reviewers = args.reviewers or list(settings.reviewers)
    plan = _plan_file(args.plan_file) if args.plan_file is not None else None
    planner = None if plan is not None else args.planner or settings.planner
    _check_plan_flags(args, planner, plan)
    if not generator:
        raise UsageError("no generator: pass --generator PROVIDER:MODEL or set roles.generator")
    if not reviewers:
        raise UsageError("no reviewer: pass --reviewer PROVIDER:MODEL or set roles.reviewers")
    if args.rounds < 1:
        raise UsageError("--rounds must be 1 or more")
    _check_keys([generator, *reviewers, *([planner] if planner else [])], settings)
    if not args.headless and not args.plan_only:
        from counterpoint.tui.app import run_app
        from counterpoint.tui.startup import RunStart

        start = RunStart(workspace, args.task, generator, reviewers, planner,
                         context_files=list(args.files), context_dropped=list(args.no_files),
                         plan=plan)
        return run_app(start, settings=settings, checks=_checks_flags(args))
    printer = _printer(args)
    orch = _start(
        args,
        workspace=workspace,
        task=args.task,
        generator=generator,
        reviewers=reviewers,
        planner=planner,
        rounds=args.rounds,
        speed=None,
        settings=settings,
        base_dir=Path.cwd(),
        printer=printer,
        plan=plan,
    )
    _attach_checks(orch, settings, args)
    return _headless(orch, args, printer, args.rounds)


def _plan_file(path: str) -> str:
    """The text of `--plan FILE` (exit 2 when it cannot be read or holds no plan)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--plan {path}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"--plan {path}: cannot read it ({exc.strerror or exc})") from None
    if not text.strip():
        raise UsageError(f"--plan {path}: the file is empty; write the plan in it")
    return text


def _check_plan_flags(args: argparse.Namespace, planner: str | None, plan: str | None) -> None:
    """--plan-only and --plan FILE: the combinations that make sense, or exit 2 saying why."""
    if not args.plan_only:
        return
    if plan is not None:
        raise UsageError("--plan-only asks the planner for a plan and --plan FILE supplies one: "
                         "use one of them")
    if not planner:
        raise UsageError("--plan-only needs a planner: pass --planner PROVIDER:MODEL or set roles.planner")
    if args.apply or args.commit:
        raise UsageError("--plan-only stops before the generator: there is nothing to --apply or --commit")


def _cmd_context(args: argparse.Namespace) -> int:
    workspace = _workspace(Path.cwd())
    settings = _settings(workspace.root)
    if not args.task.strip():
        raise UsageError("the task is empty: say what the generator should do")
    from counterpoint.workflow.context import context_report, gather_context

    bundle = gather_context(workspace, args.task, settings.context,
                            forced=args.files, dropped=args.no_files, announce=_announce_indexing)
    report = context_report(bundle)
    if args.json:
        import json

        print(json.dumps(report, ensure_ascii=True, indent=2))
        return 0
    from counterpoint.core.safe_text import visible

    print(f"{len(report['files'])} file(s) sent, {report['tokens']} of {report['budget']} tokens:")
    for row in report["files"]:
        part = " (in part)" if row["partial"] else ""
        print(f"  {visible(row['path'], newlines=False)}  {row['tokens']} tokens{part}  — {row['reason']}")
    print(f"the map names {len(report['map_files'])} more file(s)")
    if report["omitted"]:
        print("left out:")
        for path, reason in report["omitted"].items():
            print(f"  {visible(path, newlines=False)}  — {visible(reason, newlines=False)}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from counterpoint.workflow.demo import DemoError, prepare_demo, samples

    if not args.headless:
        # The TUI copies the sample repository itself, after its first frame is on screen;
        # a name that is not a sample is still refused here, before the screen is taken.
        if args.sample not in samples():
            known = ", ".join(samples()) or "none"
            raise UsageError(f"no sample named {args.sample!r} (known: {known})")
        settings = _settings(None)
        from counterpoint.tui.app import run_app
        from counterpoint.tui.startup import DemoStart

        return run_app(DemoStart(sample=args.sample), settings=settings, speed=args.speed or 1.0,
                       after=lambda orch: _demo_farewell(orch, sys.stdout), checks=_checks_flags(args))
    try:
        demo = prepare_demo(args.sample)
    except DemoError as exc:
        raise UsageError(str(exc)) from None
    settings = _settings(None)
    printer = _printer(args)
    orch = _start(
        args,
        workspace=_workspace(demo.repo),
        task=demo.task,
        generator=demo.generator,
        reviewers=demo.reviewers,
        planner=demo.planner,
        rounds=demo.rounds,
        speed=args.speed,
        settings=settings,
        base_dir=demo.repo,
        printer=printer,
    )
    if not args.json:
        print(f"demo repository: {demo.repo}", file=sys.stderr)
    _attach_checks(orch, settings, args, demo_checks=demo.checks)
    if demo.checks_skipped and args.checks is not False:
        print(f"counterpoint: {demo.checks_skipped}", file=sys.stderr)
    try:
        return _headless(orch, args, printer, demo.rounds)
    finally:  # stdout holds only JSON lines with --json
        _demo_farewell(orch, sys.stderr if args.json else sys.stdout)


def _demo_farewell(orch: Any, out: Any) -> None:
    """Where the demo's repository is and how to come back to its session (after the TUI quits
    or the headless run ends)."""
    if orch is None:
        return
    print(visible(f"demo repository: {orch.workspace.root}", newlines=False), file=out)
    print(f"resume it with: counterpoint resume {orch.session.id}", file=out)
    out.flush()


def _session_id(args: argparse.Namespace) -> str:
    from counterpoint.workflow.sessions import list_sessions

    if args.session_id and not args.last:
        return args.session_id
    found = list_sessions()
    if not found:
        raise UsageError("no saved sessions yet")
    return found[0].session_id


def _cmd_resume(args: argparse.Namespace) -> int:
    from counterpoint.workflow.launch import SessionError, resume_session

    session_id = _session_id(args)
    settings = _settings(None)
    printer = _printer(args) if args.headless else None
    try:
        resumed = resume_session(
            session_id,
            settings=settings,
            listeners=[printer] if printer is not None else [],
        )
    except SessionError as exc:
        raise UsageError(str(exc)) from None
    for problem in resumed.problems:
        print(f"counterpoint: journal: {problem}", file=sys.stderr)
    _say_recovered(resumed.recovered)
    if printer is None:
        from counterpoint.tui.app import run_app
        from counterpoint.tui.startup import ResumeStart

        return run_app(ResumeStart(resumed=resumed), settings=settings, checks=_checks_flags(args))
    for event in resumed.history:  # the session so far, then what resume adds
        printer(event)
    orch = resumed.orchestrator
    _attach_checks(orch, _settings(orch.workspace.root), args)
    meta = orch.session.meta
    return _headless(orch, args, printer, max(meta.rounds if meta else 1, len(orch.session.rounds)))


def _cmd_sessions(args: argparse.Namespace) -> int:
    from counterpoint.workflow.sessions import list_sessions

    found = list_sessions()
    if not found:
        print("no saved sessions")
        return 0
    print(f"{'ID':<22} {'REPO':<20} {'ROUNDS':>6}  {'STATE':<8} TASK")
    for s in found:
        task = s.task.splitlines()[0] if s.task else ""
        print(f"{s.session_id:<22} {s.repo_name[:20]:<20} {s.rounds:>6}  {s.state:<8} {task[:60]}")
    return 0


def _load_session(session_id: str) -> Any:
    from counterpoint.core.journal import JournalError, read_journal
    from counterpoint.core.session import Session
    from counterpoint.workflow.launch import journal_path

    try:
        contents = read_journal(journal_path(session_id))
    except JournalError:
        raise UsageError(f"no session {session_id} (see `counterpoint sessions`)") from None
    for problem in contents.problems:
        print(f"counterpoint: journal: {problem}", file=sys.stderr)
    return Session.from_events(contents.events)


def _cmd_export(args: argparse.Namespace) -> int:
    from counterpoint.export import render

    session = _load_session(args.session_id)
    text = render(session.summary(), args.format, sarif_profile=args.sarif_profile)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    import json

    from counterpoint.core import scoreboard as board
    from counterpoint.workflow.scoreboard import scoreboard

    try:
        since = board.parse_since(args.since) if args.since else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    repo = args.repo
    if repo is not None and Path(repo).is_dir():
        repo = str(Path(repo).resolve())
    stats = scoreboard(board.Filters(repo=repo, since=since, model=args.model))
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        render = {"text": board.render_text, "markdown": board.render_markdown,
                  "csv": board.render_csv}[args.format]
        sys.stdout.write(render(stats))
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    from counterpoint.workflow.sessions import record_undo
    from counterpoint.workspace import Workspace, WorkspaceError

    try:
        workspace = Workspace.open(Path.cwd())
        recovered = workspace.recover()
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    if recovered:  # that was the apply to undo: a plain undo must not go on to an older one
        _say_recovered(recovered)
        if args.undo_id is None:
            print("nothing else was undone; `counterpoint undo` again undoes the apply before it")
            return 0
    try:
        record = workspace.undo(args.undo_id)
    except WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    note = record_undo(record)
    if note:
        print(f"counterpoint: {note}", file=sys.stderr)
    files = visible(", ".join(record.files), newlines=False)  # a model chose the names
    print(f"restored {len(record.files)} files from {record.undo_id}: {files}")
    return 0


def _cmd_config(args: argparse.Namespace) -> int:
    from counterpoint.config import ConfigError, review

    try:
        root = _workspace(Path.cwd()).root
    except UsageError:
        root = None
    try:
        print(review(root, allow_urls=args.allow_urls, allow_checks=args.allow_checks,
                     revoke=args.revoke))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return 0
