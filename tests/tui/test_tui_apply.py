"""The apply screen's keys on the demo (Pilot): line mode, ranges, split, comments, tab, the
counter; what is written is exactly what is shown chosen, and undo restores it."""

from __future__ import annotations

from counterpoint.core.journal import read_journal
from counterpoint.core.selection import apply_selection, split, whole
from counterpoint.core.session import Session
from counterpoint.tui.apply_state import ApplyChoice
from counterpoint.tui.screens.apply import ApplyScreen
from counterpoint.tui.widgets.hunk_views import HunkList, HunkPreview
from counterpoint.workflow.launch import journal_path

from conftest import git
from support.tui import demo_app, workers_done

SIZE = (120, 40)


async def open_apply(app, pilot) -> ApplyScreen:
    await workers_done(app, pilot)
    await pilot.press("A")
    await pilot.pause()
    assert isinstance(app.screen, ApplyScreen)
    return app.screen


def progress(screen: ApplyScreen) -> str:
    return str(screen.query_one("#apply-progress").render())


def journal(app, name: str) -> list:
    events = read_journal(journal_path(app.orch.session.id)).events
    return [e for e in events if e.event == name]


async def test_line_mode_applies_exactly_the_chosen_lines_and_undo_restores(demo):
    repo = demo.repo
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_apply(app, pilot)
        r = app.orch.session.current
        hunk = r.changeset.hunks[1]  # app.py: twelve added lines
        before = (repo / hunk.path).read_text()
        await pilot.press("minus")  # nothing chosen
        assert progress(screen).startswith(f"0 of {len(r.changeset.hunks)} hunks chosen")
        await pilot.press("j", "a")
        assert screen.mode == "line" and screen.focused is screen.preview
        assert "line mode" in progress(screen)
        preview = screen.query_one(HunkPreview)
        first = preview.line_index(preview.cursor)
        assert first == hunk.lines.index(next(x for x in hunk.lines if x.startswith("+")))
        await pilot.press("space", "j", "space")  # the first two added lines
        chosen = sorted(screen.choice.chosen[hunk.id])
        assert chosen == [first, first + 1]
        assert "(1 in part)" in progress(screen)
        assert str(screen.query_one(HunkList).row_text(1)).startswith("[±]")
        await pilot.press("y")
        await pilot.pause()
        expected = apply_selection(r.changeset, {hunk.id: chosen})[hunk.path]
        written = (repo / hunk.path).read_text()
        assert written == expected
        assert hunk.lines[first][1:] in written and hunk.lines[first + 3][1:] not in written
        assert git(repo, "status", "--porcelain").split() == ["M", hunk.path]
        (applied,) = journal(app, "applied")
        assert applied.hunk_ids == [hunk.id] and applied.lines == {hunk.id: chosen}
        await pilot.press("U")
        await pilot.pause()
        assert (repo / hunk.path).read_text() == before
        assert git(repo, "status", "--porcelain") == ""


