"""The workbench's streaming panes: the generator pane and one pane per reviewer.

A pane's content is a pure function of the session state (`RoundState`): the app tells a
pane which round to show and calls `sync()` whenever the session changed. `sync()` appends
only what is new, and falls back to one full `update()` when the text is not an extension
of what is shown (another round, a step started again after a failure, the final review
replacing the streamed one).

The text is drawn by a `MarkdownLog` (line API, one widget), so the cost of a frame does
not grow with the length of the answer. The generator pane's text is its proposal as
`ProposalStream` shows it (edit blocks as diffs), whose end may change as it is decided:
`sync()` then rewrites only the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from counterpoint.core.glyphs import WEAK_REVIEW, short_model_name
from counterpoint.core.safe_text import visible
from counterpoint.core.tokens import estimate_tokens
from counterpoint.core.tools import ToolCall, call_summary, result_headline
from counterpoint.tui.proposal_stream import ProposalStream
from counterpoint.tui.review_stream import ReviewScanner, finding_line
from counterpoint.tui.widgets.edit_diff import ProposalLog
from counterpoint.tui.widgets.findings_table import location_label
from counterpoint.tui.widgets.markdown_log import MarkdownLog

if TYPE_CHECKING:
    from counterpoint.core.events import StepFailed
    from counterpoint.core.session import RoundState

Clock = Callable[[tuple[int, str, str]], str]
"""(round, step, model) -> elapsed text for a running step ("" when frozen or unknown)."""
FileReader = Callable[["RoundState", str], "str | None"]
"""(round, path) -> the file as that round's generator edits it (None: missing, unreadable)."""


