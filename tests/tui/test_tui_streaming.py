"""Streaming in the TUI: incremental review parsing, coalesced repaints, the frozen clock."""

from __future__ import annotations

import json
import re

import pytest

from counterpoint.tui.messages import SessionChanged
from counterpoint.tui.review_stream import ReviewScanner, finding_line
from counterpoint.workflow.demo import prepare_demo

from support.tui import demo_app

REVIEW = {
    "summary": 'Two problems, one "quoted" {brace}.',
    "verdict": "needs-changes",
    "findings": [
        {"path": "a.py", "start_line": 1, "end_line": 2, "severity": "high", "category": "security",
         "title": "Brace } in a string", "rationale": "x \\\" {", "suggestion": None, "confidence": 0.9},
        {"path": "b.py", "start_line": 5, "end_line": 5, "severity": "low", "category": "docs",
         "title": "Nested", "rationale": "has {\"inner\": [1, 2]}", "suggestion": "s",
         "confidence": 0.4, "extra": {"deep": {"x": 1}}},
    ],
}


@pytest.mark.parametrize("step", [1, 3, 17, 10_000])
def test_scanner_yields_each_finding_once_when_its_object_closes(step):
    text = "Some prose first.\n```json\n" + json.dumps(REVIEW, indent=2) + "\n```\n"
    scanner = ReviewScanner()
    seen: list[dict] = []
    for i in range(0, len(text), step):
        seen.extend(scanner.feed(text[i : i + step]))
    assert seen == REVIEW["findings"]
    assert scanner.summary == REVIEW["summary"]


def test_scanner_reports_a_finding_before_the_review_ends():
    text = json.dumps(REVIEW)
    cut = text.index('{"path": "b.py"')
    scanner = ReviewScanner()
    assert scanner.feed(text[:cut]) == [REVIEW["findings"][0]]
    assert scanner.feed(text[cut:]) == [REVIEW["findings"][1]]
    assert "`a.py:1-2`" in finding_line(REVIEW["findings"][0])
    assert "`b.py:5`" in finding_line(REVIEW["findings"][1])


def test_scanner_without_findings_yet():
    scanner = ReviewScanner()
    assert scanner.feed('{"summary": "partial') == []
    assert scanner.summary is None


async def test_delta_floods_are_coalesced_into_few_refreshes(demo):
    refreshes = 0

    def hook(message) -> None:
        nonlocal refreshes
        if isinstance(message, SessionChanged):
            refreshes += 1

    app = demo_app(demo)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        r = app.orch.session.current
        assert r.aligned
        deltas = sum(len(r.text(*key)) for key in r.streams) // 4  # ~ chunks streamed
        assert deltas > 1000
        assert 0 < refreshes < deltas / 20, (refreshes, deltas)


async def test_frozen_app_shows_no_clock_and_live_app_does(tmp_path):
    demo = prepare_demo(dest=tmp_path / "a")
    app = demo_app(demo, speed=0.02)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        r = app.orch.session.current
        key = next(iter(r.running))
        assert app.elapsed((r.number, *key)) == ""
        header = app.screen.header_text().plain
        assert "▶" in header and re.search(r"\b\d+s\b", header) is None
        await pilot.press("x")  # cancel the running steps
        await app.workers.wait_for_complete()
    live = demo_app(prepare_demo(dest=tmp_path / "b"), speed=0.02, frozen=False)
    async with live.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        r = live.orch.session.current
        key = next(iter(r.running))
        assert live.elapsed((r.number, *key)).endswith("s")
        assert re.search(r"\b\d+s\b", live.screen.header_text().plain)
        await pilot.press("x")
        await live.workers.wait_for_complete()
        await pilot.pause()
        assert not r.running and r.errors  # cancelled: shown as a failed step, retry with t
