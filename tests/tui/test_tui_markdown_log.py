"""MarkdownLog: streamed Markdown drawn with the line API."""

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from counterpoint.tui.widgets.markdown_log import MarkdownLog
from counterpoint.tui.widgets.markdown_segments import SEGMENT_CHARS, block_boundaries, cut_segments

PROPOSAL = "".join(
    f"Step {n}: explain the change.\n\npayments/app{n}.py\n```python\n<<<<<<< SEARCH\n"
    f"def f{n}():\n\n    return {n}\n=======\ndef f{n}():\n\n    return {n + 1}\n"
    f">>>>>>> REPLACE\n```\n\n"
    for n in range(60)
)

lines = st.sampled_from(["", "text", "```python", "```", "    indented", "- item", "# head", "~~~"])


@given(st.lists(lines, max_size=60))
def test_cut_segments_join_back_and_never_cut_inside_a_fence(parts):
    text = "\n".join(parts)
    pieces = cut_segments(text, size=5)
    assert "".join(pieces) == text
    fence = None
    offset = 0
    cuts = set(block_boundaries(text))
    for line in text.splitlines(keepends=True):
        if offset in cuts:
            assert fence is None, "a cut inside fenced code"
        stripped = line.strip()
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence and stripped.startswith(fence) and not stripped.strip(fence[0]):
            fence = None
        offset += len(line)


def test_a_long_proposal_is_cut_into_bounded_segments():
    pieces = cut_segments(PROPOSAL)
    assert len(pieces) > 5
    assert all(len(p) < 3 * SEGMENT_CHARS for p in pieces)


class LogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield MarkdownLog()


def rendered_lines(log: MarkdownLog) -> list[str]:
    """Every non-blank line of the whole text as drawn, rendering unseen segments."""
    strips = [line for i in range(len(log._done)) for line in log._segment_lines(i)]
    strips += log._tail_strips()
    return [strip.text.rstrip() for strip in strips if strip.text.strip()]


async def settle(pilot, log: MarkdownLog) -> None:
    """Until everything received is laid out and rendered (a frame renders in steps)."""
    for _ in range(200):
        await pilot.pause(0.02)
        if log.settled:
            return
    raise AssertionError("the log never settled")


def screen_text(log: MarkdownLog) -> str:
    return "\n".join(log.render_line(y).text for y in range(log.size.height))


async def test_streaming_follows_the_bottom_and_matches_a_whole_render():
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        for start in range(0, len(PROPOSAL), 37):
            log.append(PROPOSAL[start : start + 37])
        await settle(pilot, log)
        assert log.source == PROPOSAL
        assert log.scroll_y == log.max_scroll_y > 0  # followed the stream to the end
        assert "return 60" in screen_text(log)  # the last edit block is on screen
        streamed = rendered_lines(log)
        log.update(PROPOSAL)
        await pilot.pause(0.1)
        assert rendered_lines(log) == streamed  # cut in other places, drawn the same
        assert "return 60" in screen_text(log)


