"""The weak-review mark in the workbench: a reviewer that answers empty, is asked once more
and answers lazily again gets `◌ weak review` in its pane's title and status, and the
findings table's title counts it; a good review has no mark."""

from __future__ import annotations

import html
import re

import pytest
from rich.text import Text

from counterpoint.config import load_settings
from counterpoint.tui.app import make_app
from counterpoint.tui.panes import ReviewerPane
from counterpoint.tui.screens.workbench import WorkbenchScreen
from counterpoint.tui.startup import RunStart
from counterpoint.workspace import Workspace
from support.cassettes import GENERATOR_R1, cassette, exchange, finding, responses, review
from support.tui import workers_done


def plain(title: object) -> str:
    """A border title as drawn (Textual keeps it as markup)."""
    return Text.from_markup(str(title)).plain


EMPTY = {"summary": "", "verdict": "approve", "findings": []}
LAZY = {"summary": "LGTM.", "verdict": "approve", "findings": []}


def start(git_repo, tmp_path, second):
    gen = cassette(tmp_path / "gen.json", "openai:gpt-5.5", [
        exchange("generator", GENERATOR_R1),
        exchange("responder", data=responses(("r1-a1", "agree", "Yes."))),
    ])
    rev = cassette(tmp_path / "rev.json", "anthropic:claude-opus-5-5",
                   [exchange("reviewer", data=EMPTY), exchange("reviewer", data=second)])
    return make_app(RunStart(Workspace.open(git_repo), "Add mul()", gen, [rev]),
                    settings=load_settings(git_repo), frozen=True)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_a_review_still_lazy_after_its_retry_is_marked_weak(git_repo, tmp_path, size):
    app = start(git_repo, tmp_path, LAZY)
    async with app.run_test(size=size) as pilot:
        await workers_done(app, pilot, ready=lambda app: isinstance(app.screen, WorkbenchScreen))
        r = app.orch.session.current
        assert r.aligned and r.reviews["anthropic:claude-opus-5-5"].weak
        pane = app.screen.query_one(ReviewerPane)
        assert plain(pane.border_title) == "◌ weak · Reviewer · claude-opus-5-5"
        status = str(pane.query_one(".pane-status").render())
        assert status.endswith("0 findings · ◌ weak review")
        assert ("**◌ weak review**, even when asked once more: no findings, and the summary "
                "names no file of the proposal") in pane.shown_text
        assert str(app.screen.findings_table.border_title).endswith("· ◌ 1 weak review")
        drawn = html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace("\xa0", " ")
        assert "◌ weak · Reviewer · claude-opus-5" in drawn  # the mark stays at 80 columns
        assert "◌ 1 weak review" in drawn


async def test_a_good_retry_leaves_no_mark(git_repo, tmp_path):
    good = review(finding("app.py", 7, 8, "low", "testing", "mul() has no tests",
                          "The new mul helper is not covered by any test."))
    app = start(git_repo, tmp_path, good)
    async with app.run_test(size=(120, 40)) as pilot:
        await workers_done(app, pilot, ready=lambda app: isinstance(app.screen, WorkbenchScreen))
        r = app.orch.session.current
        assert r.aligned and r.reviews["anthropic:claude-opus-5-5"].retried
        pane = app.screen.query_one(ReviewerPane)
        assert plain(pane.border_title) == "Reviewer · claude-opus-5-5"
        assert "weak" not in str(app.screen.findings_table.border_title)
