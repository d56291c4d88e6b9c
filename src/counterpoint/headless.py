"""The headless view: the session's events as JSON lines, or a short human summary.

Model text reaches the terminal through `counterpoint.core.safe_text`: each progress and
summary line with its control characters (newlines too) shown as visible escapes, JSON with
DEL, C1 and bidi controls written as `\\u` escapes.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from counterpoint.core.events import (
    Applied,
    ChecksReady,
    ChecksStarted,
    ClustersReady,
    Event,
    PlanApproved,
    PlanReady,
    ProposalReady,
    ReviewReady,
    ReviewRetried,
    RoundStarted,
    SessionStarted,
    StepFailed,
    StepStarted,
    ToolUsed,
    event_to_dict,
)
from counterpoint.core.glyphs import CONFIRMED, WEAK_REVIEW, agreement
from counterpoint.core.safe_text import escape_json_output, visible
from counterpoint.core.session import Session
from counterpoint.core.tools import ToolCall, call_summary, result_headline
from counterpoint.workflow.model_choice import same_family_warning
from counterpoint.workflow.orchestrator import Orchestrator


class HeadlessPrinter:
    """With `as_json`, every event is one JSON line on `out`, ending with the summary.
    Without it, progress goes to `err` and a readable summary to `out`."""

    def __init__(
        self, *, as_json: bool, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.as_json = as_json
        # Looked up now, not at import: the streams may have been replaced since (tests,
        # a caller redirecting output).
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr

    def __call__(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self._warn_family(event.generator, event.reviewers)
        if self.as_json:
            self.out.write(escape_json_output(json.dumps(event_to_dict(event), ensure_ascii=False)) + "\n")
            self.out.flush()
            return
        line = self._progress(event)
        if line:
            self.err.write(visible(line, newlines=False) + "\n")
            self.err.flush()

    def _warn_family(self, generator: str, reviewers: list[str]) -> None:
        """A reviewer of the generator's model family: one warning line on `err`, both modes."""
        warning = same_family_warning(generator, reviewers)
        if warning:
            self.err.write(visible(f"counterpoint: warning: {warning}", newlines=False) + "\n")
            self.err.flush()

    def _progress(self, e: Event) -> str | None:
        if isinstance(e, SessionStarted):
            return f"session {e.session_id} · {e.repo_name}@{e.branch}"
        if isinstance(e, RoundStarted):
            return f"round {e.round} · generator {e.generator} · reviewers {', '.join(e.reviewers)}"
        if isinstance(e, StepStarted):
            return f"  {e.step} · {e.model} …"
        if isinstance(e, ToolUsed):
            mark = " ✗" if e.refused else " (cut)" if e.truncated else ""
            call = call_summary(ToolCall.from_dict(e.call))
            return f"    {e.model} looked: {call} → {result_headline(e.result, 80)}{mark}"
        if isinstance(e, PlanReady):
            return f"  plan by {e.model}: {len(e.text.splitlines())} lines"
        if isinstance(e, PlanApproved):
            return f"  plan followed ({_PLAN_SOURCE[e.source]})"
        if isinstance(e, ProposalReady):
            failed = f", {len(e.failed_edits)} failed" if e.failed_edits else ""
            return f"  proposal: {e.edits} edit blocks{failed}, {len(e.files)} files"
        if isinstance(e, ReviewReady):
            weak = f" · {WEAK_REVIEW.label}: {e.weak_reason}" if e.weak else ""
            return f"  review by {e.reviewer}: {len(e.findings)} findings ({e.verdict}){weak}"
        if isinstance(e, ReviewRetried):
            return f"  review by {e.reviewer} is too thin ({e.reason}): asked once more"
        if isinstance(e, StepFailed):
            return f"  ✗ {e.step} · {e.model} failed ({e.kind}): {e.message}"
        if isinstance(e, ClustersReady):
            contested = sum(1 for c in e.clusters if c.contested)
            return f"  {len(e.clusters)} clusters, {contested} contested"
        if isinstance(e, ChecksStarted):
            what = "the selection" if e.selection is not None else "the proposal"
            bare = "" if e.sandboxed else " (NOT sandboxed)"
            return f"  checks on {what}{bare}: {', '.join(e.checks)} …"
        if isinstance(e, ChecksReady):
            if e.problem:
                return f"  ✗ checks not run: {e.problem}"
            return "  checks: " + ", ".join(
                f"{r.name} {r.status} ({r.new_failures} new, {r.preexisting_failures} already failing)"
                for r in e.results
            )
        if isinstance(e, Applied):
            return f"applied {len(e.files)} files · undo id {e.undo_id}"
        return None

    def summary(self, session: Session) -> None:
        summary = session.summary()
        warning = same_family_warning(summary["generator"], summary["reviewers"])
        summary["warnings"] = [warning] if warning else []
        if self.as_json:
            self.out.write(escape_json_output(json.dumps(summary, ensure_ascii=False)) + "\n")
            self.out.flush()
            return
        self.out.write(render_summary(summary))
        self.out.flush()


