"""How fast the apply screen opens on 2,000 hunks and moves its cursor.

Run: PYTHONPATH=src .venv/bin/python bench/bench_apply_screen.py

In one headless app run (`App.run_test(size=(120, 40))`), garbage collected as the app does
it (`heap.settle_after_startup` once up: what survives a full collection is frozen):
- open: push the apply screen until the app is idle (first frame drawn), on a proposal of
  2,000 hunks in 100 files with 300 findings on them, and on an empty proposal (baseline);
  median of OPENS, taken in turns;
- cursor move: `j` until the app is idle (the list row and the preview repainted), median and
  p95 over 200 moves, on both screens (Pilot's key press and its waits included);
- move, direct: what a move costs the screen without the event loop and Pilot: the list's
  cursor action, the preview shown for the new hunk (what its Moved message does), and the
  lines that changed drawn (the list's old and new rows, every visible preview row);
- repaint only: the same with every visible row of both sides drawn cold (a page's worth).
Targets (issue 11): open < 200 ms, a cursor move < 16 ms; printed with ratios to the baseline.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from types import SimpleNamespace

from textual.app import App

from counterpoint.core.changeset import ChangeSet
from counterpoint.core.findings import Cluster, Finding
from counterpoint.core.session import RoundState
from counterpoint.tui.heap import settle_after_startup
from counterpoint.tui.screens.apply import ApplyScreen
from counterpoint.tui.theme import register_all, theme_variable_defaults
from counterpoint.tui.widgets.row_list import RowList

FILES = 100
HUNKS_PER_FILE = 20
FINDINGS = 300
MOVES = 200
OPENS = 5


def make_changeset(files: int, hunks: int) -> ChangeSet:
    """`files` Python files, each with `hunks` hunks (a changed line every 12 lines)."""
    base: dict[str, str | None] = {}
    new: dict[str, str | None] = {}
    for f in range(files):
        old = [f"def f{f}_{n}(x):\n    return x + {n}\n" for n in range(hunks * 6)]
        changed = [line.replace("x + ", "x * ") if n % 6 == 0 else line for n, line in enumerate(old)]
        base[f"pkg/module_{f:03d}.py"] = "".join(old)
        new[f"pkg/module_{f:03d}.py"] = "".join(changed)
    return ChangeSet.from_contents(base, new)


def make_clusters(changeset: ChangeSet, count: int) -> list[Cluster]:
    hunks = changeset.hunks
    out = []
    for n in range(count):
        h = hunks[(n * 7) % len(hunks)]
        finding = Finding(
            id=f"f{n}", round=1, reviewer="r", severity="medium", category="correctness", path=h.path,
            start_line=h.new_start + 3, end_line=h.new_start + 3, title=f"finding {n}",
            rationale="bench",
        )
        out.append(
            Cluster(
                id=f"c{n}", round=1, findings=[finding], agreement="solo",
                contested=n % 3 == 0, severity="medium", category="correctness", path=h.path,
                start_line=finding.start_line, end_line=finding.end_line, title=finding.title,
            )
        )
    return out


def orchestrator(changeset: ChangeSet, clusters: list[Cluster]) -> SimpleNamespace:
    """What the apply screen reads of an orchestrator: the session's proposal round."""
    r = RoundState(number=1, generator="g", reviewers=["r"])
    r.__dict__["changeset"] = changeset
    r.clusters = clusters
    return SimpleNamespace(session=SimpleNamespace(last_proposal_round=r, last_applied=None), checks=None)


class BenchApp(App[None]):
    CSS_PATH = "../src/counterpoint/tui/app.tcss"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def on_mount(self) -> None:
        register_all(self)
        self.theme = "counterpoint-dark"
        self.call_after_refresh(settle_after_startup)  # as CounterpointApp does


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def open_screen(app: App[None], pilot, orch: SimpleNamespace) -> float:  # noqa: ANN001
    started = time.perf_counter()
    await app.push_screen(ApplyScreen(orch))  # type: ignore[arg-type]
    await pilot.pause()
    return time.perf_counter() - started


async def moves(pilot, count: int) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await pilot.press("j")
        await pilot.pause()
        times.append(time.perf_counter() - started)
    return times


def move(screen: ApplyScreen) -> float:
    """One cursor move's own work, without the event loop: the list's cursor action (which
    marks its old and new rows for redrawing), the preview shown for the new hunk (what the
    list's Moved message does), then the changed lines drawn: the two list rows and every
    visible preview row."""
    hunks, preview = screen.hunks, screen.preview
    started = time.perf_counter()
    old = hunks.cursor
    hunks.action_cursor_down()
    screen.on_row_list_moved(RowList.Moved(hunks, hunks.cursor))
    top = hunks.scroll_offset.y
    for row in {old, hunks.cursor}:
        if 0 <= row - top < hunks.size.height:
            hunks._texts.pop(row, None)
            hunks.render_line(row - top)
    for y in range(preview.size.height):
        preview.render_line(y)
    return time.perf_counter() - started


