"""A review of 5,000 findings streams into the TUI: every finding is listed in the reviewer's
pane and in the findings table (the pane formats each finding once, the log cuts the long
list between items)."""

from __future__ import annotations

from counterpoint.config import load_settings
from counterpoint.tui.app import make_app
from counterpoint.tui.panes import ReviewerPane
from counterpoint.tui.startup import RunStart
from counterpoint.tui.widgets import FindingsTable
from counterpoint.workspace import Workspace

from support.tui import workers_done
from tests.support.cassettes import GENERATOR_R1, cassette, exchange, finding, review

COUNT = 5000


async def test_five_thousand_findings_all_reach_the_pane_and_the_table(git_repo, tmp_path):
    findings = [
        finding("app.py", 1 + n % 2, 1 + n % 2, "high", "correctness",
                f"Problem {n} in the function number {n}", f"Rationale {n}.")
        for n in range(COUNT)
    ]
    gen = cassette(tmp_path / "gen.json", "openai:gpt-5.5",
                   [exchange("generator", GENERATOR_R1), exchange("responder", data={"responses": []})])
    rev = cassette(tmp_path / "rev.json", "anthropic:claude-opus-5-5",
                   [exchange("reviewer", data=review(*findings))])
    start = RunStart(Workspace.open(git_repo), "Validate add", gen, [rev])
    app = make_app(start, settings=load_settings(None), speed=None, frozen=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await workers_done(app, pilot, ready=lambda app: bool(
            app.orch and app.orch.session.current and app.orch.session.current.aligned))
        r = app.orch.session.current
        assert len(r.findings) == COUNT
        table = app.screen.query_one(FindingsTable)
        shown = {f.id for c in table.clusters for f in c.findings}
        assert shown == {f.id for f in r.findings}
        (pane,) = app.screen.query(ReviewerPane)
        text = pane.shown_text
        assert all(f"`{f.id}`" in text for f in r.findings)
        assert text.count("\n- `") == COUNT