def format_tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def common_prefix(a: str, b: str) -> int:
    """How many leading characters `a` and `b` share (slices compared, halving: O(n))."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


class StreamPane(Vertical):
    """A titled pane: a status line, the streamed Markdown body, extras and an error box."""

    DEFAULT_CSS = """
    StreamPane { height: 1fr; border: round $panel-lighten-2; }
    StreamPane:focus-within { border: round $accent; }
    StreamPane > .pane-status { height: 1; color: $text-muted; padding: 0 1; }
    StreamPane > MarkdownLog { height: 1fr; min-height: 2; background: $surface 0%; }
    StreamPane .pane-extra { padding: 0 1; height: auto; max-height: 40%; overflow-y: auto; }
    StreamPane .pane-error { height: auto; border-top: solid $error; padding: 0 1; }
    StreamPane .pane-error > Static { width: 1fr; color: $error; }
    StreamPane .pane-error > Button { min-width: 10; }
    StreamPane .-hidden { display: none; }
    """

    def __init__(self, *, clock: Clock, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._round: RoundState | None = None
        self._written = ""
        self._shown_extra: Text | None = None

    # -- what subclasses provide --------------------------------------------------------
    def body_text(self, r: RoundState) -> str:
        raise NotImplementedError

    def steps(self, r: RoundState) -> list[tuple[str, str]]:
        """The (step, model) keys this pane shows, in order."""
        raise NotImplementedError

    def extra(self, r: RoundState) -> Text | None:
        return None

    def make_log(self) -> MarkdownLog:
        return MarkdownLog(classes="pane-body")

    # -- composition --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-status")
        yield self.make_log()
        yield Static("", classes="pane-extra -hidden")
        with Horizontal(classes="pane-error -hidden"):
            yield Static("", classes="pane-error-text")
            yield Button("Retry  t", classes="retry", variant="warning", compact=True)

    def on_mount(self) -> None:
        self._log = self.query_one(MarkdownLog)
        self._status = self.query_one(".pane-status", Static)
        self._extra = self.query_one(".pane-extra", Static)
        self._box = self.query_one(".pane-error", Horizontal)
        self._error_text = self.query_one(".pane-error-text", Static)

    @property
    def shown_text(self) -> str:
        """The Markdown source on screen."""
        return self._log.source

    @property
    def settled(self) -> bool:
        """Everything received is laid out."""
        return self._written == self._log.source and self._log.settled

    def running(self) -> bool:
        r = self._round
        return r is not None and any(key in r.running for key in self.steps(r))

    def error(self) -> StepFailed | None:
        r = self._round
        if r is None:
            return None
        for key in self.steps(r):
            if key in r.errors:
                return r.errors[key]
        return None

    # -- updating -----------------------------------------------------------------------
    async def show_round(self, r: RoundState | None) -> None:
        """Show another round (or the same one again after a reset)."""
        if r is not self._round:
            self._round = r
            self._written = ""
            self._log.update("")
        await self.sync()

    async def sync(self) -> None:
        """Bring the pane up to date with the session; append only what is new."""
        r = self._round
        text = self.body_text(r) if r is not None else ""
        if text.startswith(self._written):
            self._log.append(text[len(self._written) :])
        else:
            keep = common_prefix(text, self._written)
            if not self._log.rewrite(keep, text[keep:]):
                self._log.update(text)
        if not self.running():
            self._log.flush()
        self._written = text
        self._update_status()

    def refresh_status(self) -> None:
        """Status line only (elapsed seconds tick; no Markdown work)."""
        self._update_status()

    def _update_status(self) -> None:
        r = self._round
        status, extra, box = self._status, self._extra, self._box
        if r is None:
            status.update("")
            extra.add_class("-hidden")
            box.add_class("-hidden")
            return
        status.update(self.status(r), layout=False)  # one line, always: no reflow per frame
        more = self.extra(r)
        if more != self._shown_extra:
            self._shown_extra = more
            extra.set_class(more is None, "-hidden")
            extra.update(more if more is not None else "")
        failure = self.error()
        box.set_class(failure is None, "-hidden")
        if failure is not None:
            text = Text()
            text.append(f"✗ {failure.step} failed · {failure.kind}\n", style="bold")
            text.append(visible(failure.message))
            if failure.partial_text:
                text.append(f"\n({estimate_tokens(failure.partial_text)} tokens arrived before it broke)", style="dim")
            self._error_text.update(text)

    def status(self, r: RoundState) -> Text:
        for step, model in self.steps(r):
            key = (step, model)
            if key in r.running:
                streamed = estimate_tokens(r.text(step, model))
                elapsed = self._clock((r.number, step, model))
                line = Text("● ", style="bold")
                line.append(f"{step} · {format_tokens(streamed)} tok streamed")
                if elapsed:
                    line.append(f" · {elapsed}")
                return line
        if self.error() is not None:
            return Text("✗ failed (see below)", style="bold")
        return self.idle_status(r)

    def idle_status(self, r: RoundState) -> Text:
        return Text("waiting", style="dim")


class GeneratorPane(StreamPane):
    """The generator's plan (round 1 with a planner), explanation and edit blocks, drawn as
    diffs (numbered from the file's lines when `read` gives the file a round's generator
    edits: the repository's, or the previous proposal's for a revision)."""

    def __init__(self, *, clock: Clock, read: FileReader | None = None, id: str | None = None) -> None:
        super().__init__(clock=clock, id=id)
        self._read = read
        self._proposals: dict[int, ProposalStream] = {}

    def make_log(self) -> MarkdownLog:
        return ProposalLog(classes="pane-body")

    @property
    def proposal_text(self) -> str:
        """The generator's text (as the model wrote it) behind what the pane shows."""
        r = self._round
        stream = self._proposals.get(r.number) if r is not None else None
        return stream.raw if stream is not None else ""

    def steps(self, r: RoundState) -> list[tuple[str, str]]:
        keys = []
        if r.planner:
            keys.append(("plan", r.planner))
        keys += [("generate", r.generator), ("respond", r.generator)]
        return keys

    def body_text(self, r: RoundState) -> str:
        parts: list[str] = []
        plan = r.plan if r.plan is not None or not r.planner else r.text("plan", r.planner)
        if plan:
            parts.append(f"**Plan** · {plan_author(r)}\n\n{visible(plan)}")
            if r.plan is not None and not r.plan_pending:
                parts.append("\n\n---\n\n")
        parts.append(tool_notes(r, "generate", r.generator))
        raw = r.text("generate", r.generator) if r.proposal is None else r.proposal.text
        stream = self._proposals.get(r.number)
        if stream is None:
            read = self._read
            stream = ProposalStream(None if read is None else lambda path: read(r, path))
            self._proposals[r.number] = stream
        done = r.proposal is not None or ("generate", r.generator) not in r.running
        parts.append(stream.text(raw, done=done))
        parts.append(tool_notes(r, "respond", r.generator, after=True))
        return "".join(parts)

    def idle_status(self, r: RoundState) -> Text:
        if r.plan_pending:
            return Text("⏸ the plan waits for your approval", style="bold")
        if r.proposal is None:
            return Text("waiting", style="dim")
        p = r.proposal
        files = len(r.changeset.files) if r.changeset else 0
        text = Text(f"✓ proposal · {p.edits} edit blocks · {files} files changed")
        if p.failed_edits:
            text.append(f" · {len(p.failed_edits)} failed ✗", style="bold")
        if r.response is not None:
            text.append(f" · answered {len(r.response.responses)} findings")
        return text

    def extra(self, r: RoundState) -> Text | None:
        if r.plan_pending:
            return Text(PLAN_WAITS, style="bold")
        if r.proposal is None or not r.proposal.failed_edits:
            return None
        text = Text("Failed edits\n", style="bold")
        for failed in r.proposal.failed_edits:
            where = visible(failed.path, newlines=False) if failed.path else "(malformed block)"
            number = f"#{failed.index + 1} " if failed.index >= 0 else ""
            text.append(f"✗ {number}{where}: ", style="bold")
            text.append(f"{visible(failed.reason)}\n")
            text.append_text(_nearest_lines(failed.nearest, failed.nearest_line))
        text.rstrip()
        return text


