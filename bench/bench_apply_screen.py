"""How fast the apply screen opens on 2,000 hunks and moves its cursor.

Run: PYTHONPATH=src .venv/bin/python bench/bench_apply_screen.py

In one headless app run (`App.run_test(size=(120, 40))`):
- open: push the apply screen until the app is idle (first frame drawn), on a proposal of
  2,000 hunks in 100 files with 300 findings on them, and on an empty proposal (baseline);
- cursor move: `j` until the app is idle (the list row and the preview repainted), median and
  p95 over 200 moves, on both screens;
- repaint only: the screen's own work per move (cursor, preview, every visible row drawn cold),
  without the event loop and Pilot.
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
from counterpoint.tui.screens.apply import ApplyScreen
from counterpoint.tui.theme import register_all, theme_variable_defaults

FILES = 100
HUNKS_PER_FILE = 20
FINDINGS = 300
MOVES = 200


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
    return SimpleNamespace(session=SimpleNamespace(last_proposal_round=r, last_applied=None))


class BenchApp(App[None]):
    CSS_PATH = "../src/counterpoint/tui/app.tcss"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def on_mount(self) -> None:
        register_all(self)
        self.theme = "counterpoint-dark"


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
        empty_open = await open_screen(app, pilot, orchestrator(empty, []))
        empty_moves = await moves(pilot, MOVES)
        app.pop_screen()
        await pilot.pause()
        big_open = await open_screen(app, pilot, orchestrator(big, clusters))
        screen = app.screen
        assert isinstance(screen, ApplyScreen) and len(screen.choice.pieces) == len(big.hunks)
        big_moves = await moves(pilot, MOVES)
        assert screen.hunks.cursor == MOVES
        big_paint = [repaint(screen) for _ in range(MOVES)]
        app.pop_screen()
        await pilot.pause()
        await open_screen(app, pilot, orchestrator(empty, []))
        empty_paint = [repaint(app.screen) for _ in range(MOVES)]  # type: ignore[arg-type]

    print(f"apply screen, {len(big.hunks)} hunks in {FILES} files, {FINDINGS} findings, 120x40")
    print(f"  open           empty {ms(empty_open)}   2,000 hunks {ms(big_open)}"
          f"   ratio {big_open / empty_open:5.2f}x   target < 200 ms: {'ok' if big_open < 0.2 else 'MISSED'}")
    e_med, b_med = statistics.median(empty_moves), statistics.median(big_moves)
    print(f"  cursor move    empty {ms(e_med)}   2,000 hunks {ms(b_med)}"
          f"   ratio {b_med / e_med:5.2f}x   (median of {MOVES}; p95 {ms(p95(big_moves))})"
          f"   target < 16 ms: {'ok' if b_med < 0.016 else 'MISSED'}")
    e_paint, b_paint = statistics.median(empty_paint), statistics.median(big_paint)
    print(f"  repaint only   empty {ms(e_paint)}   2,000 hunks {ms(b_paint)}"
          f"   ratio {b_paint / e_paint:5.2f}x   (the screen's own work per move, median; p95 {ms(p95(big_paint))})")
    print("  (open and cursor move include Pilot's key press and waiting for idle: on a loaded"
          " machine read the ratios)")


if __name__ == "__main__":
    asyncio.run(run())
