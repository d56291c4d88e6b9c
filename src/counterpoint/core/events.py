"""The typed events of a session.

The orchestrator emits them; the journal stores them one JSON object per line; the session
state is rebuilt by folding them (`Session.apply`); the headless printer and the TUI render
them. Each has an `event` name, the same word the headless JSON uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from counterpoint.core.findings import Cluster, Finding, StanceOutput, Verdict

StepKind = Literal["plan", "generate", "review", "respond", "align"]
"""What a step does (the `step` of step events); a round's steps as run are `RoundStep`s."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class _Event(BaseModel):
    at: str = Field(default_factory=now)


class SessionStarted(_Event):
    event: Literal["session_started"] = "session_started"
    session_id: str
    repo: str
    """Absolute path of the repository's working tree."""
    repo_name: str
    branch: str
    head: str | None
    task: str
    generator: str
    reviewers: list[str]
    planner: str | None = None
    rounds: int = 1
    """Rounds planned for a headless run; the TUI adds rounds with revise."""
    sources: dict[str, str] = {}
    """How to rebuild each model on resume, when it differs from its spec (replay:PATH)."""
    speed: float | None = None
    version: str = ""
    context_files: list[str] = []
    """Files the human added to the context (`--file`, the task screen): sent first."""
    context_dropped: list[str] = []
    """Files the human dropped from the context (`--no-file`): never sent."""
    tools: bool = False
    """The generator and the reviewers may call the read-only tools (`context.tools`)."""


class ContextEdited(_Event):
    """The human changed what the session sends (the workbench's context list): from the
    next round on, `files` are added and `dropped` never sent. Both lists are whole."""

    event: Literal["context_edited"] = "context_edited"
    files: list[str] = []
    dropped: list[str] = []


class RoundStarted(_Event):
    event: Literal["round_started"] = "round_started"
    round: int
    generator: str
    reviewers: list[str]
    planner: str | None = None
    instructions: str | None = None
    """For round 2+: the accepted findings and notes sent to the generator."""
    builds_on: int | None = None
    """The round whose proposal this round revises (None: the repository as it is)."""


class StepStarted(_Event):
    event: Literal["step_started"] = "step_started"
    round: int
    step: StepKind
    model: str


class Delta(_Event):
    event: Literal["delta"] = "delta"
    round: int
    step: StepKind
    model: str
    text: str


class ToolUsed(_Event):
    """A model called a read-only tool (`core/tools.py`) during a step; `result` is what it
    was sent (already cut to the step's bounds), shown in the model's pane."""

    event: Literal["tool_used"] = "tool_used"
    round: int
    step: StepKind
    model: str
    call: dict[str, Any]
    """{"id", "name", "arguments"}."""
    result: str
    truncated: bool = False
    refused: bool = False
    turn: int = 1
    """Which of the step's requests asked for it (1: the first); a step with N turns of
    tool calls made N + 1 requests (resume and cassette rewinds count them)."""


class PlanReady(_Event):
    """The planner's plan, as it wrote it (the human may still edit it before approving)."""

    event: Literal["plan_ready"] = "plan_ready"
    round: int
    model: str
    text: str


PlanSource = Literal["planner", "human", "file"]
"""Who wrote the plan the generator follows: the planner as is, the human editing it, or a
file the human passed (`--plan FILE`)."""


class PlanEdited(_Event):
    """The human's edit of the plan, not approved yet (a resume shows it for approval)."""

    event: Literal["plan_edited"] = "plan_edited"
    round: int
    text: str


class PlanApproved(_Event):
    """The plan the generator follows: approved by the human, or taken as written headless."""

    event: Literal["plan_approved"] = "plan_approved"
    round: int
    text: str
    source: PlanSource = "planner"


class FailedEditRecord(BaseModel):
    index: int
    path: str
    reason: str
    search: str
    replace: str
    nearest: str = ""
    """The lines of the file most like SEARCH, with a little context ('' if none)."""
    nearest_line: int = 0
    """The 1-based line where `nearest` starts (0 if none)."""


class ProposalReady(_Event):
    """The generator's proposal: its text, the base content of every file it touches (None
    for a file that did not exist), the new content (None for a deleted file) and the edits
    that failed to apply. The ChangeSet is rebuilt from `base` and `files`."""

    event: Literal["proposal_ready"] = "proposal_ready"
    round: int
    model: str
    text: str
    base: dict[str, str | None]
    files: dict[str, str | None]
    edits: int
    failed_edits: list[FailedEditRecord] = []


class ReviewReady(_Event):
    event: Literal["review_ready"] = "review_ready"
    round: int
    reviewer: str
    summary: str
    verdict: Literal["approve", "needs-changes"]
    findings: list[Finding]
    dropped: list[str] = []
    """Malformed findings that could not be kept, each with the reason."""
    retried: bool = False
    """The reviewer's first answer was weak and this is its answer to the firmer request."""
    weak: bool = False
    """Still weak after the retry (`core/review_quality.py`): kept, but marked."""
    weak_reason: str | None = None
    """Why it is weak, in a phrase (None when it is not)."""