def tool_notes(r: RoundState, step: str, model: str, *, after: bool = False) -> str:
    """The read-only tool calls of a step, as markdown above the model's answer (`after`:
    below what the pane shows, for the calls made answering the findings): each call and
    its result trimmed to a line (model-chosen text: escaped, in code spans)."""
    used = r.tools.get((step, model)) or []
    if not used:
        return ""
    body = ""
    for e in used:
        mark = "✗" if e.refused else "✂" if e.truncated else "·"
        call = _code(call_summary(ToolCall.from_dict(e.call)))
        body += f"- {mark} {call} → {_code(result_headline(e.result))}\n"
    if after:
        return f"\n\n---\n\n**Looked at answering the findings** · {len(used)} tool calls\n\n{body}"
    return f"**Looked at** · {len(used)} tool calls\n\n{body}\n---\n\n"


def _code(text: str) -> str:
    """`text` as one inline code span, whatever backticks it holds."""
    shown = visible(text, newlines=False)
    longest = max((len(run) for run in re.findall("`+", shown)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {shown} {fence}"


PLAN_WAITS = "enter: approve · p: edit the plan"
"""Under a plan that waits for the human (one line at 80 columns: the status line is hidden there)."""


def plan_author(r: RoundState) -> str:
    """Who wrote the plan on screen, for its heading."""
    if r.plan_source == "human":
        return "edited by you"
    if r.plan_source == "file":
        return "your plan (--plan FILE)"
    return short_model_name(r.planner) if r.planner else "plan"


_NEAREST_SHOWN = 8
"""At most this many of a failed edit's nearest file lines are shown under its reason."""


def _nearest_lines(nearest: str, first: int) -> Text:
    """The file's lines nearest a failed edit's SEARCH, numbered, dim."""
    lines = nearest.splitlines()[:_NEAREST_SHOWN]
    width = len(str(first + len(lines)))
    text = Text()
    for n, line in enumerate(lines, start=first):
        text.append(f"  {n:>{width}} │ ", style="dim")
        text.append(f"{visible(line, newlines=False)}\n", style="dim")
    return text


class ReviewerPane(StreamPane):
    """One reviewer's review: its summary and findings, listed as they arrive."""

    def __init__(self, reviewer: str, *, clock: Clock, id: str | None = None) -> None:
        super().__init__(clock=clock, id=id)
        self.reviewer = reviewer
        self._shown_title: str | None = None
        self._scanners: dict[int, tuple[str, ReviewScanner, list[str]]] = {}
        """Per round: the review text read so far, its scanner, and the list lines of the
        findings it found (formatted once each, not at every frame)."""

    def steps(self, r: RoundState) -> list[tuple[str, str]]:
        return [("review", self.reviewer)]

    def _scanner(self, r: RoundState) -> tuple[ReviewScanner, list[str]]:
        raw = r.text("review", self.reviewer)
        seen, scanner, lines = self._scanners.get(r.number, ("", ReviewScanner(), []))
        if not raw.startswith(seen):  # the step started again: read from scratch
            seen, scanner, lines = "", ReviewScanner(), []
        scanner.feed(raw[len(seen) :])
        lines += [finding_line(item) for item in scanner.findings[len(lines) :]]
        self._scanners[r.number] = (raw, scanner, lines)
        return scanner, lines

    def body_text(self, r: RoundState) -> str:
        review = r.reviews.get(self.reviewer)
        if review is not None:
            lines = [f"*{review.summary}*\n\n" if review.summary else ""]
            lines.append(f"Verdict: **{review.verdict}** · {len(review.findings)} findings\n\n")
            if review.weak:  # the gate's own words, not the model's
                reason = visible(review.weak_reason or "", newlines=False)
                lines.append(f"**{WEAK_REVIEW.label}**, even when asked once more: {reason}\n\n")
            for f in review.findings:
                where = location_label(f.path, f.start_line, f.end_line)
                flag = " ⚠" if f.location_problem else ""
                title = visible(f.title, newlines=False)  # one list line: a newline cannot start a block
                lines.append(f"- `{f.id}` **{f.severity}** {f.category} `{where}`{flag} — {title}\n")
            for dropped in review.dropped:
                lines.append(f"- ✗ dropped: {visible(dropped, newlines=False)}\n")
            return tool_notes(r, "review", self.reviewer) + "".join(lines)
        if ("review", self.reviewer) not in r.running and ("review", self.reviewer) not in r.errors:
            return ""
        scanner, lines = self._scanner(r)
        summary = f"*{scanner.summary}*\n\n" if scanner.summary else ""
        return tool_notes(r, "review", self.reviewer) + summary + "".join(lines)

    def raised(self, r: RoundState) -> int:
        """Findings this reviewer raised so far: as listed while the review streams."""
        review = r.reviews.get(self.reviewer)
        if review is not None:
            return len(review.findings)
        return len(self._scanner(r)[0].findings) if r.text("review", self.reviewer) else 0

    def title(self, r: RoundState | None) -> Text:
        """The pane's border title: the reviewer, and the weak-review mark when its review
        is still too thin after the one firmer retry (`core/review_quality.py`)."""
        title = Text(f"Reviewer · {short_model_name(self.reviewer)}")
        review = r.reviews.get(self.reviewer) if r is not None else None
        if review is not None and review.weak:  # first: a narrow pane cuts the title's end
            title = Text.assemble((f"{WEAK_REVIEW.glyph} weak", "bold"), " · ", title)
        return title

    def show_title(self, r: RoundState | None) -> None:
        title = self.title(r)
        if title.plain != self._shown_title:  # no repaint of the border per streamed token
            self._shown_title = title.plain
            self.border_title = title

    def status(self, r: RoundState) -> Text:
        line = super().status(r)
        if ("review", self.reviewer) in r.running and self.reviewer in r.retries:
            line.append(" · asked again: the first answer was too thin")
        return line

    def idle_status(self, r: RoundState) -> Text:
        review = r.reviews.get(self.reviewer)
        if review is None:
            return Text("waiting for the proposal" if r.proposal is None else "waiting", style="dim")
        text = Text(f"✓ review · {review.verdict} · {len(review.findings)} findings")
        if review.weak:
            text.append(f" · {WEAK_REVIEW.label}", style="bold")
        return text
