"""How fast the DiffView opens and pages through a 50,000-changed-line diff.

Run: PYTHONPATH=src .venv/bin/python bench/bench_diff_view.py

Measures, in one headless app run (`App.run_test(size=(120, 40))`):
- first frame after `show()`: empty ChangeSet (baseline) vs 50,000 changed lines;
- page down 200 times: median and p95 per page (key press until the app is idle), on the big
  diff and on a 2,000-line diff (baseline: paging cost should not grow with the diff);
- the widget's own drawing cost per page (render_line for every visible row, cold cache);
- the floor: the same key press in an app whose DiffView is empty (Pilot + compositor cost).
"""

from __future__ import annotations

import asyncio
import statistics
import time

from textual.app import App, ComposeResult

from counterpoint.core.changeset import ChangeSet
from counterpoint.tui.theme import register_all, theme_variable_defaults
from counterpoint.tui.widgets.diff_view import DiffView

FILES = 25
LINES = 2000
PAGES = 200
BASELINE_PAGES = 30


def make_changeset(files: int, lines: int) -> tuple[ChangeSet, int]:
    """`files` Python files of `lines` lines; half the lines of each are rewritten, in blocks
    of ten, so each file has ~`lines` changed lines (removed + added) in ~lines/20 hunks."""
    base: dict[str, str | None] = {}
    new: dict[str, str | None] = {}
    for f in range(files):
        old_lines = [f"def f{f}_{n}(x):  return x + {n}  # file {f} line {n}\n" for n in range(lines)]
        new_lines = [
            line if (n // 10) % 2 else line.replace("x + ", "x * ").replace("  #", "  # changed")
            for n, line in enumerate(old_lines)
        ]
        base[f"pkg/module_{f:02d}.py"] = "".join(old_lines)
        new[f"pkg/module_{f:02d}.py"] = "".join(new_lines)
    changeset = ChangeSet.from_contents(base, new)
    changed = sum(c.added + c.removed for c in changeset.files)
    return changeset, changed


class BenchApp(App[None]):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def compose(self) -> ComposeResult:
        yield DiffView()

    def on_mount(self) -> None:
        register_all(self)
        self.theme = "counterpoint-dark"
        self.query_one(DiffView).focus()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def first_frame(pilot, view: DiffView, changeset: ChangeSet) -> float:  # noqa: ANN001
    started = time.perf_counter()
    view.show(changeset)
    await pilot.pause()
    return time.perf_counter() - started


async def page_times(pilot, view: DiffView, pages: int) -> tuple[list[float], list[float]]:  # noqa: ANN001
    """Per page: (press + idle) wall time, and the widget's cold drawing time of that page."""
    presses: list[float] = []
    draws: list[float] = []
    height = view.scrollable_content_region.height
    for _ in range(pages):
        started = time.perf_counter()
        await pilot.press("pagedown")
        await pilot.pause()
        presses.append(time.perf_counter() - started)
        view._cache.clear()  # measure drawing the page from scratch (syntax tokens stay cached)
        started = time.perf_counter()
        for y in range(height):
            view.render_line(y)
        draws.append(time.perf_counter() - started)
    return presses, draws


async def run() -> None:
    t = time.perf_counter()
    big, changed = make_changeset(FILES, LINES)
    build_big = time.perf_counter() - t
    small, small_changed = make_changeset(1, LINES)

    app = BenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(DiffView)

        empty = await first_frame(pilot, view, ChangeSet(files=()))
        # Warm-up once (imports Pygments lexers, builds styles), then measure.
        await first_frame(pilot, view, small)
        await first_frame(pilot, view, ChangeSet(files=()))
        empty = min(empty, await first_frame(pilot, view, ChangeSet(files=())))
        big_first = await first_frame(pilot, view, big)
        rows = view.row_count

        big_press, big_draw = await page_times(pilot, view, PAGES)
        at_row = round(view.scroll_y)

        await first_frame(pilot, view, small)
        small_press, small_draw = await page_times(pilot, view, BASELINE_PAGES)

    # The test harness's own cost of one key press: the same press in an app with no diff.
    harness = BenchApp()
    async with harness.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        idle_press, _ = await page_times(pilot, harness.query_one(DiffView), BASELINE_PAGES)

    print(f"changeset: {FILES} files, {changed:,} changed lines, {rows:,} diff rows "
          f"(ChangeSet.from_contents {ms(build_big).strip()})")
    print(f"first frame, empty DiffView (baseline): {ms(empty)}")
    print(f"first frame, {changed:,}-line diff:     {ms(big_first)}   ratio {big_first / empty:6.1f}x")
    print(f"page down x{PAGES} (press until idle), 50k diff: median {ms(statistics.median(big_press))}"
          f"  p95 {ms(p95(big_press))}   (ended at row {at_row:,})")
    print(f"page down (press until idle), {small_changed:,}-line diff:  median {ms(statistics.median(small_press))}"
          f"  p95 {ms(p95(small_press))}")
    print(f"  ratio 50k/2k per page (median): {statistics.median(big_press) / statistics.median(small_press):5.2f}x")
    print(f"page down on an empty DiffView (harness + compositor floor): median {ms(statistics.median(idle_press))}"
          f"   50k page / floor {statistics.median(big_press) / statistics.median(idle_press):5.2f}x")
    print(f"drawing one page cold (render_line x rows), 50k diff: median {ms(statistics.median(big_draw))}"
          f"  p95 {ms(p95(big_draw))}")
    print(f"drawing one page cold, 2k diff:                       median {ms(statistics.median(small_draw))}"
          f"  p95 {ms(p95(small_draw))}")


def main() -> None:
    started = time.perf_counter()
    asyncio.run(run())
    print(f"total bench time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