class ReviewRetried(_Event):
    """A reviewer's first answer was weak (`core/review_quality.py`): it is asked once more,
    with a firmer instruction; `summary` and `verdict` are the weak answer's."""

    event: Literal["review_retried"] = "review_retried"
    round: int
    reviewer: str
    reason: str
    summary: str
    verdict: Literal["approve", "needs-changes"]


class ResponseReady(_Event):
    event: Literal["response_ready"] = "response_ready"
    round: int
    model: str
    responses: list[StanceOutput]


class ClustersReady(_Event):
    event: Literal["clusters_ready"] = "clusters_ready"
    round: int
    clusters: list[Cluster]
    suppressed: list[Cluster] = []
    """Clusters that match a finding the human rejected in an earlier round: not raised again."""


class VerdictSet(_Event):
    event: Literal["verdict_set"] = "verdict_set"
    round: int
    cluster_id: str
    verdict: Verdict
    note: str | None = None


class NoteSet(_Event):
    event: Literal["note_set"] = "note_set"
    round: int
    cluster_id: str
    note: str | None


class StepFailed(_Event):
    event: Literal["step_failed"] = "step_failed"
    round: int
    step: StepKind
    model: str
    kind: str
    message: str
    retryable: bool = True
    partial_text: str = ""


class UsageRecorded(_Event):
    event: Literal["usage"] = "usage"
    round: int
    step: StepKind
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    tool_calls: int = 0
    """Read-only tool calls the model made in the step (`ToolUsed`)."""


class RoundFinished(_Event):
    event: Literal["round_finished"] = "round_finished"
    round: int


class RolesSwapped(_Event):
    event: Literal["roles_swapped"] = "roles_swapped"
    generator: str
    reviewers: list[str]


class Applied(_Event):
    event: Literal["applied"] = "applied"
    round: int
    files: list[str]
    hunk_ids: list[str]
    undo_id: str
    commit: str | None = None
    lines: dict[str, list[int]] = Field(default_factory=dict)
    """The hunks written in part: hunk id → the indices of its chosen changed lines."""


class SelectionSet(_Event):
    """The human's choice on the apply screen (kept for resume and the next revision)."""

    event: Literal["selection_set"] = "selection_set"
    round: int
    lines: dict[str, list[int]]
    """hunk id → the indices (into the hunk's lines) of its chosen changed lines; a hunk
    absent is dropped."""
    splits: dict[str, list[int]] = Field(default_factory=dict)
    """hunk id → where its pieces start, for a hunk the human split."""
    comments: dict[str, str] = Field(default_factory=dict)
    """hunk id → the human's comment on it (goes to the next revision)."""


class Undone(_Event):
    event: Literal["undone"] = "undone"
    undo_id: str
    files: list[str]


class CheckResult(BaseModel):
    """One check on a proposal (or a selection of its hunks), compared with the base."""

    name: str
    status: Literal["passed", "failed", "error", "timeout"]
    new_failures: int = 0
    preexisting_failures: int = 0
    seconds: float = 0.0
    message: str | None = None
    """Why it errored or timed out, in a sentence."""
    preexisting: list[str] = []
    """Titles of the failures that were already there on the base (shown apart)."""
    output: str = ""
    """The end of the check's output (trimmed)."""


class ChecksStarted(_Event):
    event: Literal["checks_started"] = "checks_started"
    round: int
    checks: list[str]
    sandboxed: bool = True
    """False: the user opted in to running checks without a sandbox (the UI says so)."""
    selection: list[str] | None = None
    """The hunk ids checked before an apply; None: the round's whole proposal."""


class CheckOutput(_Event):
    """Output of a running check, throttled (a few events a second at most)."""

    event: Literal["check_output"] = "check_output"
    round: int
    name: str
    text: str
    selection: list[str] | None = None


class ChecksReady(_Event):
    event: Literal["checks_ready"] = "checks_ready"
    round: int
    results: list[CheckResult]
    findings: list[Finding] = []
    """The new failures as findings of reviewer `check:NAME` (none for a selection)."""
    selection: list[str] | None = None
    sandboxed: bool = True
    problem: str | None = None
    """Why no check could run (no sandbox, no scratch tree), in a sentence."""

    @property
    def passed(self) -> bool:
        return self.problem is None and all(r.status == "passed" for r in self.results)


class SessionFinished(_Event):
    event: Literal["session_finished"] = "session_finished"
    state: Literal["done", "failed", "quit", "planned"] = "done"
    """"planned": `--plan-only` stopped after the plan (resume goes on from it)."""


Event = Annotated[
    SessionStarted
    | ContextEdited
    | RoundStarted
    | StepStarted
    | Delta
    | ToolUsed
    | PlanReady
    | PlanEdited
    | PlanApproved
    | ProposalReady
    | ReviewReady
    | ReviewRetried
    | ResponseReady
    | ClustersReady
    | VerdictSet
    | NoteSet
    | StepFailed
    | UsageRecorded
    | RoundFinished
    | RolesSwapped
    | Applied
    | SelectionSet
    | Undone
    | ChecksStarted
    | CheckOutput
    | ChecksReady
    | SessionFinished,
    Field(discriminator="event"),
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def event_from_dict(data: dict[str, Any]) -> Event:
    return _ADAPTER.validate_python(data)


def event_to_dict(event: BaseModel) -> dict[str, Any]:
    return event.model_dump(mode="json")
