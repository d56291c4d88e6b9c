"""Model output → domain events: the proposal, the findings of a review, the stances.

Model output is hostile data. Edit blocks may name paths outside the repository or files
that are never shared with models; findings may be malformed, misplaced or out of range;
JSON may arrive as a tool call, as the whole text, or fenced in prose. What a reader would
forgive is repaired (swapped lines, confidence out of range, extra keys), what cannot be
used is kept with a reason (a failed edit, a dropped finding, a location problem), and an
output that is not what was asked for at all is None (the step then fails as bad output).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from counterpoint.core.context import ContextRules, looks_secret, rule_reason
from counterpoint.core.edit_apply import apply_edit_blocks
from counterpoint.core.edits import EditBlock, EditStreamParser
from counterpoint.core.events import FailedEditRecord, ProposalReady, ResponseReady, ReviewReady
from counterpoint.core.findings import (
    Finding,
    FindingOutput,
    StanceOutput,
    finding_id,
    response_schema,
    review_schema,
)
from counterpoint.core.model_json import find_json
from counterpoint.core.session import RoundState, Session
from counterpoint.providers.base import Completion
from counterpoint.workspace import UnsafePath, Workspace, WorkspaceError

BAD_REVIEW = "the review is not a JSON object with a findings list"
BAD_RESPONSE = "the response is not a JSON object with a responses list"


class Outputs:
    """Reads one session's model output against its workspace and context rules."""

    def __init__(self, session: Session, workspace: Workspace, rules: ContextRules) -> None:
        self.session = session
        self.workspace = workspace
        self.rules = rules

    # -- the proposal ------------------------------------------------------------------
    def proposal(self, r: RoundState, text: str, parser: EditStreamParser) -> ProposalReady:
        """The generator's edit blocks applied in memory to the files (the previous round's
        proposal for a revision); blocks that cannot apply are failed edits with a reason."""
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
        failed.extend(_failed(f.block, f.reason, f.nearest, f.nearest_line) for f in outcome.failed)
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
        reason = rule_reason(path, self.rules, target)
        if reason is None and looks_secret(content):
            reason = "its content looks like a secret"
        if reason is None and any(self.workspace.is_ignored(p) for p in {path, target}):
            reason = "ignored by git"
        if reason is None:
            return None
        return f"{path} is not shared with models ({reason}); edit it yourself"

    # -- reviews -----------------------------------------------------------------------
    def review(self, r: RoundState, spec: str, done: Completion) -> ReviewReady | None:
        """The review in `done`, or None when it is not a JSON object with a findings list."""
        data = done.data if done.data is not None else find_json(done.text, review_schema())
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            return None
        findings, dropped = self._findings(r, spec, data["findings"])
        verdict = data.get("verdict")
        return ReviewReady(
            round=r.number,
            reviewer=spec,
            summary=str(data.get("summary") or ""),
            verdict=verdict if verdict in ("approve", "needs-changes") else "needs-changes",
            findings=findings,
            dropped=dropped,
        )

    def _findings(self, r: RoundState, spec: str, items: list[Any]) -> tuple[list[Finding], list[str]]:
        index = r.reviewers.index(spec)
        files = r.proposal.files if r.proposal else {}
        kept: list[Finding] = []
        dropped: list[str] = []
        places: dict[str, tuple[str, int | None]] = {}  # per path, once per review (5,000 findings)
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
            finding.location_problem = self._location_problem(finding, files, places)
            kept.append(finding)
        return kept, dropped

    def _location_problem(
        self, f: Finding, files: dict[str, str | None], where: dict[str, tuple[str, int | None]]
    ) -> str | None:
        """Why the finding's place is not in the proposal or the repository, else None.
        `where` remembers each path's check and line count across one review's findings."""
        if f.path not in where:
            where[f.path] = self._place(f.path, files)
        path, lines = where[f.path]
        if lines is None:
            return path  # the reason the path cannot be used
        if path != f.path:
            f.path = path
        if f.start_line < 1 or f.end_line > max(lines, 1):
            return f"lines {f.start_line}-{f.end_line} are outside {path} ({lines} lines)"
        return None

    def _place(self, given: str, files: dict[str, str | None]) -> tuple[str, int | None]:
        """(the safe path, its line count), or (the reason it is not usable, None)."""
        try:
            path = self.workspace.safe_path(given)
        except UnsafePath as exc:
            return str(exc), None
        try:
            text = files[path] if path in files else self.workspace.read_text(path)
        except (WorkspaceError, OSError, UnicodeDecodeError):
            text = None
        if text is None:
            return f"{path} is not in the proposal or the repository", None
        return path, text.count("\n") + (0 if text.endswith("\n") or not text else 1)

    # -- stances -----------------------------------------------------------------------
    def response(self, r: RoundState, done: Completion) -> ResponseReady | None:
        """The generator's stances on the round's findings (unknown ids and malformed
        stances left out), or None when `done` is not a JSON object with a responses list."""
        data = done.data if done.data is not None else find_json(done.text, response_schema())
        if not isinstance(data, dict) or not isinstance(data.get("responses"), list):
            return None  # `null`, a number, a string: not an answer to the findings
        known = {f.id for f in r.findings}
        responses: list[StanceOutput] = []
        for item in data["responses"]:
            try:
                stance = StanceOutput.model_validate(item)
            except ValidationError:
                continue
            if stance.finding_id in known:
                responses.append(stance)
        return ResponseReady(round=r.number, model=r.generator, responses=responses)


def _failed(block: EditBlock, reason: str, nearest: str = "", nearest_line: int = 0) -> FailedEditRecord:
    return FailedEditRecord(
        index=block.index, path=block.path, reason=reason, search=block.search, replace=block.replace,
        nearest=nearest, nearest_line=nearest_line,
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
