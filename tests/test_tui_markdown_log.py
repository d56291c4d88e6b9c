"""MarkdownLog: streamed Markdown drawn with the line API."""

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from counterpoint.tui.widgets.markdown_log import (
    SEGMENT_CHARS,
    MarkdownLog,
    block_boundaries,
    cut_segments,
)

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


def screen_text(log: MarkdownLog) -> str:
    return "\n".join(log.render_line(y).text for y in range(log.size.height))


async def test_streaming_follows_the_bottom_and_matches_a_whole_render():
    app = LogApp()
    async with app.run_test(size=(80, 24)) as pilot:
        log = app.query_one(MarkdownLog)
        for start in range(0, len(PROPOSAL), 37):
            log.append(PROPOSAL[start : start + 37])
        await pilot.pause(0.1)
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
        # the layout renders only blocks the new text reached; the tail's others are cached
        assert calls and not set(calls) & set(finished_blocks)
