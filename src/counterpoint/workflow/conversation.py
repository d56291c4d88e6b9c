"""What each request holds: the system prompt, the stable context prefix and the conversation.

Prompt caching pays only for a prefix sent again byte for byte, so every request is built
to extend an earlier one: the context (repository map, files, task, then the plan) is read
once per session and comes first; a generator or responder request carries the generator's
whole conversation so far (each earlier round's instructions, proposal, findings and its
answer to them), and a reviewer's request carries that reviewer's own earlier reviews. The
prompt-cache bench (`bench/bench_prompt_cache.py`) and the tests check the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from counterpoint.core import prompts
from counterpoint.core.changeset import ChangeSet
from counterpoint.core.context import ContextBundle, ContextRules
from counterpoint.core.edits import EditStreamParser
from counterpoint.core.events import ResponseReady, ReviewReady
from counterpoint.core.findings import FindingOutput, response_schema, review_schema
from counterpoint.core.session import RoundState, Session
from counterpoint.providers.base import FindingVerdict, Message, ModelRequest
from counterpoint.workflow.context import gather_context, gather_more
from counterpoint.workspace import Workspace


class Conversation:
    """Builds the requests of one session's steps."""

    def __init__(self, session: Session, workspace: Workspace, rules: ContextRules) -> None:
        self.session = session
        self.workspace = workspace
        self.rules = rules
        self._context: tuple[str, ...] | None = None
        self.context_omitted: dict[str, str] = {}
        """Files left out of the context, with the reason (once `context()` has run)."""
        self.bundle: ContextBundle | None = None
        """What the context sends, and why (once `context()` has run)."""
        self.context_whole: tuple[str, ...] = ()
        """The files the context sends whole (once `context()` has run)."""
        self._plan_files: tuple[str, str, tuple[str, ...]] | None = None
        """(the plan, its block of more files, their paths)."""
        self.announce: Callable[[int], None] | None = None
        """Told how many files a first index of the repository parses (`gather_context`):
        the headless runner says so on stderr, the TUI in a toast (seconds, on a large one)."""

    # -- the requests ------------------------------------------------------------------
    def plan(self, r: RoundState) -> ModelRequest:
        return ModelRequest(
            role="planner",
            system=prompts.PLANNER_SYSTEM,
            context=self.context(),
            messages=(Message("user", "Write the plan."),),
            round=r.number,
        )

    def generate(self, r: RoundState) -> ModelRequest:
        return ModelRequest(
            role="generator",
            system=prompts.GENERATOR_SYSTEM,
            context=self.context(),
            messages=tuple(self._generator_messages(r)),
            round=r.number,
            verdicts=self.verdicts(r),
        )

    def review(self, r: RoundState, spec: str) -> ModelRequest:
        """The reviewer's request; after a weak first answer (`r.retries`), the same request
        extended with that answer and the firmer instruction that names the files."""
        messages = self._reviewer_messages(r, spec)
        retry = r.retries.get(spec)
        if retry is not None:
            weak = {"summary": retry.summary, "verdict": retry.verdict, "findings": []}
            paths = [f.path for f in self.shown_change(r).files]
            messages.append(Message("assistant", json.dumps(weak)))
            messages.append(Message("user", prompts.firmer_review_message(retry.reason, paths)))
        return ModelRequest(
            role="reviewer",
            system=prompts.REVIEWER_SYSTEM,
            context=self.context(),
            messages=tuple(messages),
            schema=review_schema(),
            schema_name="submit_review",
            round=r.number,
            verdicts=self.verdicts(r),
        )

    def respond(self, r: RoundState) -> ModelRequest:
        messages = self._generator_messages(r)
        if r.proposal is not None:
            messages.append(Message("assistant", r.proposal.text))
        first = all(self._answer(earlier) is None for earlier in self._chain(r)[:-1])
        messages.append(Message("user", prompts.respond_message(r.findings, first=first)))
        return ModelRequest(
            role="responder",
            system=prompts.GENERATOR_SYSTEM,
            context=self.context(),
            messages=tuple(messages),
            schema=response_schema(),
            schema_name="submit_responses",
            round=r.number,
            verdicts=self.verdicts(r),
        )

    def verdicts(self, r: RoundState) -> tuple[FindingVerdict, ...]:
        """The human's verdicts on the round `r` revises (none for a first round)."""
        if not r.builds_on:
            return ()
        return tuple(
            FindingVerdict(
                cluster_id=c.id,
                finding_ids=tuple(f.id for f in c.findings),
                verdict=c.verdict,
                title=c.title,
                note=c.note,
            )
            for c in self.session.round(r.builds_on).clusters
        )

    # -- the stable prefix -------------------------------------------------------------
    def context(self) -> tuple[str, ...]:
        """The stable prefix of every request: repository map, files and task (+ plan)."""
        if self._context is None:
            bundle = gather_context(self.workspace, self.session.task, self.rules,
                                    forced=self.session.context_files,
                                    dropped=self.session.context_dropped,
                                    announce=self.announce)
            self.bundle = bundle
            self.context_omitted = dict(bundle.omitted)
            self.context_whole = tuple(f.path for f in bundle.files if not f.partial)
            self._context = tuple(bundle.blocks)
        plan = self.session.rounds[0].followed_plan if self.session.rounds else None
        if plan:
            blocks = (*self._context, prompts.task_block("(see above)", plan))
            more = self._more_for_plan(plan)
            return (*blocks, more) if more else blocks
        return self._context

    def forget_context(self) -> None:
        """The human changed the context: choose it again for the next request. (The
        models' cached prefix starts anew; the human's choice comes first.)"""
        self._context = None
        self._plan_files = None

    def _more_for_plan(self, plan: str) -> str:
        """The files the plan is about that the context (chosen for the task) did not send;
        the plan never changes once written, so neither does this block."""
        if self._plan_files is None or self._plan_files[0] != plan:
            block, files = gather_more(self.workspace, plan, self.rules,
                                       already=sorted(self._not_again()), heading="plan")
            self._plan_files = (plan, block, tuple(f.path for f in files))
        return self._plan_files[1]

    def _not_again(self) -> set[str]:
        """Files no later block may add: sent whole already, or dropped by the human. A file
        sent in part may come again, as its definitions that the later text is about."""
        return {*self.context_whole, *self.session.context_dropped}

    def more_for_findings(self, r: RoundState) -> str:
        """For the revise message: the files the accepted findings of `r` point at or talk
        about that neither the context nor the plan's block sent, and that the proposal does
        not edit (the generator's own edits are in its conversation)."""
        accepted = [c for c in r.clusters if c.verdict == "accepted"]
        if not accepted:
            return ""
        self.context()
        text = "\n".join(
            "\n".join([f"{c.path} {c.title}", *(f.rationale for f in c.findings),
                       *(f.suggestion or "" for f in c.findings)])
            for c in accepted
        )
        already = {*self._not_again(), *(self._plan_files[2] if self._plan_files else ())}
        if r.changeset is not None:
            already |= {f.path for f in r.changeset.files}
        block, _ = gather_more(self.workspace, text, self.rules, already=sorted(already),
                               heading="round's findings")
        return block

    # -- the conversations -------------------------------------------------------------
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
        first = True
        for earlier in self._chain(r):
            messages.append(
                Message("user", earlier.instructions or prompts.generate_message(earlier.number))
            )
            if earlier is r or earlier.proposal is None:
                continue
            messages.append(Message("assistant", earlier.proposal.text))
            answer = self._answer(earlier)
            if answer is not None:
                asked = prompts.respond_message(earlier.findings, first=first)
                messages.append(Message("user", asked))
                messages.append(Message("assistant", _responses_json(answer)))
                first = False
        return messages

    @staticmethod
    def _answer(r: RoundState) -> ResponseReady | None:
        """The generator's answer to round `r`'s findings, when its conversation holds them
        and the answer (a proposal was made, there were findings, it answered)."""
        return r.response if r.proposal is not None and r.findings else None

    def asked(self, r: RoundState) -> set[str]:
        """The ids of the findings of `r` that the generator's conversation, from the next
        round on, shows it in `r`'s respond prompt (the revise message need not repeat them)."""
        return {f.id for f in r.findings} if self._answer(r) is not None else set()

    def _reviewer_messages(self, r: RoundState, spec: str) -> list[Message]:
        messages: list[Message] = []
        for earlier in self._chain(r):
            if earlier.proposal is None:
                continue
            messages.append(Message("user", self._review_message(earlier)))
            if earlier is not r and spec in earlier.reviews:
                messages.append(Message("assistant", _review_json(earlier.reviews[spec])))
        return messages

    def shown_change(self, r: RoundState) -> ChangeSet:
        """The change a reviewer of round `r` is shown: the proposal's in round 1, what
        changed since the previous round's proposal in a revision."""
        assert r.changeset is not None
        previous = self.session.round(r.builds_on) if r.builds_on else None
        if previous is not None and previous.changeset is not None:
            return r.changeset.since(previous.changeset)
        return r.changeset

    def _review_message(self, r: RoundState) -> str:
        """Round 1: the diff and the proposed files with line numbers. Later rounds build on
        what the reviewer already saw: only what changed since, with new line numbers."""
        assert r.proposal is not None and r.changeset is not None
        explain = EditStreamParser()
        explain.feed(r.proposal.text)
        explain.close()
        if r.builds_on and self.session.round(r.builds_on).changeset is not None:
            return prompts.revision_review_message(
                r.number, r.builds_on, explain.explanation, self.shown_change(r)
            )
        touched = {f.path: f.new for f in r.changeset.files}
        return prompts.review_message(r.number, explain.explanation, r.changeset.diff(), touched)


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