_PLAN_SOURCE = {"planner": "as the planner wrote it", "human": "as you edited it", "file": "from your file"}


def render_summary(s: dict[str, Any]) -> str:
    lines = [
        f"Session {s['session_id']} · {s['repo']}@{s['branch']} · {s['rounds']} round(s)",
        f"Task: {s['task']}",
        f"Generator {s['generator']} · reviewers {', '.join(s['reviewers'])}",
        *(f"Warning: {w}" for w in s.get("warnings", ())),
        "",
    ]
    clusters = s["clusters"]
    current = None
    for c in clusters:
        if c["round"] != current:
            current = c["round"]
            mine = [x for x in clusters if x["round"] == current]
            contested = sum(1 for x in mine if x["contested"])
            lines.append(f"Round {current} · findings {len(mine)} · {contested} contested")
        mark = "!" if c["contested"] else " "
        lines.append(
            f" {mark}{agreement(c['agreement']).glyph} {c['agreement']:<14} {c['severity']:<8} "
            f"{c['category']:<14} {c['path']}:{c['start_line']}-{c['end_line']}  {c['title']}"
            f"  gen: {c['stance']}  [{c['verdict']}]" + (f"  {CONFIRMED.label} by a check" if c.get("confirmed") else "")
        )
    if s.get("checks"):
        lines.append("")
        lines.append("Checks")
        for run in s["checks"]:
            if run["problem"]:
                lines.append(f"  round {run['round']}: not run: {run['problem']}")
            for r in run["results"]:
                mark = "✓" if r["status"] == "passed" else "✗"
                lines.append(
                    f"  round {run['round']} {mark} {r['name']} {r['status']} · {r['new_failures']} new, "
                    f"{r['preexisting_failures']} already failing · {r['seconds']:.1f} s"
                    + ("" if run["sandboxed"] else " · NOT SANDBOXED")
                )
    if s.get("weak_reviews"):
        lines.append("")
        lines.append("Weak reviews (no findings and a thin summary, even after one firmer retry)")
        for w in s["weak_reviews"]:
            lines.append(f"  round {w['round']} {WEAK_REVIEW.glyph} {w['reviewer']}: {w['reason']}")
    if s["failed_edits"]:
        lines.append("")
        lines.append("Failed edits")
        for f in s["failed_edits"]:
            lines.append(f"  round {f['round']} · {f['path'] or '(block)'}: {f['reason']}")
    if s["errors"]:
        lines.append("")
        lines.append("Errors")
        for e in s["errors"]:
            lines.append(f"  round {e['round']} · {e['step']} · {e['model']}: {e['kind']}: {e['message']}")
    lines.append("")
    lines.append("Usage")
    total = 0.0
    for model, u in s["usage"].items():
        total += u["cost_usd"]
        lines.append(
            f"  {model:<32} in {u['input_tokens']:>8,}  out {u['output_tokens']:>7,}  "
            f"cached {u['cached_input_tokens']:>8,}  ${u['cost_usd']:.4f}"
            + (f"  {u['tool_calls']} tool calls" if u.get("tool_calls") else "")
        )
    lines.append(f"  {'total':<32} ${total:.4f}")
    if s["applied"]:
        lines.append("")
        lines.append(
            f"Applied {len(s['applied']['files'])} files · undo: counterpoint undo {s['applied']['undo_id']}"
        )
    return "".join(visible(line, newlines=False) + "\n" for line in lines)


