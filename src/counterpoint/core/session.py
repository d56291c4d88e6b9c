"""Session state, rebuilt by folding the journal's events.

`Session.apply(event)` is the only way state changes, so the live session and a resumed one
are the same thing. Views (headless printer, TUI) read it; the orchestrator emits events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from counterpoint.core.changeset import ChangeSet
from counterpoint.core.events import (
    Applied,
    CheckOutput,
    ChecksReady,
    ChecksStarted,
    ClustersReady,
    ContextEdited,
    Delta,
    NoteSet,
    PlanApproved,
    PlanEdited,
    PlanReady,
    ProposalReady,
    ResponseReady,
    ReviewReady,
    ReviewRetried,
    RolesSwapped,
    RoundFinished,
    RoundStarted,
    SelectionSet,
    SessionFinished,
    SessionStarted,
    StepFailed,
    StepStarted,
    ToolUsed,
    Undone,
    UsageRecorded,
    VerdictSet,
)
from counterpoint.core.findings import Cluster, Finding

CHECK_OUTPUT_KEPT = 200_000
"""Characters of a running check's output the session keeps for the checks pane."""

STEP_ROLE: dict[str, str] = {
    "plan": "planner",
    "generate": "generator",
    "review": "reviewer",
    "respond": "responder",
}


@dataclass
class UsageTotals:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cost_usd: float = 0.0
    tool_calls: int = 0

    def add(self, e: UsageRecorded) -> None:
        self.tool_calls += e.tool_calls
        self.input_tokens += e.input_tokens
        self.output_tokens += e.output_tokens
        self.cached_input_tokens += e.cached_input_tokens
        self.cost_usd += e.cost_usd

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "tool_calls": self.tool_calls,
        }


@dataclass
class RoundState:
    number: int
    generator: str
    reviewers: list[str]
    planner: str | None = None
    instructions: str | None = None
    builds_on: int | None = None
    plan: str | None = None
    """The plan: the planner's, the human's edit of it, or the one the human supplied."""
    plan_approved: bool = False
    """The generator follows `plan` (approved, or taken as written headless)."""
    plan_source: str | None = None
    """Who wrote the plan on screen: "planner", "human" (edited) or "file"."""
    proposal: ProposalReady | None = None
    reviews: dict[str, ReviewReady] = field(default_factory=dict)
    retries: dict[str, ReviewRetried] = field(default_factory=dict)
    """Reviewers whose first answer was weak and who were asked once more (at most once)."""
    response: ResponseReady | None = None
    clusters: list[Cluster] = field(default_factory=list)
    suppressed: list[Cluster] = field(default_factory=list)
    aligned: bool = False
    streams: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """Text streamed so far per (step, model), as pieces (joined when read: appending to
    one growing string would copy it for every token)."""
    tools: dict[tuple[str, str], list[ToolUsed]] = field(default_factory=dict)
    """The read-only tool calls of the running or last run of each (step, model)."""
    turns: dict[tuple[str, str], int] = field(default_factory=dict)
    """Requests of that run that ended in tool calls (each one more exchange of its role)."""
    running: set[tuple[str, str]] = field(default_factory=set)
    errors: dict[tuple[str, str], StepFailed] = field(default_factory=dict)
    """The open failure per (step, model); cleared when that step starts again."""
    started: dict[str, int] = field(default_factory=dict)
    """How many requests each model got in this round, per role, for cassette rewinds."""
    finished: bool = False
    selection: SelectionSet | None = None
    """The human's last choice of hunks and lines on the apply screen, with comments."""
    checks: ChecksReady | None = None
    """The checks on this round's proposal, once they ran."""
    checks_running: bool = False
    check_output: dict[str, list[str]] = field(default_factory=dict)
    """Output of each running check so far (pieces, capped), for the checks pane."""
    selection_checks: ChecksReady | None = None
    """The last checks of a hunk selection (before an apply)."""

    @cached_property
    def changeset(self) -> ChangeSet | None:
        if self.proposal is None:
            return None
        return ChangeSet.from_contents(self.proposal.base, self.proposal.files)

    @property
    def findings(self) -> list[Finding]:
        out: list[Finding] = []
        for reviewer in self.reviewers:
            if reviewer in self.reviews:
                out.extend(self.reviews[reviewer].findings)
        if self.checks is not None:
            out.extend(self.checks.findings)
        return out

    def cluster(self, cluster_id: str) -> Cluster | None:
        return next((c for c in self.clusters if c.id == cluster_id), None)

    @property
    def contested(self) -> list[Cluster]:
        return [c for c in self.clusters if c.contested]

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    @property
    def plan_pending(self) -> bool:
        """The plan is written and waits for the human's approval; the generator waits too."""
        return self.plan is not None and not self.plan_approved and self.proposal is None

    @property
    def followed_plan(self) -> str | None:
        """The plan the generator is asked to follow (None until one is approved)."""
        return self.plan if self.plan_approved else None

    def text(self, step: str, model: str) -> str:
        parts = self.streams.get((step, model))
        if not parts:
            return ""
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0]


