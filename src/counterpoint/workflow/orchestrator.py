"""The orchestrator: a session's events, the round's steps listed once, triage and apply.

Every event goes to the journal, the session state and the listeners (the headless printer,
the TUI), in that order (`emit`). A round runs plan → generate → review × N → respond →
align (round 1 with a planner starts with the plan; with `hold_plan` the round pauses there
until the human approves it, `approve_plan`, and runs on with `run_round`): `remaining_steps` lists the steps of the current round still to do, phase by phase
(the steps of a phase run at the same time), and `run_round(run_step)` runs them through a
step runner (`workflow/steps.py`: headless awaits each step, the TUI runs each in its pane's
worker). `revise` and `swap_roles` start a new round and run it the same way; running the
round again after a failure is `run_round` too. Nothing is written to the working tree
except by `apply`, which the human (or an explicit `--apply`) asks for.

Where the rest lives: sessions are created and resumed in `launch.py`; what each request
holds in `conversation.py`; model output becomes events in `outputs.py`; a model call
streams into events in `steps.py`.

Adding a step: write its body as an `async def name(self) -> bool` (emit what it finds,
return False when it failed), then list it in `remaining_steps` — in the review phase to run
alongside the reviews, with a `pane` of its own (its worker group, e.g. "checks").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial

from counterpoint.core import prompts
from counterpoint.core.alignment import align, is_check, join_checks
from counterpoint.core.context import ContextBundle, ContextRules
from counterpoint.core.edits import EditStreamParser
from counterpoint.core.events import (
    Applied,
    ChecksReady,
    ClustersReady,
    ContextEdited,
    Event,
    NoteSet,
    PlanApproved,
    PlanEdited,
    PlanReady,
    PlanSource,
    ResponseReady,
    ReviewRetried,
    RolesSwapped,
    RoundFinished,
    RoundStarted,
    SelectionSet,
    SessionFinished,
    Undone,
    VerdictSet,
)
from counterpoint.core.findings import Cluster, Verdict
from counterpoint.core.journal import Journal
from counterpoint.core.pricing import DEFAULT_PRICES, Price
from counterpoint.core.review_quality import judge_review
from counterpoint.core.selection import apply_selection, changed_lines
from counterpoint.core.session import RoundState, Session
from counterpoint.core.tools import ToolBounds
from counterpoint.providers.base import Provider
from counterpoint.workflow.check_step import Checks
from counterpoint.workflow.conversation import Conversation
from counterpoint.workflow.outputs import BAD_RESPONSE, BAD_REVIEW, Outputs
from counterpoint.workflow.steps import ModelCall, RoundStep, StepRunner, run_inline
from counterpoint.workflow.tool_loop import ToolSession
from counterpoint.workspace import Workspace, WorkspaceError

Listener = Callable[[Event], None]


class SessionError(Exception):
    """A session cannot start, resume or go on; the message says why."""


class NotCommitted(SessionError):
    """The apply wrote its files (`applied`), but the commit that should follow failed."""

    def __init__(self, applied: Applied, cause: Exception) -> None:
        count = len(applied.files)
        super().__init__(
            f"applied {count} file{'s' if count != 1 else ''} (undo: counterpoint undo "
            f"{applied.undo_id}) but did not commit: {cause}"
        )
        self.applied = applied


class Orchestrator:
    def __init__(
        self,
        session: Session,
        *,
        workspace: Workspace,
        providers: dict[str, Provider],
        journal: Journal | None = None,
        prices: dict[str, Price] | None = None,
        context_rules: ContextRules | None = None,
        listeners: Sequence[Listener] = (),
    ) -> None:
        self.session = session
        self.workspace = workspace
        self.providers = providers
        self.journal = journal
        self.prices = prices if prices is not None else dict(DEFAULT_PRICES)
        self.context_rules = context_rules or ContextRules()
        self.listeners: list[Listener] = list(listeners)
        self.conversation = Conversation(session, workspace, self.context_rules)
        self.outputs = Outputs(session, workspace, self.context_rules)
        self.model_call = ModelCall(self.emit, self.prices)
        self.checks: Checks | None = None
        """The repository's checks, when the user switched them on (`check_step.py`)."""
        self.tool_bounds: ToolBounds | None = None
        """Set: the generator (writing, and answering the findings) and the reviewers may
        call the read-only tools within these bounds per step (`workflow/tool_loop.py`);
        None: no tools are offered."""
        self.hold_plan = False
        """True: the planner's plan waits for the human (`approve_plan`) before the generator
        starts (the TUI, `--plan-only`); False: it is followed as written (headless)."""

    # -- events ------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        if self.journal is not None:
            self.journal.append(event)
        self.session.apply(event)
        for listener in list(self.listeners):
            listener(event)

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()

    @property
    def current(self) -> RoundState:
        current = self.session.current
        assert current is not None, "the session has no round yet"
        return current

    # -- rounds ------------------------------------------------------------------------
    def start_round(
        self, instructions: str | None = None, builds_on: int | None = None
    ) -> RoundState:
        number = len(self.session.rounds) + 1
        if self.session.current is not None and not self.session.current.finished:
            self.emit(RoundFinished(round=self.session.current.number))
        meta = self.session.meta
        self.emit(
            RoundStarted(
                round=number,
                generator=self.session.generator,
                reviewers=list(self.session.reviewers),
                planner=meta.planner if meta and number == 1 else None,
                instructions=instructions,
                builds_on=builds_on,
            )
        )
        return self.current

    @property
    def round_complete(self) -> bool:
        r = self.session.current
        return r is not None and r.aligned

    def remaining_steps(self) -> list[list[RoundStep]]:
        """The steps of the current round not completed yet, phase by phase: a phase's
        steps run at the same time, a phase starts when the one before it completed."""
        r = self.current
        phases: list[list[RoundStep]] = []
        if r.planner and not r.plan_approved and r.proposal is None:
            phases.append([RoundStep("planner", self.plan)])
        if r.proposal is None:
            phases.append([RoundStep("generator", self.generate)])
        reviews = [
            RoundStep(f"reviewer:{spec}", partial(self.review, spec))
            for spec in r.reviewers
            if spec not in r.reviews
        ]
        if self.checks is not None and r.checks is None:
            reviews.append(RoundStep("checks", self.run_checks))
        if reviews:
            phases.append(reviews)
        if r.response is None:
            phases.append([RoundStep("generator", self.respond)])
        return phases

    async def run_round(self, run_step: StepRunner = run_inline) -> bool:
        """Run what is left of the current round (after a failure: the failed steps and
        whatever follows them). True when the round is aligned."""
        # chosen off the UI loop: a first index of a large repository takes seconds
        await asyncio.to_thread(self.conversation.context)
        for phase in self.remaining_steps():
            if len(phase) == 1:
                ok = await run_step(phase[0])
            else:
                ok = all(await asyncio.gather(*(run_step(step) for step in phase)))
            if not ok:
                return False
        if not self.current.aligned:
            self.align()
        return True

    async def revise(self, run_step: StepRunner = run_inline) -> bool:
        """A new round: the accepted findings and the notes go back to the generator."""
        r = self.current
        if r.proposal is None or not r.aligned:
            raise SessionError(f"round {r.number} is not reviewed yet; nothing to revise")
        instructions = prompts.revise_message(r.clusters, r.proposal.failed_edits, r.proposal.edits,
                                              self.conversation.asked(r))
        more = await asyncio.to_thread(self.conversation.more_for_findings, r)  # reads the tree: off the UI loop
        if more:
            instructions += "\n\n" + more
        if r.selection is not None and r.changeset is not None:
            instructions += prompts.selection_message(
                r.changeset, r.selection.lines, r.selection.comments
            )
        self.start_round(instructions, builds_on=r.number)
        return await self.run_round(run_step)

    async def swap_roles(self, run_step: StepRunner = run_inline) -> bool:
        """Swap the generator and the first reviewer, and run the current round again."""
        r = self.current
        if not self.session.reviewers:
            raise SessionError("there is no reviewer to swap with")
        if r.plan_pending:
            raise SessionError("the plan waits for your approval; approve it first")
        old_gen, revs = self.session.generator, list(self.session.reviewers)
        self.emit(RolesSwapped(generator=revs[0], reviewers=[old_gen, *revs[1:]]))
        self.start_round(r.instructions, builds_on=r.builds_on)
        return await self.run_round(run_step)

    def finish(self, state: str = "done") -> None:
        r = self.session.current
        if r is not None and not r.finished:
            self.emit(RoundFinished(round=r.number))
        self.emit(SessionFinished(state=state))  # type: ignore[arg-type]

    # -- the context -------------------------------------------------------------------
    def context_bundle(self) -> ContextBundle:
        """What the session's requests send about the repository, and why."""
        self.conversation.context()
        assert self.conversation.bundle is not None
        return self.conversation.bundle

    def edit_context(self, files: Sequence[str], dropped: Sequence[str]) -> None:
        """The human's context list (the workbench): used from the next round on."""
        files, dropped = list(dict.fromkeys(files)), list(dict.fromkeys(dropped))
        if files == list(self.session.context_files) and dropped == list(self.session.context_dropped):
            return
        self.emit(ContextEdited(files=files, dropped=dropped))
        self.conversation.forget_context()

    # -- verdicts ----------------------------------------------------------------------
    def set_verdict(
        self, cluster_id: str, verdict: Verdict, note: str | None = None, round_no: int | None = None
    ) -> None:
        r = self.session.round(round_no) if round_no else self.current
        if r.cluster(cluster_id) is None:
            raise SessionError(f"round {r.number} has no cluster {cluster_id}")
        self.emit(VerdictSet(round=r.number, cluster_id=cluster_id, verdict=verdict, note=note))

    def set_note(self, cluster_id: str, note: str | None, round_no: int | None = None) -> None:
        r = self.session.round(round_no) if round_no else self.current
        if r.cluster(cluster_id) is None:
            raise SessionError(f"round {r.number} has no cluster {cluster_id}")
        self.emit(NoteSet(round=r.number, cluster_id=cluster_id, note=note))

    def accept_policy(self, policy: str) -> None:
        """Headless verdicts: none, consensus (accept consensus clusters) or all."""
        if policy == "none":
            return
        for cluster in self.current.clusters:
            if cluster.verdict == "pending" and (
                policy == "all" or cluster.agreement == "consensus"
            ):
                self.set_verdict(cluster.id, "accepted")

    # -- apply / undo ------------------------------------------------------------------
    def set_selection(
        self,
        lines: Mapping[str, Collection[int]],
        splits: Mapping[str, Sequence[int]] | None = None,
        comments: Mapping[str, str] | None = None,
    ) -> None:
        """Record the human's choice of hunks and lines, and their comments on hunks."""
        r = self.session.last_proposal_round
        if r is None or r.changeset is None:
            raise SessionError("there is no proposal to choose from yet")
        self.emit(
            SelectionSet(
                round=r.number,
                lines={h: sorted(k) for h, k in lines.items()},
                splits={h: list(s) for h, s in (splits or {}).items()},
                comments={h: c for h, c in (comments or {}).items() if c},
            )
        )

    def apply(
        self,
        hunk_ids: Collection[str] | None = None,
        *,
        lines: Mapping[str, Collection[int]] | None = None,
        commit: bool = False,
    ) -> Applied:
        """Write the chosen hunks (all by default); `lines` chooses some changed lines of
        a hunk (hunk id → indices into its lines) instead of all of them."""
        r = self.session.last_proposal_round
        if r is None or r.changeset is None or r.proposal is None:
            raise SessionError("there is no proposal to apply yet")
        changeset = r.changeset
        ids = [h.id for h in changeset.hunks] if hunk_ids is None else list(hunk_ids)
        ids += [i for i in (lines or {}) if i not in ids]
        unknown = [i for i in ids if changeset.hunk(i) is None]
        if unknown:
            raise SessionError(f"round {r.number} has no hunk {', '.join(unknown)}")
        partial: dict[str, list[int]] = {}
        chosen: dict[str, Collection[int]] = {}
        for hunk_id in ids:
            hunk = changeset.hunk(hunk_id)
            assert hunk is not None
            every = changed_lines(hunk)
            picked = sorted(set(lines[hunk_id]) & set(every)) if lines and hunk_id in lines else every
            if picked != every:
                partial[hunk_id] = picked
            chosen[hunk_id] = picked
        ids = [i for i in ids if chosen[i] or not changeset.hunk(i).lines]  # type: ignore[union-attr]
        changes = apply_selection(changeset, chosen)
        if not changes:
            raise SessionError("no hunk selected: nothing to apply")
        base = {path: r.proposal.base.get(path) for path in changes}
        record = self.workspace.apply(
            changes, base, session_id=self.session.id, round=r.number, hunk_ids=ids
        )
        sha = None
        not_committed: WorkspaceError | None = None
        if commit:
            try:
                sha = self.workspace.commit(
                    record,
                    self._commit_message(),
                    generator=r.generator,
                    reviewers=r.reviewers,
                )
            except WorkspaceError as exc:
                not_committed = exc  # the files are written all the same: say both
        event = Applied(
            round=r.number,
            files=list(record.files),
            hunk_ids=ids,
            undo_id=record.undo_id,
            commit=sha,
            lines=partial,
        )
        self.emit(event)
        if not_committed is not None:
            raise NotCommitted(event, not_committed)
        return event

    def branch_note(self) -> str | None:
        """A sentence when the tree is now on another branch than the one the session ran
        on (an apply there goes ahead when the files are the same, but the human should know)."""
        meta = self.session.meta
        now = self.workspace.branch
        if meta is None or not meta.branch or now == meta.branch:
            return None
        return (
            f"the session ran on branch {meta.branch}, the working tree is now on {now}: "
            f"the change is written to {now}"
        )

    def undo(self, undo_id: str | None = None) -> Undone:
        undo_id = undo_id or (self.session.last_applied.undo_id if self.session.last_applied else None)
        if undo_id is None:
            raise SessionError("nothing to undo in this session")
        record = self.workspace.undo(undo_id)
        event = Undone(undo_id=record.undo_id, files=list(record.files))
        self.emit(event)
        return event

    def _commit_message(self) -> str:
        first = self.session.task.strip().splitlines()[0] if self.session.task.strip() else ""
        subject = first if len(first) <= 72 else first[:69] + "..."
        return f"{subject}\n\nWritten with Counterpoint: the change was reviewed by other models and triaged by a human."

    # -- the plan ----------------------------------------------------------------------
    def edit_plan(self, text: str) -> None:
        """The human's edit of the waiting plan (journaled; approved later)."""
        r = self._waiting_plan()
        if not text.strip():
            raise SessionError("the plan is empty: write one, or keep the planner's")
        if text.strip() != (r.plan or "").strip():
            self.emit(PlanEdited(round=r.number, text=text))

    def approve_plan(self) -> None:
        """The human approves the waiting plan: the generator follows it (`run_round` next)."""
        r = self._waiting_plan()
        assert r.plan is not None
        source: PlanSource = "human" if r.plan_source == "human" else "planner"
        self.emit(PlanApproved(round=r.number, text=r.plan, source=source))

    def supply_plan(self, text: str) -> None:
        """The human's own plan (`--plan FILE`) for the first round: no planner is asked."""
        r = self.current
        if r.proposal is not None or r.plan_approved:
            raise SessionError(f"round {r.number} has its plan already")
        if not text.strip():
            raise SessionError("the plan is empty")
        self.emit(PlanApproved(round=r.number, text=text, source="file"))

    def _waiting_plan(self) -> RoundState:
        r = self.current
        if not r.plan_pending:
            raise SessionError(f"round {r.number} has no plan waiting for approval")
        return r

    # -- the steps ---------------------------------------------------------------------
    async def plan(self) -> bool:
        """The planner writes the plan (unless it has); then it waits for the human
        (`hold_plan`: returns False, the round pauses with the plan pending) or is approved
        as written."""
        r = self.current
        assert r.planner
        if r.plan is None:
            done = await self.model_call.stream(
                r.number, "plan", r.planner, self.providers[r.planner], self.conversation.plan(r)
            )
            if done is None:
                return False
            self.emit(PlanReady(round=r.number, model=r.planner, text=done.text))
        if self.hold_plan:
            return False
        self.approve_plan()
        return True

    def tool_session(self) -> ToolSession | None:
        """The read-only tools of one step (a fresh listing and budget), when offered."""
        if self.tool_bounds is None:
            return None
        return ToolSession.of(self.workspace, self.context_rules, self.tool_bounds)

    async def generate(self) -> bool:
        r = self.current
        parser = EditStreamParser(self.workspace.list_files())
        done = await self.model_call.stream(
            r.number, "generate", r.generator, self.providers[r.generator],
            self.conversation.generate(r), on_text=parser.feed, tools=self.tool_session(),
        )
        if done is None:
            return False
        parser.close()
        self.emit(self.outputs.proposal(r, done.text, parser))
        return True

    async def review(self, spec: str) -> bool:
        """One reviewer's review. A weak answer (`core/review_quality.py`) is asked again
        once, with a firmer instruction (`ReviewRetried`, journaled: a resumed session goes
        on with the retry); a retry still weak is kept, marked weak."""
        r = self.current
        while True:
            retried = spec in r.retries
            done = await self.model_call.stream(
                r.number, "review", spec, self.providers[spec], self.conversation.review(r, spec),
                tools=self.tool_session(),
            )
            if done is None:
                return False
            review = self.outputs.review(r, spec, done)
            if review is None:
                self.model_call.fail(r.number, "review", spec, "bad-output", BAD_REVIEW, True, done.text)
                return False
            quality = judge_review(review.summary, len(review.findings), self.conversation.shown_change(r))
            if quality.weak and not retried:
                self.emit(ReviewRetried(round=r.number, reviewer=spec, reason=quality.reason or "",
                                        summary=review.summary, verdict=review.verdict))
                continue
            self.emit(review.model_copy(
                update={"retried": retried, "weak": quality.weak, "weak_reason": quality.reason}
            ))
            return True

    async def respond(self) -> bool:
        r = self.current
        if not r.findings:
            self.emit(ResponseReady(round=r.number, model=r.generator, responses=[]))
            return True
        done = await self.model_call.stream(
            r.number, "respond", r.generator, self.providers[r.generator], self.conversation.respond(r),
            tools=self.tool_session(),  # to check a finding's claim before it agrees or disputes
        )
        if done is None:
            return False
        response = self.outputs.response(r, done)
        if response is None:
            self.model_call.fail(r.number, "respond", r.generator, "bad-output", BAD_RESPONSE, True, done.text)
            return False
        self.emit(response)
        return True

    async def run_checks(self) -> bool:
        """The checks on the round's proposal: their new failures become findings."""
        r = self.current
        assert self.checks is not None and r.proposal is not None
        await self.checks.run(self.emit, r.number, r.proposal.files)
        return True

    async def check_selection(
        self,
        hunk_ids: Collection[str] | None = None,
        *,
        lines: Mapping[str, Collection[int]] | None = None,
    ) -> ChecksReady | None:
        """The checks on exactly the hunks about to be applied (None: no checks); `lines`
        chooses some changed lines of a hunk, as in `apply`."""
        r = self.session.last_proposal_round
        if self.checks is None or r is None or r.changeset is None:
            return None
        changeset = r.changeset
        ids = [h.id for h in changeset.hunks] if hunk_ids is None else list(hunk_ids)
        chosen: dict[str, Collection[int]] = {}
        for hunk in changeset.hunks:
            if hunk.id in ids:
                every = changed_lines(hunk)
                chosen[hunk.id] = sorted(set(lines[hunk.id]) & set(every)) if lines and hunk.id in lines else every
        return await self.checks.run(self.emit, r.number, apply_selection(changeset, chosen), selection=ids)

    async def rerun_checks(self) -> bool:
        """The checks again on the current round's proposal (the working tree under it may have
        changed). An aligned round is aligned again with their new failures; a cluster with the
        same models' findings keeps its verdict and note, the same failure the generator's answer."""
        r = self.current
        if self.checks is None or r.proposal is None:
            raise SessionError(f"round {r.number} has no proposal to check" if self.checks else "checks are off")
        aligned = r.aligned
        kept = {key: (c.verdict, c.note) for c in r.clusters if aligned and (key := _models_key(c))}
        answered = {(f.id, f.title): (f.stance, f.reply) for c in r.clusters for f in c.findings if is_check(f.reviewer)}
        await self.run_checks()
        for finding in r.checks.findings if r.checks is not None else ():
            # the same failure again: the generator's answer to it still holds
            finding.stance, finding.reply = answered.get((finding.id, finding.title), (finding.stance, finding.reply))
        if aligned:
            self.align(kept)
        return True

    def align(self, kept: Mapping[frozenset[str], tuple[Verdict, str | None]] | None = None) -> None:
        """Cluster the round's findings; `kept` gives verdicts and notes back to clusters of the
        same models' findings (re-aligning after the checks ran again)."""
        r = self.current
        models = [f for f in r.findings if not is_check(f.reviewer)]
        clusters, suppressed = align(
            models, r.reviewers, r.number, rejected=self.session.rejected_before(r.number)
        )
        if r.checks is not None and r.checks.findings:
            clusters = join_checks(clusters, r.checks.findings, r.reviewers, r.number)
        for cluster in clusters:
            verdict_note = (kept or {}).get(_models_key(cluster))
            if verdict_note is not None:
                cluster.verdict, cluster.note = verdict_note
        self.emit(ClustersReady(round=r.number, clusters=clusters, suppressed=suppressed))


def _models_key(cluster: Cluster) -> frozenset[str]:
    """A cluster's models' findings (not the checks'): what its verdict was given on."""
    return frozenset(f.id for f in cluster.findings if not is_check(f.reviewer))
