"""The generator pane draws edit blocks as diffs while they stream (issue 11, item 3)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from counterpoint.core.session import RoundState
from counterpoint.tui.panes import GeneratorPane, common_prefix
from counterpoint.tui.proposal_stream import ProposalStream
from counterpoint.tui.widgets.edit_diff import ProposalLog
from counterpoint.tui.widgets.markdown_log import MarkdownLog
from counterpoint.tui.widgets.markdown_segments import EMBED, block_boundaries

GENERATOR = "fake:gen"
KEY = ("generate", GENERATOR)
MARKERS = ("<<<<<<<", "=======", ">>>>>>>")

PROPOSAL = (
    "I make the limiter **thread-safe**.\n\n"
    "payments/ratelimit.py\n```python\n<<<<<<< SEARCH\n"
    "class RateLimiter:\n    def allow(self, key):\n        return self._take(key)\n"
    "=======\n"
    "class RateLimiter:\n    def allow(self, key):\n        with self._lock:\n"
    "            return self._take(key)\n"
    ">>>>>>> REPLACE\n```\n\n"
    "And the docs:\n\n"
    "README.md\n```\n<<<<<<< SEARCH\n=======\n# Limits\n>>>>>>> REPLACE\n```\n\n"
    "That is all.\n"
)

FILES = {"payments/ratelimit.py": "import threading\n\n\nclass RateLimiter:\n    def allow(self, key):\n"
         "        return self._take(key)\n"}


class PaneApp(App[None]):
    def compose(self) -> ComposeResult:
        yield GeneratorPane(clock=lambda key: "", read=lambda r, path: FILES.get(path))


def new_round() -> RoundState:
    r = RoundState(number=1, generator=GENERATOR, reviewers=[])
    r.running.add(KEY)
    r.streams[KEY] = [""]
    return r


async def settle(pilot, pane: GeneratorPane) -> None:
    for _ in range(300):
        await pilot.pause(0.02)
        if pane.settled:
            return
    raise AssertionError("the pane never settled")


def drawn(log: MarkdownLog) -> list[str]:
    """Every line of the log's text as drawn (unseen segments rendered too), right-trimmed."""
    strips = [line for i in range(len(log._done)) for line in log._segment_lines(i)]
    strips += log._tail_strips()
    return [strip.text.rstrip() for strip in strips]


async def stream(pilot, pane: GeneratorPane, r: RoundState, text: str, step: int, *, check=None) -> None:
    for start in range(0, len(text), step):
        r.streams[KEY] = [text[: start + step]]
        await pane.sync()
        if check is not None:
            await pilot.pause()
            check(pane)
    r.running.discard(KEY)
    await pane.sync()
    await settle(pilot, pane)


def no_markers(pane: GeneratorPane) -> None:
    assert not any(marker in pane.shown_text for marker in MARKERS), pane.shown_text


async def test_a_streamed_edit_block_is_drawn_as_removed_and_added_lines():
    app = PaneApp()
    async with app.run_test(size=(90, 40)) as pilot:
        pane = app.query_one(GeneratorPane)
        r = new_round()
        await pane.show_round(r)
        await stream(pilot, pane, r, PROPOSAL, 5, check=no_markers)
        log = app.query_one(ProposalLog)
        lines = drawn(log)
        assert not any(marker in line for line in lines for marker in MARKERS)
        assert " payments/ratelimit.py:4  -3 +4" in lines  # located in the file: numbered from line 4
        assert "4 - class RateLimiter:" in lines
        assert "6 -         return self._take(key)" in lines
        assert "6 +         with self._lock:" in lines
        assert "7 +             return self._take(key)" in lines
        assert " README.md  -0 +1" in lines and "+ # Limits" in lines
        assert "I make the limiter thread-safe." in lines  # prose is Markdown, as before
        assert lines[-1] == "That is all."
        # Highlighted by language: the keyword has a colour of its own on the added background.
        row = next(s for s in log._tail_strips() + [x for i in range(len(log._done)) for x in log._segment_lines(i)]
                   if s.text.startswith("4 + class"))
        styles = {seg.text: seg.style for seg in row if seg.text.strip()}
        assert styles["class"].color != styles["RateLimiter"].color
        assert styles["class"].bgcolor == styles["RateLimiter"].bgcolor is not None


async def test_a_block_still_streaming_is_drawn_as_far_as_it_has_come():
    app = PaneApp()
    async with app.run_test(size=(90, 30)) as pilot:
        pane = app.query_one(GeneratorPane)
        r = new_round()
        await pane.show_round(r)
        cut = PROPOSAL.index("            return self._take(key)\n>>>")  # mid-REPLACE
        r.streams[KEY] = [PROPOSAL[: cut + 14]]
        await pane.sync()
        await settle(pilot, pane)
        lines = drawn(app.query_one(ProposalLog))
        assert " payments/ratelimit.py:4  -3 +4  …" in lines  # open: the partial line shown
        assert "7 +             re" in lines
        assert not any(marker in line for line in lines for marker in MARKERS)