def end_at_plan(orch: Orchestrator, ok: bool, printer: HeadlessPrinter) -> int:
    """`--plan-only`: the plan on stdout (JSON: the `plan_ready` event, then the summary), how
    to go on from it on stderr; the session is journaled as "planned". Exit 0, or 1 when the
    planner failed."""
    r = orch.current
    if not r.plan_pending:  # the planner failed (a `StepFailed` says why)
        orch.finish("failed")
        printer.summary(orch.session)
        return 1
    from counterpoint.core.events import SessionFinished

    orch.emit(SessionFinished(state="planned"))  # the round stays open: resume goes on from the plan
    if printer.as_json:
        printer.summary(orch.session)
    else:
        plan = visible(r.plan or "")
        printer.out.write(plan if plan.endswith("\n") else plan + "\n")
        printer.out.flush()
    printer.err.write(
        f"counterpoint: plan only: follow it with `counterpoint resume {orch.session.id}`, or edit it "
        "and pass it to `counterpoint run TASK --plan FILE`\n"
    )
    printer.err.flush()
    return 0


def gate_message(gate: Any) -> str:
    """Why the checks of a selection stop an apply, and how to apply anyway."""
    if gate.problem:
        return f"the checks could not run ({gate.problem}); --apply-failing writes anyway"
    failing = ", ".join(
        f"{r.name} {r.status}" + (f" ({r.new_failures} new failures)" if r.new_failures else "")
        for r in gate.results
        if r.status != "passed"
    )
    return f"the selection's checks do not pass: {failing}; --apply-failing writes anyway"


async def run_headless(
    orch: Orchestrator,
    *,
    rounds: int,
    accept: str,
    apply: bool,
    commit: bool,
    printer: HeadlessPrinter,
    apply_failing: bool = False,
    plan_only: bool = False,
) -> int:
    """Drive a session to the end without a UI. Returns the exit code (0 done, 1 a step failed).

    With checks, `apply` writes only when the checks of the exact selection pass, unless
    `apply_failing`. With `plan_only`, the round stops at its plan (see `end_at_plan`)."""
    if plan_only:
        orch.hold_plan = True
        return end_at_plan(orch, await orch.run_round(), printer)
    ok = await orch.run_round()
    while ok:
        orch.accept_policy(accept)
        if orch.current.number >= rounds:
            break
        ok = await orch.revise()
    code = 0
    if not ok:
        code = 1
    else:
        final = orch.session.last_proposal_round
        if final and final.proposal and final.proposal.failed_edits:
            code = 1
        if apply:
            from counterpoint.workflow.orchestrator import NotCommitted, SessionError
            from counterpoint.workspace import WorkspaceError

            note = orch.branch_note()
            if note:
                printer.err.write(visible(f"counterpoint: note: {note}", newlines=False) + "\n")
            gate = await orch.check_selection()
            refused = gate is not None and not gate.passed and not apply_failing
            if refused:
                assert gate is not None
                printer.err.write(visible(f"counterpoint: not applied: {gate_message(gate)}", newlines=False) + "\n")
                code = 1
            try:
                if not refused:
                    orch.apply(commit=commit)
            except NotCommitted as exc:
                printer.err.write(visible(f"counterpoint: {exc}", newlines=False) + "\n")
                code = 1
            except (WorkspaceError, SessionError) as exc:
                printer.err.write(visible(f"counterpoint: not applied: {exc}", newlines=False) + "\n")
                code = 1
    orch.finish("done" if code == 0 else "failed")
    printer.summary(orch.session)
    return code