async def test_a_reader_scrolled_up_keeps_their_place_while_text_arrives():
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        log.update(PROPOSAL[: len(PROPOSAL) // 2])
        await pilot.pause(0.1)
        log.scroll_home(animate=False)
        await pilot.pause(0.1)
        top = screen_text(log)
        assert "Step 0" in top
        log.append(PROPOSAL[len(PROPOSAL) // 2 :])
        await pilot.pause(0.2)
        assert log.scroll_y == 0 and screen_text(log) == top
        # scrolling down through segments never seen before renders them on demand
        log.scroll_end(animate=False)
        await pilot.pause(0.2)
        log.scroll_end(animate=False)
        await pilot.pause(0.1)
        assert "return 60" in screen_text(log)


MIXED = (
    "## Heading\n\nTwo changes:\n\n1. **First.** Explained\n   over two lines.\n2. Second.\n\n"
    "- a bullet\n\n> a quote\n\n```python\nx = 1\n```\n\nClosing words.\n"
)


async def test_block_by_block_draws_what_rich_draws_for_the_whole_text():
    from rich.console import Console
    from rich.markdown import Markdown

    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        log.update(MIXED)
        await pilot.pause(0.1)
        console = Console(width=log._width, color_system=None)
        whole = [
            "".join(s.text for s in line).rstrip()
            for line in console.render_lines(Markdown(MIXED, hyperlinks=False), pad=False)
        ]
        drawn = [strip.text.rstrip() for strip in log._render_markdown(MIXED, log._width)]
        assert len(drawn) > 10 and drawn == whole


async def test_the_frame_draws_the_last_layout_and_the_tail_reuses_rendered_blocks():
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        log.update(PROPOSAL[:2000])
        await pilot.pause(0.1)
        calls: list[str] = []
        render_block = log._render_block

        def counting(text: str, width: int, dark: bool):
            calls.append(text)
            return render_block(text, width, dark)

        log._render_block = counting  # type: ignore[method-assign]
        finished_blocks = cut_segments(log._tail, 0)[:-1]
        assert finished_blocks
        log.append(PROPOSAL[2000:2100])  # not laid out yet: drawing renders nothing
        screen_text(log)
        assert calls == []
        log.flush()
        await settle(pilot, log)
        assert log.source == PROPOSAL[:2100]
        # the layout renders only blocks the new text reached; the tail's others are cached
        assert calls and not set(calls) & set(finished_blocks)


async def test_a_frame_renders_a_few_blocks_per_step_and_shows_them_together():
    """A frame with much new text renders it over several steps (the event loop runs in
    between, so a key waits for a block at most); the screen changes once, at the end.
    So does the refining that renders the rest afterwards."""
    import time

    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        log.update("Start.\n")
        await settle(pilot, log)
        before = screen_text(log)
        per_step: list[int] = []
        render_block, step, refine_step = log._render_block, log._step, log._refine_step
        refine_steps: list[int] = []

        def slow(text: str, width: int, dark: bool):
            time.sleep(0.003)  # a block costs 3 ms; a step's budget is `STEP` (4 ms)
            per_step[-1] += 1
            return render_block(text, width, dark)

        def counted_step() -> None:
            per_step.append(0)
            shown = screen_text(log)
            step()
            if log._pending is not None:  # more steps to come: the old layout is still drawn
                assert screen_text(log) == shown == before

        def counted_refine_step() -> None:
            per_step.append(0)
            refine_step()
            refine_steps.append(per_step[-1])

        log._render_block = slow  # type: ignore[method-assign]
        log._step = counted_step  # type: ignore[method-assign]
        log._refine_step = counted_refine_step  # type: ignore[method-assign]
        log.append(PROPOSAL)
        await settle(pilot, log)
        frame_steps = per_step[: len(per_step) - len(refine_steps)]
        assert sum(frame_steps) >= 5 and max(frame_steps) <= 2  # so 3 steps or more
        assert sum(refine_steps) > 50 and max(refine_steps) <= 2
        assert "return 60" in screen_text(log)
        assert len(log._rendered) == len(log._done)  # refined: every height exact


async def test_the_scrollbar_thumb_follows_when_the_text_first_overflows():
    """The layout that makes the text overflow scrolls to the end before the bar exists (it
    shows at the screen's next reflow); its thumb still ends at the end, even when the check
    after the refresh comes before that reflow."""
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        log.update("Short.\n")
        await settle(pilot, log)
        assert not log.show_vertical_scrollbar
        after_refresh = log.call_after_refresh

        def before_the_reflow(callback, *args):
            if callback == log._sync_scrollbar and not args:
                return callback()  # the refresh it waited for had no reflow in it
            return after_refresh(callback, *args)

        log.call_after_refresh = before_the_reflow  # type: ignore[method-assign]
        log.append("\n\n" + "\n\n".join(f"Paragraph {n}." for n in range(40)))
        log.flush()
        await settle(pilot, log)
        await pilot.pause()
        assert log.show_vertical_scrollbar and log.scroll_y == log.max_scroll_y > 0
        assert log.vertical_scrollbar.position == log.scroll_y


async def test_new_text_while_refining_drops_the_old_refining():
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        log.update(PROPOSAL)  # the segments out of view are refined a step at a time
        await pilot.pause(0.03)
        assert not log.settled
        log.update("Short.\n\nText.\n")
        await settle(pilot, log)
        assert log.source == "Short.\n\nText.\n" and "Short." in screen_text(log)


async def test_rewrite_changes_the_end_and_refuses_to_reach_into_finished_segments():
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        log.update(PROPOSAL)
        await settle(pilot, log)
        done = len(PROPOSAL) - len(log._tail)
        assert done > 0
        assert not log.rewrite(done - 1, "x")  # a finished segment would change: update instead
        assert log.source == PROPOSAL
        keep = done + 10
        assert log.rewrite(keep, "**rewritten** end\n")
        log.append("and more\n")
        await settle(pilot, log)
        expected = PROPOSAL[:keep] + "**rewritten** end\nand more\n"
        assert log.source == expected
        streamed = rendered_lines(log)
        log.update(expected)
        await settle(pilot, log)
        assert rendered_lines(log) == streamed


FINDINGS = (
    "*Reviewed the change.*\n\nVerdict: **needs-changes** · 800 findings\n\n"
    + "".join(f"- `r1-a{n}` **high** security `app.py:{n}` — Problem number {n}\n" for n in range(800))
    + "- ✗ dropped: a finding without a path\n\nAfter the list.\n"
)


def test_a_long_list_is_cut_between_its_items_into_bounded_segments():
    """A review's findings are one tight list: it is cut between items (no blank line
    there), so the live tail stays small instead of re-rendering the whole list per frame."""
    pieces = cut_segments(FINDINGS)
    assert "".join(pieces) == FINDINGS
    assert len(pieces) > 20 and all(len(p) < 3 * SEGMENT_CHARS for p in pieces)
    assert block_boundaries("- a\n- - -\n") == []  # a rule is not an item
    assert block_boundaries("1. a\n2. b\n") == []  # numbered items are not cut (renumbered)


async def test_a_long_list_streamed_draws_what_rich_draws_for_the_whole_text():
    from rich.console import Console
    from rich.markdown import Markdown

    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        for start in range(0, len(FINDINGS), 53):
            log.append(FINDINGS[start : start + 53])
        await settle(pilot, log)
        assert len(log._done) > 20
        console = Console(width=log._width, color_system=None)
        whole = [
            "".join(s.text for s in line).rstrip()
            for line in console.render_lines(Markdown(FINDINGS, hyperlinks=False), pad=False)
        ]
        strips = [line for i in range(len(log._done)) for line in log._segment_lines(i)]
        drawn = [strip.text.rstrip() for strip in strips + log._tail_strips()]
        assert drawn == whole  # blank lines too: none between two pieces of one list