async def test_a_block_split_across_many_deltas_draws_what_one_delta_draws():
    app = PaneApp()
    async with app.run_test(size=(60, 30)) as pilot:
        pane = app.query_one(GeneratorPane)
        r = new_round()
        await pane.show_round(r)
        await stream(pilot, pane, r, PROPOSAL, 1)
        streamed = drawn(app.query_one(ProposalLog))
        shown = pane.shown_text
        one = new_round()
        one.number = 2
        await pane.show_round(one)
        await stream(pilot, pane, one, PROPOSAL, len(PROPOSAL))
        assert pane.shown_text == shown
        assert drawn(app.query_one(ProposalLog)) == streamed


def test_the_pane_text_only_changes_at_its_end_while_streaming():
    """Each delta rewrites at most the undecided end (the block being read, or the few lines
    that may still be a block's header): what the parser decided stays put."""
    stream = ProposalStream()
    previous = ""
    for end in range(1, len(PROPOSAL) + 1):
        text = stream.text(PROPOSAL[:end], done=False)
        changed = previous[common_prefix(text, previous) :]
        assert changed.count(EMBED * 2) <= 1, changed
        assert len([line for line in changed.splitlines() if not line.startswith(EMBED)]) <= 6, changed
        previous = text
    assert stream.text(PROPOSAL, done=True) == ProposalStream().text(PROPOSAL, done=True)


HOSTILE = (
    "Prose [@click=app.quit]quit[/] \x1b]52;c;ZXZpbA==\x07 \u202e\n"
    f"{EMBED}{EMBED}@forged.py\n{EMBED}-forged line\n\n"
    "evil\x1b[2J[b].py\n```python\n<<<<<<< SEARCH\nx = '\x1b[2J' # [red]not markup[/]\n=======\n"
    "y = '\x9b31m' \u202e # [@click=app.quit]\n>>>>>>> REPLACE\n```\n"
)


async def test_hostile_text_in_an_edit_block_stays_inert():
    app = PaneApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(GeneratorPane)
        r = new_round()
        await pane.show_round(r)
        await stream(pilot, pane, r, HOSTILE, 3)
        log = app.query_one(ProposalLog)
        lines = drawn(log)
        text = "\n".join(lines)
        for raw in ("\x1b", "\x9b", "\u202e", "\x07", EMBED):
            assert raw not in text
        assert " evil\\x1b[2J[b].py  -1 +1" in lines  # the path, escaped, not markup
        assert "- x = '\\x1b[2J' # [red]not markup[/]" in lines
        assert "+ y = '\\x9b31m' \\u202e # [@click=app.quit]" in lines
        assert any("[@click=app.quit]quit[/]" in line for line in lines)  # prose: literal
        assert not any("forged.py" in line and line.startswith(" forged") for line in lines)
        assert any("\\x1a\\x1a@forged.py" in line for line in lines)  # a forged block is prose
        assert app.is_running


def test_embedded_blocks_are_cut_from_the_prose_around_them():
    text = f"prose\n```\nopen fence\n{EMBED}{EMBED}@a\n{EMBED}-x\n{EMBED}{EMBED}@b\nafter\n"
    cuts = block_boundaries(text)
    starts = [text.index(f"{EMBED}{EMBED}@a"), text.index(f"{EMBED}{EMBED}@b"), text.index("after")]
    assert cuts == starts


def test_a_later_block_is_numbered_in_the_file_the_earlier_blocks_left():
    file = "a = 1\nb = 2\nc = 3\n"
    text = (
        "x.py\n```\n<<<<<<< SEARCH\na = 1\n=======\n# one\n# two\na = 1\n>>>>>>> REPLACE\n```\n"
        "x.py\n```\n<<<<<<< SEARCH\nc = 3\n=======\nc = 4\n>>>>>>> REPLACE\n```\n"
        "x.py\n```\n<<<<<<< SEARCH\nnot there\n=======\nz\n>>>>>>> REPLACE\n```\n"
    )
    shown = ProposalStream(lambda path: file if path == "x.py" else None).text(text, done=True)
    headers = [line.split("\x1f")[:2] for line in shown.splitlines() if line.startswith(EMBED * 2)]
    assert headers == [[f"{EMBED * 2}@x.py", "1"], [f"{EMBED * 2}@x.py", "5"], [f"{EMBED * 2}@x.py", ""]]


async def test_the_calls_made_answering_the_findings_show_under_the_proposal():
    from counterpoint.core.events import ToolUsed

    app = PaneApp()
    async with app.run_test(size=(90, 40)) as pilot:
        pane = app.query_one(GeneratorPane)
        r = new_round()
        await pane.show_round(r)
        await stream(pilot, pane, r, PROPOSAL, 4000)
        r.tools[("respond", GENERATOR)] = [ToolUsed(
            round=1, step="respond", model=GENERATOR,
            call={"id": "c", "name": "find_symbol", "arguments": {"name": "allow\x1b[2J"}},
            result="payments/ratelimit.py:5-6: method def allow(self, key):")]
        await pane.sync()
        await settle(pilot, pane)
        lines = drawn(app.query_one(ProposalLog))
        heading = lines.index("Looked at answering the findings · 1 tool calls")
        assert heading > lines.index("That is all.")
        assert any("find_symbol(allow\\x1b[2J)" in line for line in lines[heading:])
        assert not any("\x1b" in line for line in lines)
