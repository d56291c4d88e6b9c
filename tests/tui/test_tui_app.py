"""The Counterpoint TUI driven by Pilot on the scripted demo (instant replay cassettes).

Each test runs the real app on a fresh temp copy of the sample repository, with the real
orchestrator, journal and git workspace; keys are pressed as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Markdown, SelectionList, TextArea

from counterpoint.config import load_settings
from counterpoint.core.journal import read_journal
from counterpoint.providers.replay import write_cassette
from counterpoint.tui.app import make_app
from counterpoint.tui.startup import ResumeStart, RunStart, TaskStart
from counterpoint.tui.help import help_sections
from counterpoint.tui.panes import GeneratorPane, ReviewerPane
from counterpoint.tui.screens.apply import ApplyScreen
from counterpoint.tui.screens.dialogs import ExportScreen, HelpScreen, NoteScreen
from counterpoint.tui.screens.diff import DiffScreen
from counterpoint.tui.screens.task import TaskScreen
from counterpoint.core.alignment import sort_clusters
from counterpoint.tui.screens.workbench import WorkbenchScreen
from counterpoint.tui.widgets import DetailPane, DiffView, FindingsTable
from counterpoint.workflow.demo import prepare_demo
from counterpoint.workflow.launch import journal_path
from counterpoint.workspace import Workspace

from conftest import git
from support.tui import demo_app, workers_done

SIZE = (120, 40)


settle = workers_done


def journal_events(app, name: str) -> list:
    return [e for e in read_journal(journal_path(app.orch.session.id)).events if e.event == name]


# -- the round streams and aligns -------------------------------------------------------------
async def test_demo_round_streams_into_panes_and_aligns(demo):
    from counterpoint.tui import heap

    # Paced a little (unpaced, the demo's round can finish between two 10 ms looks)
    app = demo_app(demo, speed=20)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(500):
            if app.busy:
                break
            await pilot.pause(0.01)
        assert app.busy and heap._streaming  # the round streams: young survivors are frozen too
        await settle(app, pilot)
        assert not heap._streaming  # the round ended: `reclaim` ran
        screen = app.screen
        assert isinstance(screen, WorkbenchScreen)
        r = app.orch.session.current
        assert r.aligned and r.proposal is not None and r.clusters
        # generator pane: the proposal, its edit blocks as diffs (no raw markers), failed
        # edits listed with ✗ and their reason
        gen = screen.query_one(GeneratorPane)
        assert gen.proposal_text == r.proposal.text
        assert "<<<<<<< SEARCH" in r.proposal.text and "<<<<<<<" not in gen.shown_text
        assert "-    def allow(self, key: str) -> bool:" in gen.shown_text.replace("\x1a", "")
        extra = str(gen.query_one(".pane-extra").render())
        for failed in r.proposal.failed_edits:
            assert "✗" in extra and failed.reason in extra
        # ... and the file's lines nearest the failed SEARCH, numbered (the demo has one)
        missed = [f for f in r.proposal.failed_edits if f.nearest]
        assert missed, "the demo's failed edit has nearest lines"
        first = missed[0].nearest.splitlines()[0]
        assert f"{missed[0].nearest_line} │ {first}" in extra
        # one tab per reviewer, each listing that reviewer's findings
        panes = list(screen.query(ReviewerPane))
        assert [p.reviewer for p in panes] == r.reviewers
        for pane in panes:
            source = pane.shown_text
            for finding in r.reviews[pane.reviewer].findings:
                assert finding.id in source and finding.title in source
        # findings table: contested first, counts in the border title
        table = screen.query_one(FindingsTable)
        assert [c.id for c in table.clusters] == [c.id for c in sort_clusters(r.clusters)]
        contested = [c.contested for c in table.clusters]
        assert contested == sorted(contested, reverse=True)
        assert table.border_title.startswith(
            f"Findings {len(r.clusters)} · {sum(contested)} contested"
        )
        # header: repo@branch, round, models, tokens and cost per model
        header = str(screen.header_text())
        assert f"{demo.repo.name}@main" in header and "round 1" in header
        for model, totals in app.orch.session.usage.items():
            assert model.split(":", 1)[1] in header
            assert f"${totals.cost_usd:.3f}" in header
        # detail pane follows the highlighted cluster
        assert screen.query_one(DetailPane).cluster.id == table.current_cluster.id


# -- triage ---------------------------------------------------------------------------------
async def test_triage_keys_set_verdicts_and_notes_in_session_and_journal(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(FindingsTable)
        first = table.current_cluster.id
        await pilot.press("a")
        await pilot.press("j")
        second = table.current_cluster.id
        assert second != first
        await pilot.press("r")
        await pilot.press("n")
        assert isinstance(app.screen, NoteScreen)
        app.screen.query_one(TextArea).insert("only behind the balancer")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        r = app.orch.session.current
        assert r.cluster(first).verdict == "accepted"
        assert r.cluster(second).verdict == "rejected"
        assert r.cluster(second).note == "only behind the balancer"
        verdicts = [(e.cluster_id, e.verdict) for e in journal_events(app, "verdict_set")]
        assert verdicts == [(first, "accepted"), (second, "rejected")]
        assert [e.note for e in journal_events(app, "note_set")] == ["only behind the balancer"]
        # u: back to pending; k moves up again
        await pilot.press("u", "k")
        assert r.cluster(second).verdict == "pending"
        assert table.current_cluster.id == first
        await settle(app, pilot)
        assert "1 accepted" in table.border_title
        assert journal_events(app, "verdict_set")[-1].verdict == "pending"


async def test_letter_keys_reach_the_findings_from_a_focused_pane_arrows_scroll_it(demo):
    """j/a/... are priority bindings (handled as soon as the app reads them); the arrows are
    not, so a focused pane still scrolls with them."""
    from counterpoint.tui.panes import GeneratorPane
    from counterpoint.tui.widgets.markdown_log import MarkdownLog

    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(FindingsTable)
        log = app.screen.query_one(GeneratorPane).query_one(MarkdownLog)
        log.focus()
        log.scroll_home(animate=False)
        await pilot.pause()
        first = table.current_cluster.id
        await pilot.press("down")
        assert log.scroll_y > 0 and table.current_cluster.id == first
        # a letter key is taken on the app's first look at it (the priority pass), before
        # the focused pane or its parents see it
        assert await app._check_bindings("j", priority=True)
        assert not await app._check_bindings("down", priority=True)
        await pilot.press("a")
        second = table.current_cluster.id
        assert second != first and app.orch.session.current.cluster(second).verdict == "accepted"
        assert app.focused is log


# -- revise, rounds -------------------------------------------------------------------------
async def test_revise_runs_round_two_and_brackets_browse_rounds(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        round1 = app.orch.session.current
        await pilot.press("a")
        accepted = app.screen.query_one(FindingsTable).current_cluster.id
        await pilot.press("R")
        await settle(app, pilot)
        session = app.orch.session
        assert len(session.rounds) == 2
        r2 = session.current
        assert r2.builds_on == 1 and r2.aligned and r2.proposal is not None
        ids = ", ".join(f.id for f in round1.cluster(accepted).findings)  # asked about: by id
        assert f"## Accepted findings: fix these\n- {ids}\n" in (r2.instructions or "")
        screen = app.screen
        assert "round 2" in str(screen.header_text())
        assert screen.query_one(GeneratorPane).proposal_text == r2.proposal.text
        table = screen.query_one(FindingsTable)
        assert {c.id for c in table.clusters} == {c.id for c in r2.clusters}
        # [ shows round 1 read-only, with its verdicts
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert screen.viewed is round1 and screen.read_only
        assert {c.id for c in table.clusters} == {c.id for c in round1.clusters}
        assert "read-only" in table.border_title
        assert screen.query_one(GeneratorPane).proposal_text == round1.proposal.text
        table.select_cluster(accepted)
        before = [(c.id, c.verdict) for c in round1.clusters]
        await pilot.press("r")  # read-only: nothing changes
        assert [(c.id, c.verdict) for c in round1.clusters] == before
        await pilot.press("left_square_bracket")  # no round 0
        assert screen.viewed is round1
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert screen.viewed is r2 and not screen.read_only
        assert screen.query_one(GeneratorPane).proposal_text == r2.proposal.text


# -- diff -----------------------------------------------------------------------------------
async def test_diff_screen_opens_at_the_finding_and_enter_jumps_back(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        workbench = app.screen
        table = workbench.query_one(FindingsTable)
        await pilot.press("j")
        cluster = table.current_cluster
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        view = app.screen.query_one(DiffView)
        path, line = view.line_at_cursor()
        assert path == cluster.path and line == min(cluster.start_line, cluster.end_line)
        flagged = view.row_info(view.cursor_row)[2]
        assert flagged is not None
        await pilot.press("t")  # round 1 revises nothing: stays on the repository diff
        assert not app.screen.compare_previous
        # move away in the table, then enter on the flagged line comes back to its finding
        table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is workbench
        assert table.current_cluster.id == flagged


async def test_diff_toggle_compares_with_previous_round(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a", "R")
        await settle(app, pilot)
        r2 = app.orch.session.current
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        view = screen.query_one(DiffView)
        assert view.changeset == r2.changeset
        await pilot.press("t")
        expected = r2.changeset.since(app.orch.session.round(1).changeset)
        assert screen.compare_previous and view.changeset == expected
        assert "vs round 1" in str(screen.query_one("#diff-title").render())
        await pilot.press("escape")
        assert isinstance(app.screen, WorkbenchScreen)


# -- apply and undo -------------------------------------------------------------------------
async def test_apply_writes_selected_hunks_and_undo_restores(demo):
    repo = demo.repo
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        r = app.orch.session.current
        originals = {c.path: (repo / c.path).read_text() if c.old is not None else None for c in r.changeset.files}
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ApplyScreen)
        pending = str(screen.query_one("#apply-pending").render())
        contested = [c for c in r.clusters if c.contested and c.verdict == "pending"]
        assert f"{len(contested)} contested findings are still pending" in pending
        for c in contested:
            assert c.title in pending
        assert screen.choice.chosen_ids() == {h.id for h in r.changeset.hunks}
        assert git(repo, "status", "--porcelain") == ""  # nothing written before confirming
        await pilot.press("y")
        await pilot.pause()
        for change in r.changeset.files:
            target = repo / change.path
            assert (target.read_text() if target.exists() else None) == change.new
        applied = app.orch.session.last_applied
        assert applied is not None and applied.undo_id in str(screen.query_one("#apply-result").render())
        await pilot.press("U")
        await pilot.pause()
        for path, text in originals.items():
            target = repo / path
            assert (target.read_text() if target.exists() else None) == text
        assert git(repo, "status", "--porcelain") == ""
        assert app.orch.session.last_applied is None
        assert "restored" in str(screen.query_one("#apply-result").render())


async def test_apply_some_hunks_only_and_conflict_writes_nothing(demo):
    repo = demo.repo
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        r = app.orch.session.current
        first = r.changeset.files[0]
        # the human edits a file the proposal touches: apply must refuse and write nothing
        (repo / first.path).write_text((repo / first.path).read_text() + "\n# local edit\n")
        await pilot.press("A")
        await pilot.pause()
        screen = app.screen
        await pilot.press("minus", "space")  # none, then the first hunk (the cursor's)
        assert screen.choice.chosen_ids() == {first.hunks[0].id}
        await pilot.press("y")
        await pilot.pause()
        result = str(screen.query_one("#apply-result").render())
        assert "Nothing was written" in result and first.path in result
        assert app.orch.session.last_applied is None
        # restore the file; now exactly that one hunk is applied
        git(repo, "checkout", "--", first.path)
        await pilot.press("y")
        await pilot.pause()
        applied = app.orch.session.last_applied
        assert applied is not None and applied.hunk_ids == [first.hunks[0].id]
        assert applied.files == [first.path]


# -- export, help, palette ------------------------------------------------------------------
async def test_export_writes_to_counterpoint_home_not_the_repo(demo, counterpoint_home):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("down", "enter")  # json
        await pilot.pause()
        path = counterpoint_home / "exports" / f"counterpoint-{app.orch.session.id}.json"
        assert app.last_export == path
        data = json.loads(path.read_text())
        assert data["session_id"] == app.orch.session.id
        assert git(demo.repo, "status", "--porcelain") == ""


async def test_help_lists_every_binding(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(_plain(s.content) for s in app.screen.query(".help-table"))
        for _title, bindings in help_sections():
            for keys, description in HelpScreen.rows(bindings):
                assert description in text, description
                assert keys in text, keys
        for key in ("[", "]", "?", "R", "A", "ctrl+p"):
            assert key in text
        await pilot.press("escape")
        assert isinstance(app.screen, WorkbenchScreen)


def _plain(renderable) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=open("/dev/null", "w"))
    console.print(renderable)
    return console.export_text()


async def test_command_palette_offers_every_workbench_action(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for binding in WorkbenchScreen.BINDINGS:
            assert binding.description in titles
        assert {"Quit", "Help"} <= titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        from textual.command import CommandPalette

        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        # run one action through its palette command: accept
        command = next(c for c in app.get_system_commands(app.screen) if c.title == "Accept")
        await command.callback()
        current = app.screen.query_one(FindingsTable).current_cluster
        assert app.orch.session.current.cluster(current.id).verdict == "accepted"


# -- swap -----------------------------------------------------------------------------------
async def test_swap_roles_reruns_the_round_with_roles_exchanged(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        session = app.orch.session
        old_gen, old_revs = session.generator, list(session.reviewers)
        await pilot.press("s")
        await settle(app, pilot)
        assert session.generator == old_revs[0]
        assert session.reviewers == [old_gen, *old_revs[1:]]
        r = session.current
        assert r.number == 2 and r.generator == old_revs[0] and r.aligned and not r.errors
        header = str(app.screen.header_text())
        assert f"gen {old_revs[0].split(':', 1)[1]}" in header
        assert f"rev {old_gen.split(':', 1)[1]}" in header
        tabs = [p.reviewer for p in app.screen.query(ReviewerPane)]
        assert tabs == r.reviewers


# -- provider errors and retry --------------------------------------------------------------
def _cassettes(tmp_path: Path) -> tuple[str, str]:
    proposal = (
        "Add a subtraction helper.\n\napp.py\n```python\n<<<<<<< SEARCH\n=======\n"
        "def sub(a, b):\n    return a - b\n>>>>>>> REPLACE\n```\n"
    )
    review = {
        "summary": "One gap.",
        "verdict": "needs-changes",
        "findings": [
            {"path": "app.py", "start_line": 3, "end_line": 4, "severity": "low",
             "category": "testing", "title": "sub has no test", "rationale": "Untested.",
             "suggestion": None, "confidence": 0.7}
        ],
    }
    gen = tmp_path / "gen.json"
    write_cassette(gen, "openai:gpt-5.5", [
        {"role": "generator", "text": proposal,
         "error": {"kind": "server", "message": "upstream 503", "after_chunks": 4}},
        {"role": "generator", "text": proposal, "usage": {"input_tokens": 100, "output_tokens": 40}},
        {"role": "responder", "text": "",
         "data": {"responses": [{"finding_id": "r1-a1", "stance": "agree", "reply": "Will add."}]}},
    ], scripted=True)
    rev = tmp_path / "rev.json"
    write_cassette(rev, "anthropic:claude-opus-5-5", [
        {"role": "reviewer", "text": json.dumps(review), "data": review},
    ], scripted=True)
    return f"replay:{gen}", f"replay:{rev}"


async def test_provider_error_shows_in_its_pane_and_retry_completes_the_round(git_repo, tmp_path):
    generator, reviewer = _cassettes(tmp_path)
    app = make_app(
        RunStart(Workspace.open(git_repo), "Add sub()", generator, [reviewer]),
        settings=load_settings(git_repo), frozen=True,
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        r = app.orch.session.current
        assert ("generate", "openai:gpt-5.5") in r.errors and r.proposal is None
        gen = app.screen.query_one(GeneratorPane)
        box = gen.query_one(".pane-error")
        assert box.display
        message = str(gen.query_one(".pane-error-text").render())
        assert "server" in message and "upstream 503" in message and "generate" in message
        # the rest stays usable: the table and keys respond
        await pilot.press("j", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "t")
        await settle(app, pilot)
        assert not r.errors and r.proposal is not None and r.aligned
        assert not gen.query_one(".pane-error").display
        assert [c.title for c in r.clusters] == ["sub has no test"]
        assert r.clusters[0].stance == "agree"


async def test_retry_button_is_clickable(git_repo, tmp_path):
    generator, reviewer = _cassettes(tmp_path)
    app = make_app(
        RunStart(Workspace.open(git_repo), "Add sub()", generator, [reviewer]),
        settings=load_settings(git_repo), frozen=True,
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.click(".retry")
        await settle(app, pilot)
        assert app.orch.session.current.aligned


# -- quit and resume ------------------------------------------------------------------------
async def test_resume_after_quit_reopens_rounds_and_verdicts(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("a", "j", "r", "R")
        await settle(app, pilot)
        await pilot.press("a")
        session_id = app.orch.session.id
        before = [[(c.id, c.verdict, c.note) for c in r.clusters] for r in app.orch.session.rounds]
        await pilot.press("q")
    assert app.return_code == 0
    assert journal_events_by_id(session_id, "session_finished")[-1].state == "quit"

    again = make_app(ResumeStart(session_id), settings=load_settings(None), speed=0, frozen=True)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        session = again.orch.session
        after = [[(c.id, c.verdict, c.note) for c in r.clusters] for r in session.rounds]
        assert after == before
        screen = again.screen
        assert isinstance(screen, WorkbenchScreen)
        assert "round 2" in str(screen.header_text())
        assert screen.query_one(GeneratorPane).proposal_text == session.current.proposal.text
        table = screen.query_one(FindingsTable)
        shown = {c.id: c.verdict for c in table.clusters}
        assert shown == {c.id: c.verdict for c in session.current.clusters}


def journal_events_by_id(session_id: str, name: str) -> list:
    return [e for e in read_journal(journal_path(session_id)).events if e.event == name]


async def test_resume_continues_a_round_cut_off_by_quit(demo):
    app = demo_app(demo, speed=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        r = app.orch.session.current
        assert r.running and not r.aligned  # cut off mid-stream
        session_id = app.orch.session.id
        await pilot.press("q")
    again = make_app(ResumeStart(session_id), settings=load_settings(None), speed=0, frozen=True)
    async with again.run_test(size=SIZE) as pilot:
        await settle(again, pilot)
        r = again.orch.session.current
        assert r.number == 1 and r.aligned and not r.errors and r.clusters


# -- task screen, theme, small terminal -----------------------------------------------------
async def test_task_screen_starts_a_session(git_repo, tmp_path):
    generator, reviewer = _cassettes(tmp_path)
    app = make_app(TaskStart(Workspace.open(git_repo)), settings=load_settings(git_repo), frozen=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        assert "repo@main" in str(screen.query_one("#task-title").render())
        await pilot.press("ctrl+s")
        assert "Write the task" in str(screen.query_one("#task-error").render())
        screen.query_one("#task-text", TextArea).insert("Add sub()")
        extra = screen.query_one("#extra-model")
        for spec in (generator, reviewer):
            extra.value = spec
            await extra.action_submit()
            await pilot.pause()
        screen.query_one("#generator").value = generator
        screen.query_one("#reviewers", SelectionList).select(reviewer)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        await pilot.press("t")  # the first generator exchange fails by design
        await settle(app, pilot)
        assert isinstance(app.screen, WorkbenchScreen)
        assert app.orch.session.task == "Add sub()"
        assert app.orch.session.current.aligned


async def test_theme_change_is_persisted(demo, counterpoint_home):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.theme == "counterpoint-dark"
        app.theme = "counterpoint-light"
        await pilot.pause()
    saved = (counterpoint_home / "config" / "counterpoint" / "config.toml").read_text()
    assert 'theme = "counterpoint-light"' in saved
    assert load_settings(None).theme == "counterpoint-light"
    again = demo_app(prepare_demo(dest=demo.repo.parent.parent / "demo2"))
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "counterpoint-light"


async def test_small_terminal_80x24(demo):
    app = demo_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.has_class("-compact")
        for selector in ("#header", "#generator-pane", "#reviewer-tabs", "#findings", "#detail"):
            region = screen.query_one(selector).region
            assert region.width > 0 and region.height > 0, selector
            assert region.bottom <= 24
        table = screen.query_one(FindingsTable)
        assert table.row_count == len(app.orch.session.current.clusters)
        await pilot.press("a", "d")
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        await pilot.press("escape", "A")
        await pilot.pause()
        assert isinstance(app.screen, ApplyScreen)


async def test_round_two_fixes_what_was_accepted_and_not_what_was_rejected(demo):
    """The demo listens: reject the X-Forwarded-For finding, accept the lost event with a
    note, revise: round 2 fixes the lost event, says it left the rejected one, answers the note."""
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        round1 = app.orch.session.current
        table = app.screen.query_one(FindingsTable)
        bypass = next(c for c in round1.clusters if "X-Forwarded-For" in c.title)
        lost = next(c for c in round1.clusters if c.agreement == "consensus")
        table.select_cluster(bypass.id)
        await pilot.press("r")
        table.select_cluster(lost.id)
        await pilot.press("a", "n")
        assert isinstance(app.screen, NoteScreen)
        app.screen.query_one(TextArea).insert("keep it one transaction")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert (round1.cluster(bypass.id).verdict, round1.cluster(lost.id).verdict) == ("rejected", "accepted")
        await pilot.press("R")
        await settle(app, pilot)
        r2 = app.orch.session.current
        assert r2.number == 2 and r2.proposal is not None and not r2.proposal.failed_edits
        text = r2.proposal.text
        head = text.split("<<<<<<< SEARCH")[0]
        assert f"Not fixed, because you rejected them:\n\n- {bypass.title} (r1-a1)" in head
        assert "you wrote “keep it one transaction”: the claim and the payment update" in head
        files = r2.proposal.files
        assert "self.storage.transaction()" in (files.get("payments_webhooks/webhooks.py") or "")
        assert "trusted_proxies" not in (files.get("payments_webhooks/app.py") or "")
        shown = app.screen.query_one(GeneratorPane).shown_text
        assert "because you rejected them" in shown and "keep it one transaction" in shown