async def opens(app: App[None], pilot, big: SimpleNamespace, empty: SimpleNamespace) -> dict[str, float]:  # noqa: ANN001
    """Median open times, wall and CPU (the process's: what a loaded machine does not
    inflate), of the big and the empty screen, taken in turns."""
    times: dict[str, list[float]] = {"big": [], "empty": [], "big cpu": [], "empty cpu": []}
    for _ in range(OPENS):
        for name, orch in (("empty", empty), ("big", big)):
            cpu = time.process_time()
            times[name].append(await open_screen(app, pilot, orch))
            times[f"{name} cpu"].append(time.process_time() - cpu)
            app.pop_screen()
            await pilot.pause()
    return {name: statistics.median(values) for name, values in times.items()}


def repaint(screen: ApplyScreen) -> float:
    """The screen's own work for one cursor move, without the event loop: the list's cursor,
    the preview shown for the new hunk, and every visible row of both drawn from scratch."""
    started = time.perf_counter()
    screen.hunks.cursor += 1
    screen.preview.show(screen.hunks.piece)
    for rows in (screen.hunks, screen.preview):
        rows._texts.clear()
        for y in range(rows.size.height):
            rows.render_line(y)
    return time.perf_counter() - started


async def run() -> None:
    big = make_changeset(FILES, HUNKS_PER_FILE)
    clusters = make_clusters(big, FINDINGS)
    empty = ChangeSet(files=())
    app = BenchApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # warm-up (imports, Pygments lexer, styles), then measure
        await open_screen(app, pilot, orchestrator(big, clusters))
        app.pop_screen()
        await pilot.pause()
        opened = await opens(app, pilot, orchestrator(big, clusters), orchestrator(empty, []))
        big_open, empty_open = opened["big"], opened["empty"]
        await open_screen(app, pilot, orchestrator(empty, []))
        empty_moves = await moves(pilot, MOVES)
        app.pop_screen()
        await pilot.pause()
        await open_screen(app, pilot, orchestrator(big, clusters))
        screen = app.screen
        assert isinstance(screen, ApplyScreen) and len(screen.choice.pieces) == len(big.hunks)
        big_moves = await moves(pilot, MOVES)
        assert screen.hunks.cursor == MOVES
        big_direct = [move(screen) for _ in range(MOVES)]
        big_paint = [repaint(screen) for _ in range(MOVES)]
        app.pop_screen()
        await pilot.pause()
        await open_screen(app, pilot, orchestrator(empty, []))
        empty_direct = [move(app.screen) for _ in range(MOVES)]  # type: ignore[arg-type]
        empty_paint = [repaint(app.screen) for _ in range(MOVES)]  # type: ignore[arg-type]

    print(f"apply screen, {len(big.hunks)} hunks in {FILES} files, {FINDINGS} findings, 120x40")
    print(f"  open (median of {OPENS})  empty {ms(empty_open)}   2,000 hunks {ms(big_open)}"
          f"   ratio {big_open / empty_open:5.2f}x   target < 200 ms: {'ok' if big_open < 0.2 else 'MISSED'}")
    big_cpu, empty_cpu = opened["big cpu"], opened["empty cpu"]
    print(f"  open, CPU      empty {ms(empty_cpu)}   2,000 hunks {ms(big_cpu)}"
          f"   ratio {big_cpu / empty_cpu:5.2f}x   (the process's CPU time: read this one on a loaded machine)")
    e_med, b_med = statistics.median(empty_moves), statistics.median(big_moves)
    print(f"  cursor move    empty {ms(e_med)}   2,000 hunks {ms(b_med)}"
          f"   ratio {b_med / e_med:5.2f}x   (median of {MOVES}; p95 {ms(p95(big_moves))})"
          f"   target < 16 ms: {'ok' if b_med < 0.016 else 'MISSED'}")
    e_direct, b_direct = statistics.median(empty_direct), statistics.median(big_direct)
    print(f"  move, direct   empty {ms(e_direct)}   2,000 hunks {ms(b_direct)}"
          f"   ratio {b_direct / e_direct:5.2f}x   (median; p95 {ms(p95(big_direct))})"
          f"   target < 16 ms: {'ok' if b_direct < 0.016 else 'MISSED'}")
    e_paint, b_paint = statistics.median(empty_paint), statistics.median(big_paint)
    print(f"  repaint only   empty {ms(e_paint)}   2,000 hunks {ms(b_paint)}"
          f"   ratio {b_paint / e_paint:5.2f}x   (the screen's own work per move, median; p95 {ms(p95(big_paint))})")
    print("  (open and cursor move include Pilot's key press and waiting for idle: on a loaded"
          " machine read the ratios)")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
