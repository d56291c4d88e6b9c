"""The orchestrator: runs plan → generate → review × N → respond → align, round after round.

It owns the concurrency (reviewers run at the same time), turns provider output into domain
events, and emits every event to the journal, the session state and its listeners (the
headless printer or the TUI) in that order. It never writes to the working tree except in
`apply`, which the human (or an explicit `--apply`) asks for.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from counterpoint import __version__
from counterpoint.core import prompts
from counterpoint.core.alignment import align
from counterpoint.core.context import (
    ContextRules,
    build_context,
    looks_secret,
    rule_reason,
    select_files,
)
from counterpoint.core.edits import EditBlock, EditStreamParser, apply_edit_blocks
from counterpoint.core.events import (
    Applied,
    ClustersReady,
    Delta,
    FailedEditRecord,
    NoteSet,
    PlanReady,
    ProposalReady,
    ResponseReady,
    ReviewReady,
    RolesSwapped,
    RoundFinished,
    RoundStarted,
    SessionFinished,
    SessionStarted,
    Step,
    StepFailed,
    StepStarted,
    Undone,
    UsageRecorded,
    VerdictSet,
)
from counterpoint.core.findings import (
    Finding,
    FindingOutput,
    StanceOutput,
    Verdict,
    finding_id,
    response_schema,
    review_schema,
)
from counterpoint.core.journal import Journal, JournalError, read_journal
from counterpoint.core.model_json import find_json
from counterpoint.core.pricing import DEFAULT_PRICES, Price, cost_usd
from counterpoint.core.session import RoundState, Session
from counterpoint.paths import sessions_dir
from counterpoint.providers.base import (
    Completion,
    Message,
    ModelRequest,
    Provider,
    ProviderError,
    TextDelta,
)
from counterpoint.workspace import UnsafePath, Workspace, WorkspaceError

Listener = Callable[[Any], None]
ProviderFactory = Callable[[str], Provider]


class SessionError(Exception):
    """A session cannot start, resume or go on; the message says why."""


def new_session_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def journal_path(session_id: str) -> Path:
    return sessions_dir() / f"{session_id}.jsonl"


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
    ) -> None:
        self.session = session
        self.workspace = workspace
        self.providers = providers
        self.journal = journal
        self.prices = prices if prices is not None else dict(DEFAULT_PRICES)
        self.context_rules = context_rules or ContextRules()
        self.listeners: list[Listener] = []
        self.round_runner: Callable[[], Awaitable[bool]] | None = None
        """What runs a round's remaining steps (`run_round` when None). The TUI sets its
        own, which runs each step in its pane's worker; revise, swap and retry use it."""
        self._context: tuple[str, ...] | None = None
        self.context_omitted: dict[str, str] = {}

    # -- creation ----------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        *,
        workspace: Workspace,
        task: str,
        generator: str,
        reviewers: Sequence[str],
        make_provider: ProviderFactory,
        planner: str | None = None,
        rounds: int = 1,
        prices: dict[str, Price] | None = None,
        context_rules: ContextRules | None = None,
        speed: float | None = None,
        listeners: Sequence[Listener] = (),
        session_id: str | None = None,
    ) -> Orchestrator:
        if not task.strip():
            raise SessionError("the task is empty: say what the generator should do")
        if not reviewers:
            raise SessionError("a session needs at least one reviewer (--reviewer SPEC)")
        built: dict[str, Provider] = {}
        sources: dict[str, str] = {}
        names: list[str] = []
        for given in [generator, *reviewers, *([planner] if planner else [])]:
            provider = make_provider(given)
            built[provider.spec] = provider
            if provider.spec != given:
                sources[provider.spec] = given
            names.append(provider.spec)
        gen_spec, rev_specs = names[0], names[1 : 1 + len(reviewers)]
        plan_spec = names[-1] if planner else None
        if len(set(rev_specs)) != len(rev_specs):
            raise SessionError("the same reviewer is named twice; name each reviewer once")
        session_id = session_id or new_session_id()
        journal = Journal(journal_path(session_id))
        orch = cls(
            Session(),
            workspace=workspace,
            providers=built,
            journal=journal,
            prices=prices,
            context_rules=context_rules,
        )
        orch.listeners.extend(listeners)
        orch.emit(
            SessionStarted(
                session_id=session_id,
                repo=str(workspace.root),
                repo_name=workspace.name,
                branch=workspace.branch,
                head=workspace.head,
                task=task,
                generator=gen_spec,
                reviewers=rev_specs,
                planner=plan_spec,
                rounds=rounds,
                sources=sources,
                speed=speed,
                version=__version__,
            )
        )
        orch.start_round()
        return orch

    @classmethod
    def resume(
        cls,
        session_id: str,
        *,
        make_provider: Callable[[str, float | None], Provider],
        prices: dict[str, Price] | None = None,
        context_rules: ContextRules | None = None,
    ) -> tuple[Orchestrator, list[str]]:
        """Rebuild a session from its journal. Returns it with the journal's problems."""
        path = journal_path(session_id)
        try:
            contents = read_journal(path)
        except JournalError as exc:
            raise SessionError(str(exc)) from None
        session = Session.from_events(contents.events)
        if session.meta is None:
            raise SessionError(f"{path} does not start with a session; it cannot be resumed")
        try:
            workspace = Workspace.open(session.meta.repo)
        except WorkspaceError as exc:
            raise SessionError(
                f"session {session_id} ran in {session.meta.repo}, which is gone or not a "
                f"git repository any more ({exc})"
            ) from None
        specs = {session.meta.generator, *session.meta.reviewers, session.generator}
        specs |= set(session.reviewers)
        if session.meta.planner:
            specs.add(session.meta.planner)
        providers: dict[str, Provider] = {}
        for spec in sorted(specs):
            provider = make_provider(session.meta.sources.get(spec, spec), session.meta.speed)
            rewind = getattr(provider, "rewind_to", None)
            if rewind is not None:
                try:
                    rewind(session.played(spec))
                except ProviderError as exc:
                    raise SessionError(f"session {session_id} cannot be replayed: {exc}") from None
            providers[spec] = provider
        orch = cls(
            session,
            workspace=workspace,
            providers=providers,
            journal=Journal(path),
            prices=prices,
            context_rules=context_rules,
        )
        if session.state != "running":
            session.state = "running"
        return orch, contents.problems

    # -- events ------------------------------------------------------------------------
    def emit(self, event: Any) -> None:
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

    async def run_round(self) -> bool:
        """Run every step of the current round that has not completed. True when aligned."""
        r = self.current
        if r.planner and r.plan is None:
            if not await self.plan():
                return False
        if r.proposal is None and not await self.generate():
            return False
        missing = [spec for spec in r.reviewers if spec not in r.reviews]
        if missing:
            results = await asyncio.gather(*(self.review(spec) for spec in missing))
            if not all(results):
                return False
        if r.response is None and not await self.respond():
            return False
        if not r.aligned:
            self.align()
        return True

    async def revise(self) -> bool:
        """A new round: the accepted findings and the notes go back to the generator."""
        r = self.current
        if r.proposal is None or not r.aligned:
            raise SessionError(f"round {r.number} is not reviewed yet; nothing to revise")
        failed = [(f.path, f.reason) for f in r.proposal.failed_edits]
        instructions = prompts.revise_message(r.clusters, failed)
        self.start_round(instructions, builds_on=r.number)
        return await self._run_remaining()

    async def swap_roles(self) -> bool:
        """Swap the generator and the first reviewer, and run the current round again."""
        r = self.current
        if not self.session.reviewers:
            raise SessionError("there is no reviewer to swap with")
        old_gen, revs = self.session.generator, list(self.session.reviewers)
        self.emit(RolesSwapped(generator=revs[0], reviewers=[old_gen, *revs[1:]]))
        self.start_round(r.instructions, builds_on=r.builds_on)
        return await self._run_remaining()

    def finish(self, state: str = "done") -> None:
        r = self.session.current
        if r is not None and not r.finished:
            self.emit(RoundFinished(round=r.number))
        self.emit(SessionFinished(state=state))  # type: ignore[arg-type]

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
    def apply(self, hunk_ids: Collection[str] | None = None, *, commit: bool = False) -> Applied:
        r = self.session.last_proposal_round
        if r is None or r.changeset is None or r.proposal is None:
            raise SessionError("there is no proposal to apply yet")
        changeset = r.changeset
        ids = [h.id for h in changeset.hunks] if hunk_ids is None else list(hunk_ids)
        unknown = [i for i in ids if changeset.hunk(i) is None]
        if unknown:
            raise SessionError(f"round {r.number} has no hunk {', '.join(unknown)}")
        changes = changeset.select(ids)
        if not changes:
            raise SessionError("no hunk selected: nothing to apply")
        base = {path: r.proposal.base.get(path) for path in changes}
        record = self.workspace.apply(
            changes, base, session_id=self.session.id, round=r.number, hunk_ids=ids
        )
        sha = None
        if commit:
            sha = self.workspace.commit(
                record,
                self._commit_message(),
                generator=r.generator,
                reviewers=r.reviewers,
            )
        event = Applied(
            round=r.number,
            files=list(record.files),
            hunk_ids=ids,
            undo_id=record.undo_id,
            commit=sha,
        )
        self.emit(event)
        return event

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

    # -- context -----------------------------------------------------------------------
    def context(self) -> tuple[str, ...]:
        """The stable prefix of every request: repository map, files and task (+ plan)."""
        if self._context is None:
            all_paths = self.workspace.list_files()
            targets = self.workspace.link_targets(all_paths)
            chosen = select_files(self.session.task, all_paths, self.context_rules, targets=targets)
            files: dict[str, str] = {}
            for path in chosen:
                try:
                    text = self.workspace.read_text(path)
                except (WorkspaceError, OSError, UnicodeDecodeError):
                    continue  # binary, a folder, a special file: not context
                if text is not None:
                    files[path] = text
            bundle = build_context(
                self.session.task, files, all_paths, self.context_rules, targets=targets
            )
            self.context_omitted = dict(bundle.omitted)
            self._context = tuple(bundle.blocks)
        plan = self.session.rounds[0].plan if self.session.rounds else None
        if plan:
            return (*self._context, prompts.task_block("(see above)", plan))
        return self._context

    def _chain(self, r: RoundState) -> list[RoundState]:
        """The rounds whose proposals led to `r`, oldest first, ending with `r`."""
        chain = [r]
        while chain[0].builds_on:
            chain.insert(0, self.session.round(chain[0].builds_on))
        return chain

    def _generator_messages(self, r: RoundState) -> list[Message]:
        """The generator's conversation up to round `r`'s request. Earlier rounds keep their
        proposal and the generator's answer to the findings, so every generator and
        responder request extends the previous one byte for byte (prompt caching)."""
        messages: list[Message] = []
        for step in self._chain(r):
            messages.append(
                Message("user", step.instructions or prompts.generate_message(step.number))
            )
            if step is r or step.proposal is None:
                continue
            messages.append(Message("assistant", step.proposal.text))
            if step.response is not None and step.findings:
                messages.append(Message("user", prompts.respond_message(step.findings)))
                messages.append(Message("assistant", _responses_json(step.response)))
        return messages

    # -- steps -------------------------------------------------------------------------
    async def _stream(
        self, step: Step, spec: str, request: ModelRequest, on_text: Callable[[str], object] | None = None
    ) -> Completion | None:
        r = self.current
        provider = self.providers[spec]
        self.emit(StepStarted(round=r.number, step=step, model=spec))
        received: list[str] = []
        try:
            async for item in provider.stream(request):
                if isinstance(item, TextDelta):
                    if not item.text:
                        continue
                    received.append(item.text)
                    self.emit(Delta(round=r.number, step=step, model=spec, text=item.text))
                    if on_text is not None:
                        on_text(item.text)
                elif isinstance(item, Completion):
                    self._record_usage(r.number, step, spec, item)
                    return item
            raise ProviderError(
                provider=provider.provider,
                model=provider.model,
                kind="incomplete",
                message="the stream ended without a completion",
            )
        except ProviderError as exc:
            self._fail(step, spec, exc.kind, exc.message, exc.retryable, exc.partial_text or "".join(received))
        except asyncio.CancelledError:
            self._fail(step, spec, "cancelled", "the step was cancelled", True, "".join(received))
            raise
        except Exception as exc:  # a provider bug must not take the session down
            self._fail(step, spec, "internal", f"{type(exc).__name__}: {exc}", True, "".join(received))
        return None

    def _fail(self, step: Step, spec: str, kind: str, message: str, retryable: bool, partial: str) -> None:
        self.emit(
            StepFailed(
                round=self.current.number,
                step=step,
                model=spec,
                kind=kind,
                message=message,
                retryable=retryable,
                partial_text=partial,
            )
        )

    def _record_usage(self, round_no: int, step: Step, spec: str, completion: Completion) -> None:
        u = completion.usage
        self.emit(
            UsageRecorded(
                round=round_no,
                step=step,
                model=spec,
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cached_input_tokens=u.cached_input_tokens,
                cache_write_tokens=u.cache_write_tokens,
                cost_usd=cost_usd(spec, u, self.prices),
            )
        )

    async def plan(self) -> bool:
        r = self.current
        assert r.planner
        request = ModelRequest(
            role="planner",
            system=prompts.PLANNER_SYSTEM,
            context=self.context(),
            messages=(Message("user", "Write the plan."),),
            round=r.number,
        )
        done = await self._stream("plan", r.planner, request)
        if done is None:
            return False
        self.emit(PlanReady(round=r.number, model=r.planner, text=done.text))
        return True

    async def generate(self) -> bool:
        r = self.current
        request = ModelRequest(
            role="generator",
            system=prompts.GENERATOR_SYSTEM,
            context=self.context(),
            messages=tuple(self._generator_messages(r)),
            round=r.number,
        )
        parser = EditStreamParser()
        done = await self._stream("generate", r.generator, request, on_text=parser.feed)
        if done is None:
            return False
        parser.close()
        self.emit(self._proposal(r, done.text, parser))
        return True

    def _proposal(self, r: RoundState, text: str, parser: EditStreamParser) -> ProposalReady:
        previous = self.session.round(r.builds_on).proposal if r.builds_on else None
        base: dict[str, str | None] = dict(previous.base) if previous else {}
        current: dict[str, str | None] = dict(previous.files) if previous else {}
        failed: list[FailedEditRecord] = [
            FailedEditRecord(index=-1, path="", reason=reason, search="", replace="")
            for reason in parser.malformed
        ]
        blocks: list[EditBlock] = []
        for block in parser.blocks:
            try:
                path = self.workspace.safe_path(block.path)
            except UnsafePath as exc:
                failed.append(_failed(block, str(exc)))
                continue
            if path not in current:
                try:
                    content = self.workspace.read_text(path)
                except (WorkspaceError, OSError, UnicodeDecodeError) as exc:
                    failed.append(_failed(block, f"{path} cannot be read: {exc}"))
                    continue
                refused = self._not_shared(path, content)
                if refused is not None:
                    failed.append(_failed(block, refused))
                    continue
                base[path] = content
                current[path] = content
            blocks.append(replace(block, path=path))
        touched = {b.path: current[b.path] for b in blocks}
        outcome = apply_edit_blocks(touched, blocks)
        failed.extend(_failed(f.block, f.reason) for f in outcome.failed)
        failed.sort(key=lambda f: f.index)
        files = dict(current)
        files.update(outcome.files)
        return ProposalReady(
            round=r.number,
            model=r.generator,
            text=text,
            base={p: base.get(p) for p in files},
            files=files,
            edits=len(parser.blocks),
            failed_edits=failed,
        )

    def _not_shared(self, path: str, content: str | None) -> str | None:
        """Why an existing file may not enter a proposal, else None.

        A proposal's files go back to the models (review, revise), so a file that is never
        sent to them (secret-looking, excluded, ignored by git) cannot be edited by a model,
        even when its edit block only guesses at the content. A symlink is judged by its
        target as well as its own name.
        """
        if content is None:
            return None  # a new file: its content is the model's own
        target = self.workspace.target_of(path)
        reason = rule_reason(path, self.context_rules, target)
        if reason is None and looks_secret(content):
            reason = "its content looks like a secret"
        if reason is None and any(self.workspace.is_ignored(p) for p in {path, target}):
            reason = "ignored by git"
        if reason is None:
            return None
        return f"{path} is not shared with models ({reason}); edit it yourself"

    def _reviewer_messages(self, r: RoundState, spec: str) -> list[Message]:
        messages: list[Message] = []
        for step in self._chain(r):
            if step.proposal is None:
                continue
            messages.append(Message("user", self._review_message(step)))
            if step is not r and spec in step.reviews:
                review = step.reviews[spec]
                messages.append(Message("assistant", _review_json(review)))
        return messages

    def _review_message(self, r: RoundState) -> str:
        """Round 1: the diff and the proposed files with line numbers. Later rounds build on
        what the reviewer already saw: only what changed since, with new line numbers."""
        assert r.proposal is not None and r.changeset is not None
        explain = EditStreamParser()
        explain.feed(r.proposal.text)
        explain.close()
        previous = self.session.round(r.builds_on) if r.builds_on else None
        if previous is not None and previous.changeset is not None:
            since = r.changeset.since(previous.changeset)
            return prompts.revision_review_message(
                r.number, previous.number, explain.explanation, since
            )
        touched = {f.path: f.new for f in r.changeset.files}
        return prompts.review_message(r.number, explain.explanation, r.changeset.diff(), touched)

    async def review(self, spec: str) -> bool:
        r = self.current
        request = ModelRequest(
            role="reviewer",
            system=prompts.REVIEWER_SYSTEM,
            context=self.context(),
            messages=tuple(self._reviewer_messages(r, spec)),
            schema=review_schema(),
            schema_name="submit_review",
            round=r.number,
        )
        done = await self._stream("review", spec, request)
        if done is None:
            return False
        data = done.data if done.data is not None else find_json(done.text, review_schema())
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            self._fail("review", spec, "bad-output", "the review is not a JSON object with a findings list", True, done.text)
            return False
        findings, dropped = self._findings(r, spec, data["findings"])
        verdict = data.get("verdict")
        self.emit(
            ReviewReady(
                round=r.number,
                reviewer=spec,
                summary=str(data.get("summary") or ""),
                verdict=verdict if verdict in ("approve", "needs-changes") else "needs-changes",
                findings=findings,
                dropped=dropped,
            )
        )
        return True

    def _findings(self, r: RoundState, spec: str, items: list[Any]) -> tuple[list[Finding], list[str]]:
        index = r.reviewers.index(spec)
        files = r.proposal.files if r.proposal else {}
        kept: list[Finding] = []
        dropped: list[str] = []
        for n, item in enumerate(items, start=1):
            try:
                out = FindingOutput.model_validate(_tidy_finding(item))
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"])
                dropped.append(f"finding {n}: {where}: {first['msg']}")
                continue
            finding = Finding(
                id=finding_id(r.number, index, len(kept) + 1),
                round=r.number,
                reviewer=spec,
                **out.model_dump(),
            )
            finding.location_problem = self._location_problem(finding, files)
            kept.append(finding)
        return kept, dropped

    def _location_problem(self, f: Finding, files: dict[str, str | None]) -> str | None:
        try:
            path = self.workspace.safe_path(f.path)
        except UnsafePath as exc:
            return str(exc)
        if path != f.path:
            f.path = path
        try:
            text = files[path] if path in files else self.workspace.read_text(path)
        except (WorkspaceError, OSError, UnicodeDecodeError):
            text = None
        if text is None:
            return f"{path} is not in the proposal or the repository"
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if f.start_line < 1 or f.end_line > max(lines, 1):
            return f"lines {f.start_line}-{f.end_line} are outside {path} ({lines} lines)"
        return None

    async def respond(self) -> bool:
        r = self.current
        findings = r.findings
        if not findings:
            self.emit(ResponseReady(round=r.number, model=r.generator, responses=[]))
            return True
        messages = self._generator_messages(r)
        if r.proposal is not None:
            messages.append(Message("assistant", r.proposal.text))
        messages.append(Message("user", prompts.respond_message(findings)))
        request = ModelRequest(
            role="responder",
            system=prompts.GENERATOR_SYSTEM,
            context=self.context(),
            messages=tuple(messages),
            schema=response_schema(),
            schema_name="submit_responses",
            round=r.number,
        )
        done = await self._stream("respond", r.generator, request)
        if done is None:
            return False
        data = done.data if done.data is not None else find_json(done.text, response_schema())
        known = {f.id for f in findings}
        responses: list[StanceOutput] = []
        for item in (data or {}).get("responses", []) if isinstance(data, dict) else []:
            try:
                stance = StanceOutput.model_validate(item)
            except ValidationError:
                continue
            if stance.finding_id in known:
                responses.append(stance)
        if isinstance(data, dict) and "responses" in data:
            self.emit(ResponseReady(round=r.number, model=r.generator, responses=responses))
            return True
        self._fail("respond", r.generator, "bad-output", "the response is not a JSON object with a responses list", True, done.text)
        return False

    def align(self) -> None:
        r = self.current
        clusters, suppressed = align(
            r.findings, r.reviewers, r.number, rejected=self.session.rejected_before(r.number)
        )
        self.emit(ClustersReady(round=r.number, clusters=clusters, suppressed=suppressed))

    async def retry(self) -> bool:
        """Run the failed steps of the current round again (and whatever follows them)."""
        return await self._run_remaining()

    async def _run_remaining(self) -> bool:
        return await (self.round_runner or self.run_round)()