async def test_range_in_line_mode_and_in_hunk_mode(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_apply(app, pilot)
        hunk = app.orch.session.current.changeset.hunks[1]
        await pilot.press("j", "a", "v", "j", "j", "space")  # three lines dropped at once
        assert len(hunk.lines) - 6 - len(screen.choice.chosen[hunk.id]) == 3
        assert screen.preview.range_start is None
        await pilot.press("a")  # back to hunk mode: a range of hunks
        assert screen.mode == "hunk" and screen.focused is screen.hunks
        await pilot.press("v", "j", "j", "space")
        assert screen.hunks.range_start is None
        states = [screen.choice.state(p) for p in screen.choice.pieces[1:4]]
        assert states == ["all", "all", "all"]  # one of them was in part: all chosen
        await pilot.press("v", "k", "k", "space")
        states = [screen.choice.state(p) for p in screen.choice.pieces[1:4]]
        assert states == ["none", "none", "none"]
        await pilot.press("plus")
        assert screen.choice.chosen_ids() == set(screen.choice.hunks)


async def test_split_then_apply_one_part(demo):
    repo = demo.repo
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_apply(app, pilot)
        cs = app.orch.session.current.changeset
        hunk = cs.hunks[6]  # ratelimit.py: three runs of changes
        parts = split(whole(hunk))
        await pilot.press("minus", *["j"] * 6, "s")
        assert len(screen.choice.pieces) == len(cs.hunks) + 2
        assert [p.header for p in screen.choice.pieces[6:9]] == [p.header for p in parts]
        assert f"of {len(cs.hunks) + 2} hunks chosen" in progress(screen)
        assert hunk.path in str(screen.preview.row_text(screen.preview.first_line - 1))
        await pilot.press("s")  # a part has one run: says so, changes nothing
        assert "cannot be split" in str(screen.query_one("#apply-result").render())
        await pilot.press("j", "space", "y")  # the second part only
        await pilot.pause()
        expected = apply_selection(cs, {hunk.id: parts[1].changed})[hunk.path]
        assert (repo / hunk.path).read_text() == expected
        assert git(repo, "status", "--porcelain").split() == ["M", hunk.path]
        await pilot.press("escape")  # the split and the choice are kept in the session
        await pilot.pause()
        (selection,) = journal(app, "selection_set")
        assert selection.splits == {hunk.id: [p.start for p in parts]}
        await pilot.press("A")
        await pilot.pause()
        again = app.screen
        assert [p.header for p in again.choice.pieces[6:9]] == [p.header for p in parts]
        assert again.choice.selection() == {hunk.id: parts[1].changed}


async def test_comment_and_dropped_hunks_go_to_the_next_revision(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_apply(app, pilot)
        cs = app.orch.session.current.changeset
        dropped, commented = cs.hunks[0], cs.hunks[2]
        await pilot.press("space", "j", "j", "c")  # drop README's hunk, comment on app.py's
        await pilot.pause()
        await pilot.press(*"name the header constant", "ctrl+s")
        await pilot.pause()
        assert screen.choice.comments == {commented.id: "name the header constant"}
        assert "✎" in str(screen.hunks.row_text(2))
        assert "✎ name the header constant" in "".join(
            str(screen.preview.row_text(k)) for k in range(screen.preview.first_line)
        )
        await pilot.press("escape", "R")
        await workers_done(app, pilot)
        (selection,) = journal(app, "selection_set")
        assert dropped.id not in selection.lines and selection.comments == {commented.id: "name the header constant"}
        round2 = app.orch.session.round(2)
        text = round2.instructions or ""
        dropped_part = text.split("## Hunks the human dropped")[1].split("\n## ")[0]
        assert f"{dropped.path} {dropped.header}" in dropped_part
        assert commented.path in text.split("## The human's comments on hunks they kept")[1]
        assert "name the header constant" in text


async def test_tab_takes_turns_at_80x24(demo):
    app = demo_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_apply(app, pilot)
        assert screen.has_class("-compact")
        hunks, preview = screen.hunks, screen.preview
        assert hunks.display and hunks.region.width > 0 and preview.region.width == 0
        await pilot.press("tab")
        await pilot.pause()
        assert preview.region.width > 0 and hunks.region.width == 0 and screen.focused is preview
        await pilot.press("tab")
        await pilot.pause()
        assert hunks.region.width > 0 and preview.region.width == 0
        await pilot.press("a")  # line mode shows the preview
        await pilot.pause()
        assert preview.region.width > 0 and preview.region.bottom <= 24


async def test_preview_shows_the_findings_that_flag_the_hunk(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_apply(app, pilot)
        await pilot.press("j")
        await pilot.pause()
        preview = screen.preview
        head = "\n".join(str(preview.row_text(k)) for k in range(preview.first_line))
        flagged = screen.choice.findings(screen.hunks.piece)
        assert flagged and all(c.title in head for c in flagged)
        assert "⚑" in head and "(contested, not triaged)" in head and "pending" in head
        # line numbers: the first line of the piece carries the old and new numbers
        piece = screen.hunks.piece
        first = str(preview.row_text(preview.first_line))
        assert str(piece.old_start) in first and str(piece.new_start) in first


async def test_resume_restores_the_choice_splits_and_comments(demo):
    app = demo_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_apply(app, pilot)
        await pilot.press(*["j"] * 6, "s", "j", "space", "c")  # split, drop a part, comment
        await pilot.pause()
        await pilot.press(*"why this", "ctrl+s")
        await pilot.pause()
        expected = (screen.choice.selection(), screen.choice.splits(), screen.choice.comments)
        await pilot.press("escape")
        await pilot.pause()
        session_id = app.orch.session.id
    # a new session folded from the journal, as `counterpoint resume` does
    resumed = Session.from_events(read_journal(journal_path(session_id)).events)
    r = resumed.last_proposal_round
    assert r is not None and r.selection is not None
    choice = ApplyChoice(r.changeset, r.clusters, r.selection)
    assert (choice.selection(), choice.splits(), choice.comments) == expected
    assert [choice.state(p) for p in choice.pieces].count("none") == 1  # the dropped part


def test_a_whole_hunks_state_is_counted_from_its_chosen_lines_as_a_parts_is_from_its_lines():
    from counterpoint.core.changeset import ChangeSet

    old = "".join(f"line {n}\n" for n in range(40))
    new = old.replace("line 3\n", "line three\n").replace("line 7\n", "").replace("line 30\n", "line 30\nextra\n")
    changeset = ChangeSet.from_contents({"a.txt": old, "gone.txt": ""}, {"a.txt": new, "gone.txt": None})
    choice = ApplyChoice(changeset)

    def counted(piece) -> str:  # the state from the piece's own lines, as for a part of a hunk
        chosen = choice.chosen[piece.hunk.id]
        count = sum(1 for k in piece.changed if k in chosen)
        if not piece.changed:
            return "none" if piece.hunk.id in choice.empty_off else "all"
        return "all" if count == len(piece.changed) else "some" if count else "none"

    first = choice.pieces[0]
    assert first.whole and len(first.changed) > 1
    checks = [lambda: None, lambda: choice.set_lines(first.hunk.id, first.changed[:1], False),
              lambda: choice.set_lines(first.hunk.id, first.changed, False),
              lambda: choice.set_lines(first.hunk.id, [0, 999], True),  # not changed lines: ignored
              lambda: choice.split_at(0), lambda: choice.set_all(True), lambda: choice.set_all(False),
              lambda: choice.toggle_piece(choice.pieces[-1])]
    for change in checks:
        change()
        assert [choice.state(p) for p in choice.pieces] == [counted(p) for p in choice.pieces]
    assert {choice.state(p) for p in choice.pieces} >= {"none"}


def test_the_pending_box_names_a_few_contested_findings_and_counts_the_rest():
    from types import SimpleNamespace

    from counterpoint.core.findings import Cluster
    from counterpoint.core.session import RoundState
    from counterpoint.tui.screens.apply import PENDING_SHOWN

    r = RoundState(number=1, generator="g", reviewers=["r"])
    r.clusters = [
        Cluster(id=f"c{n}", round=1, agreement="solo", contested=True, severity="high",
                category="correctness", path="a.py", start_line=n + 1, end_line=n + 1,
                title=f"finding {n}", findings=[])
        for n in range(PENDING_SHOWN + 12)
    ]
    orch = SimpleNamespace(session=SimpleNamespace(last_proposal_round=r, last_applied=None))
    text = ApplyScreen(orch)._pending_text().plain  # type: ignore[arg-type]
    assert f"{PENDING_SHOWN + 12} contested findings are still pending" in text
    assert f"finding {PENDING_SHOWN - 1}" in text and f"finding {PENDING_SHOWN}\n" not in text
    assert "… and 12 more" in text