class Session:
    def __init__(self) -> None:
        self.meta: SessionStarted | None = None
        self.context_edit: ContextEdited | None = None
        """The human's last change to the context in the workbench, if any."""
        self.rounds: list[RoundState] = []
        self.usage: dict[str, UsageTotals] = {}
        self.applied: list[Applied] = []
        self.undone: set[str] = set()
        self.generator: str = ""
        self.reviewers: list[str] = []
        self.state: str = "running"

    @classmethod
    def from_events(cls, events: list[Any]) -> Session:
        session = cls()
        for event in events:
            session.apply(event)
        return session

    # -- reading -----------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.meta.session_id if self.meta else ""

    @property
    def task(self) -> str:
        return self.meta.task if self.meta else ""

    @property
    def context_files(self) -> tuple[str, ...]:
        """The files the human added to the context (at the start, or since in the workbench)."""
        if self.context_edit is not None:
            return tuple(self.context_edit.files)
        return tuple(self.meta.context_files) if self.meta else ()

    @property
    def context_dropped(self) -> tuple[str, ...]:
        """The files the human dropped from the context: never sent."""
        if self.context_edit is not None:
            return tuple(self.context_edit.dropped)
        return tuple(self.meta.context_dropped) if self.meta else ()

    @property
    def current(self) -> RoundState | None:
        return self.rounds[-1] if self.rounds else None

    def round(self, number: int) -> RoundState:
        return self.rounds[number - 1]

    def rejected_before(self, number: int) -> list[Cluster]:
        return [
            c for r in self.rounds[: number - 1] for c in r.clusters if c.verdict == "rejected"
        ]

    @property
    def last_proposal_round(self) -> RoundState | None:
        return next((r for r in reversed(self.rounds) if r.proposal is not None), None)

    @property
    def last_applied(self) -> Applied | None:
        live = [a for a in self.applied if a.undo_id not in self.undone]
        return live[-1] if live else None

    def played(self, model: str) -> dict[str, int]:
        """Requests sent to `model` so far, per role: a replayed cassette skips that many."""
        out: dict[str, int] = {}
        for r in self.rounds:
            for key, n in r.started.items():
                m, role = key.split("\x00")
                if m == model:
                    out[role] = out.get(role, 0) + n
            for step, m in r.running:  # cut off mid-request: that exchange is played again
                if m == model:  # (and the step's tool turns before it: the step re-runs)
                    role = STEP_ROLE.get(step, step)
                    out[role] = out.get(role, 0) - 1 - r.turns.get((step, m), 0)
        return out

    # -- folding -----------------------------------------------------------------------
    def apply(self, event: Any) -> None:
        handler = getattr(self, f"_on_{event.event}", None)
        if handler is not None:
            handler(event)

    def _on_session_started(self, e: SessionStarted) -> None:
        self.meta = e
        self.generator = e.generator
        self.reviewers = list(e.reviewers)

    def _on_context_edited(self, e: ContextEdited) -> None:
        self.context_edit = e

    def _on_round_started(self, e: RoundStarted) -> None:
        if self.current is not None:
            self.current.finished = True
        self.rounds.append(
            RoundState(
                e.round, e.generator, list(e.reviewers), e.planner, e.instructions, e.builds_on
            )
        )

    def _on_step_started(self, e: StepStarted) -> None:
        r = self.round(e.round)
        key = (e.step, e.model)
        r.streams[key] = []
        r.tools[key] = []
        # Still running: the last start was cut off by a crash and this is its re-run, the
        # same exchange again (played() does not count a step that is still running).
        rerun = key in r.running
        r.running.add(key)
        r.errors.pop(key, None)
        role_key = f"{e.model}\x00{STEP_ROLE.get(e.step, e.step)}"
        if not rerun:
            r.started[role_key] = r.started.get(role_key, 0) + 1
        else:  # the re-run asks its tool turns again too
            r.started[role_key] = r.started.get(role_key, 0) - r.turns.get(key, 0)
        r.turns[key] = 0
        if e.step == "generate":
            if r.plan is not None:  # journals before plan approval: the generator saw it
                r.plan_approved = True
            r.proposal = None
            r.__dict__.pop("changeset", None)

    def _on_delta(self, e: Delta) -> None:
        r = self.round(e.round)
        r.streams.setdefault((e.step, e.model), []).append(e.text)

    def _on_tool_used(self, e: ToolUsed) -> None:
        r = self.round(e.round)
        key = (e.step, e.model)
        r.tools.setdefault(key, []).append(e)
        before = r.turns.get(key, 0)
        if e.turn > before:
            role_key = f"{e.model}\x00{STEP_ROLE.get(e.step, e.step)}"
            r.started[role_key] = r.started.get(role_key, 0) + e.turn - before
            r.turns[key] = e.turn

    def _on_plan_ready(self, e: PlanReady) -> None:
        r = self.round(e.round)
        r.plan = e.text
        r.plan_source = "planner"
        r.running.discard(("plan", e.model))

    def _on_plan_edited(self, e: PlanEdited) -> None:
        r = self.round(e.round)
        r.plan = e.text
        r.plan_source = "human"

    def _on_plan_approved(self, e: PlanApproved) -> None:
        r = self.round(e.round)
        r.plan = e.text
        r.plan_source = e.source
        r.plan_approved = True

    def _on_proposal_ready(self, e: ProposalReady) -> None:
        r = self.round(e.round)
        r.proposal = e
        r.__dict__.pop("changeset", None)
        r.running.discard(("generate", e.model))

    def _on_review_ready(self, e: ReviewReady) -> None:
        r = self.round(e.round)
        r.reviews[e.reviewer] = e
        r.running.discard(("review", e.reviewer))

    def _on_review_retried(self, e: ReviewRetried) -> None:
        r = self.round(e.round)
        r.retries[e.reviewer] = e
        r.running.discard(("review", e.reviewer))  # the retry is a request of its own

    def _on_response_ready(self, e: ResponseReady) -> None:
        r = self.round(e.round)
        r.response = e
        r.running.discard(("respond", e.model))
        stances = {s.finding_id: s for s in e.responses}
        for finding in r.findings:  # the checks' findings too
            if finding.id in stances:
                finding.stance = stances[finding.id].stance
                finding.reply = stances[finding.id].reply

    def _on_clusters_ready(self, e: ClustersReady) -> None:
        r = self.round(e.round)
        r.clusters = [c.model_copy(deep=True) for c in e.clusters]
        r.suppressed = list(e.suppressed)
        r.aligned = True

    def _on_verdict_set(self, e: VerdictSet) -> None:
        cluster = self.round(e.round).cluster(e.cluster_id)
        if cluster is not None:
            cluster.verdict = e.verdict
            if e.note is not None:
                cluster.note = e.note or None

    def _on_note_set(self, e: NoteSet) -> None:
        cluster = self.round(e.round).cluster(e.cluster_id)
        if cluster is not None:
            cluster.note = e.note or None

    def _on_step_failed(self, e: StepFailed) -> None:
        r = self.round(e.round)
        r.running.discard((e.step, e.model))
        r.errors[(e.step, e.model)] = e

    def _on_usage(self, e: UsageRecorded) -> None:
        self.usage.setdefault(e.model, UsageTotals()).add(e)

    def _on_round_finished(self, e: RoundFinished) -> None:
        self.round(e.round).finished = True

    def _on_roles_swapped(self, e: RolesSwapped) -> None:
        self.generator = e.generator
        self.reviewers = list(e.reviewers)

    def _on_applied(self, e: Applied) -> None:
        self.applied.append(e)

    def _on_selection_set(self, e: SelectionSet) -> None:
        self.round(e.round).selection = e

    def _on_undone(self, e: Undone) -> None:
        self.undone.add(e.undo_id)

    def _on_checks_started(self, e: ChecksStarted) -> None:
        r = self.round(e.round)
        if e.selection is None:
            r.checks = None
            r.checks_running = True
        r.check_output = {name: [] for name in e.checks}

    def _on_check_output(self, e: CheckOutput) -> None:
        pieces = self.round(e.round).check_output.setdefault(e.name, [])
        if sum(len(p) for p in pieces) < CHECK_OUTPUT_KEPT:
            pieces.append(e.text)

    def _on_checks_ready(self, e: ChecksReady) -> None:
        r = self.round(e.round)
        if e.selection is None:
            r.checks = e
            r.checks_running = False
        else:
            r.selection_checks = e

    def _on_session_finished(self, e: SessionFinished) -> None:
        self.state = e.state

    # -- summary -----------------------------------------------------------------------
    def _plan_summary(self) -> dict[str, Any] | None:
        first = self.rounds[0] if self.rounds else None
        if first is None or first.plan is None:
            return None
        return {"text": first.plan, "approved": first.plan_approved, "source": first.plan_source}

    def summary(self) -> dict[str, Any]:
        """The headless `summary` event (PRODUCT.md), also the input of every export.

        `clusters` holds every round's clusters in round order (each carries its `round`),
        so a summary tells the whole story: what was raised, contested and decided."""
        meta = self.meta
        applied = self.last_applied
        from counterpoint import __version__

        return {
            "event": "summary",
            "session_id": self.id,
            "repo": meta.repo_name if meta else "",
            "repo_path": meta.repo if meta else "",
            "branch": meta.branch if meta else "",
            "task": self.task,
            "rounds": len(self.rounds),
            "generator": self.generator,
            "reviewers": list(self.reviewers),
            "planner": meta.planner if meta else None,
            "plan": self._plan_summary(),
            "state": self.state,
            "clusters": [c.model_dump(mode="json") for r in self.rounds for c in r.clusters],
            "usage": {model: totals.to_dict() for model, totals in self.usage.items()},
            "weak_reviews": [
                {"round": r.number, "reviewer": v.reviewer, "reason": v.weak_reason}
                for r in self.rounds
                for v in r.reviews.values()
                if v.weak
            ],
            "failed_edits": [
                {"round": r.number, "index": f.index, "path": f.path, "reason": f.reason}
                for r in self.rounds
                if r.proposal
                for f in r.proposal.failed_edits
            ],
            "errors": [
                {
                    "round": r.number,
                    "step": e.step,
                    "model": e.model,
                    "kind": e.kind,
                    "message": e.message,
                }
                for r in self.rounds
                for e in r.errors.values()
            ],
            "checks": [
                {
                    "round": r.number,
                    "sandboxed": r.checks.sandboxed,
                    "problem": r.checks.problem,
                    "results": [x.model_dump(exclude={"output", "preexisting"}) for x in r.checks.results],
                }
                for r in self.rounds
                if r.checks is not None
            ],
            "applied": (
                {"files": applied.files, "undo_id": applied.undo_id, "commit": applied.commit}
                if applied
                else None
            ),
            "version": __version__,
        }