def _failed(block: EditBlock, reason: str) -> FailedEditRecord:
    return FailedEditRecord(
        index=block.index, path=block.path, reason=reason, search=block.search, replace=block.replace
    )


def _responses_json(response: ResponseReady) -> str:
    return json.dumps({"responses": [s.model_dump() for s in response.responses]})


def _review_json(review: ReviewReady) -> str:
    return json.dumps(
        {
            "summary": review.summary,
            "verdict": review.verdict,
            "findings": [
                f.model_dump(include=set(FindingOutput.model_fields)) for f in review.findings
            ],
        }
    )


def _tidy_finding(item: Any) -> Any:
    """Forgive what a reader would forgive: swapped lines, confidence out of range, extras."""
    if not isinstance(item, dict):
        return item
    allowed = set(FindingOutput.model_fields)
    out = {k: v for k, v in item.items() if k in allowed}
    out.setdefault("suggestion", None)
    out.setdefault("confidence", 0.5)
    if isinstance(out.get("confidence"), (int, float)):
        out["confidence"] = min(1.0, max(0.0, float(out["confidence"])))
    for key in ("severity", "category"):
        if isinstance(out.get(key), str):
            out[key] = out[key].strip().lower()
    start, end = out.get("start_line"), out.get("end_line")
    if isinstance(start, int) and isinstance(end, int) and start > end:
        out["start_line"], out["end_line"] = end, start
    if isinstance(start, int) and end is None:
        out["end_line"] = start
    return out
