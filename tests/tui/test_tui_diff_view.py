"""DiffView and DiffFiles driven through a real (headless) Textual app."""

from __future__ import annotations

from textual.app import App, ComposeResult

from counterpoint.core.changeset import ChangeSet
from counterpoint.core.findings import Cluster, Finding
from counterpoint.tui.theme import register_all, theme_variable_defaults
from counterpoint.tui.widgets.diff_view import DiffFiles, DiffView

BASE = {
    "app.py": "import os\n\ndef add(a, b):\n    return a + b\n\nprint(add(1, 2))\n",
    "old.txt": "first\nsecond\n",
}
NEW = {
    "app.py": "import os\n\ndef add(a, b):\n    return a - b\n\nprint(add(1, 2))\nprint('done')\n",
    "old.txt": None,
    "pkg/new.py": "def hello():\n\treturn 'hi'\n",
}


def cluster(
    cid: str, path: str, start: int, end: int, agreement: str = "solo", reviewers: tuple[str, ...] = ("a:m1",)
) -> Cluster:
    findings = [
        Finding(
            id=f"{cid}-{n}",
            round=1,
            reviewer=reviewer,
            path=path,
            start_line=start,
            end_line=end,
            severity="high",
            category="correctness",
            title=f"problem {cid}",
            rationale="because",
        )
        for n, reviewer in enumerate(reviewers)
    ]
    return Cluster(
        id=cid,
        round=1,
        agreement=agreement,  # type: ignore[arg-type]
        contested=agreement != "consensus",
        severity="high",
        category="correctness",
        path=path,
        start_line=start,
        end_line=end,
        title=f"problem {cid}",
        findings=findings,
    )


class DiffApp(App[None]):
    def __init__(self, changeset: ChangeSet | None = None) -> None:
        super().__init__()
        self.changeset = changeset
        self.selected: list[DiffView.LineSelected] = []
        self.files_selected: list[DiffFiles.FileSelected] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def compose(self) -> ComposeResult:
        yield DiffView(self.changeset)

    def on_mount(self) -> None:
        register_all(self)
        self.theme = "counterpoint-dark"
        self.query_one(DiffView).focus()

    def on_diff_view_line_selected(self, message: DiffView.LineSelected) -> None:
        self.selected.append(message)


def visible(view: DiffView) -> list[str]:
    """The rows as the widget draws them right now (the real render path)."""
    return [view.render_line(y).text.rstrip() for y in range(view.scrollable_content_region.height)]


def small() -> ChangeSet:
    return ChangeSet.from_contents(BASE, NEW)


async def test_rows_for_added_modified_and_deleted_files() -> None:
    app = DiffApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(DiffView)
        rows = visible(view)
        text = "\n".join(rows)
        # File headers: status glyph, path, status word and counts, in path order.
        headers = [r for r in rows if r.startswith(("A ", "M ", "D "))]
        assert headers == [
            "M app.py  modified  +2 -1",
            "D old.txt  deleted  +0 -2",
            "A pkg/new.py  added  +2 -0",
        ]
        assert "@@ -1,6 +1,7 @@" in text
        # Modified: removed line has only the old number, added lines only the new one.
        assert "  4       -     return a + b" in rows
        assert "      4   +     return a - b" in rows
        assert "  6   6     print(add(1, 2))" in rows
        assert "      7   + print('done')" in rows
        # Deleted file: old numbers only.
        assert "  1       - first" in rows
        assert "  2       - second" in rows
        # Added file: new numbers only, tab expanded.
        assert "      1   + def hello():" in rows
        assert "      2   +     return 'hi'" in rows
        assert view.row_count == len([r for r in rows if r])


async def test_empty_view_then_show() -> None:
    app = DiffApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        assert view.row_count == 0
        assert view.line_at_cursor() == ("", None)
        assert all(r == "" for r in visible(view))
        view.show(small())
        await pilot.pause()
        assert visible(view)[0] == "M app.py  modified  +2 -1"


async def test_flags_mark_gutter_with_agreement_glyph() -> None:
    app = DiffApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        view.set_flags(
            [
                cluster("c1", "app.py", 4, 4, "solo"),
                cluster("c2", "app.py", 6, 7, "consensus", ("a:m1", "b:m2")),
                cluster("c3", "pkg/new.py", 2, 2, "severity-split"),
                cluster("c4", "missing.py", 1, 3),
            ]
        )
        await pilot.pause()
        rows = visible(view)
        assert "      4 ▲ +     return a - b" in rows
        assert "  6   6 ● print(add(1, 2))" not in rows  # context rows keep the sign column
        assert "  6   6 ●   print(add(1, 2))" in rows
        assert "      7 ● + print('done')" in rows
        assert "      2 ◆ +     return 'hi'" in rows
        # The removed line shares the range's old number but is not a new line: unmarked.
        assert "  4       -     return a + b" in rows
        assert "      1   + def hello():" in rows
        assert len(view.flagged_rows) == 4


async def test_jump_to_and_line_at_cursor() -> None:
    app = DiffApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        assert view.jump_to("pkg/new.py", 2) is True
        await pilot.pause()
        assert view.line_at_cursor() == ("pkg/new.py", 2)
        assert view.jump_to("app.py", 99) is False
        assert view.jump_to("nope.py", 1) is False
        assert view.line_at_cursor() == ("pkg/new.py", 2)
        await pilot.press("k")
        assert view.line_at_cursor() == ("pkg/new.py", 1)
        await pilot.press("k")
        assert view.line_at_cursor() == ("pkg/new.py", None)  # the hunk header
        assert view.first_new_line("app.py") == 1
        assert view.first_new_line("old.txt") is None


async def test_next_previous_flag_and_line_selected() -> None:
    app = DiffApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        view.set_flags([cluster("c2", "pkg/new.py", 1, 1), cluster("c1", "app.py", 4, 4)])
        await pilot.press("n")
        assert view.line_at_cursor() == ("app.py", 4)
        await pilot.press("n")
        assert view.line_at_cursor() == ("pkg/new.py", 1)
        await pilot.press("n")  # wraps
        assert view.line_at_cursor() == ("app.py", 4)
        await pilot.press("p")  # wraps backwards
        assert view.line_at_cursor() == ("pkg/new.py", 1)
        await pilot.press("enter")
        await pilot.pause()
        assert [(m.path, m.new_line, m.cluster_id) for m in app.selected] == [("pkg/new.py", 1, "c2")]
        await pilot.press("k", "enter")  # an unflagged row posts nothing
        await pilot.pause()
        assert len(app.selected) == 1


async def test_click_on_flagged_line_posts_selection() -> None:
    app = DiffApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        view.set_flags([cluster("c1", "app.py", 7, 7)])
        await pilot.pause()
        row = visible(view).index("      7 ▲ + print('done')")
        await pilot.click(DiffView, offset=(12, row))
        await pilot.pause()
        assert view.line_at_cursor() == ("app.py", 7)
        assert [(m.path, m.new_line, m.cluster_id) for m in app.selected] == [("app.py", 7, "c1")]


async def test_next_previous_file() -> None:
    app = DiffApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        await pilot.press("f")
        assert view.line_at_cursor() == ("old.txt", None)
        await pilot.press("f")
        assert view.line_at_cursor() == ("pkg/new.py", None)
        await pilot.press("f")  # no next file: stays
        assert view.line_at_cursor() == ("pkg/new.py", None)
        await pilot.press("F", "F")
        assert view.line_at_cursor() == ("app.py", None)
        assert view.cursor_row == 0


def big(files: int = 25, lines: int = 2000) -> ChangeSet:
    new = {
        f"f{i:02d}.py": "".join(f"x_{i}_{n} = {n}  # f{i:02d}.py line {n}\n" for n in range(1, lines + 1))
        for i in range(files)
    }
    return ChangeSet.from_contents({}, new)


async def test_paging_a_50k_line_diff_shows_the_right_rows() -> None:
    app = DiffApp(big())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        view = app.query_one(DiffView)
        per_file = 2 + 2000  # file header, hunk header, 2000 added lines
        assert view.row_count == 25 * per_file
        page = view.scrollable_content_region.height
        for presses in (1, 2, 30):
            while round(view.scroll_y) < (presses - 1) * page:
                await pilot.press("pagedown")
            await pilot.press("pagedown")
            await pilot.pause()
            top = presses * page
            assert round(view.scroll_y) == top
            rows = visible(view)
            for y in (0, page // 2, page - 1):
                file, offset = divmod(top + y, per_file)
                if offset == 0:
                    assert rows[y].startswith(f"A f{file:02d}.py  added  +2000 -0")
                elif offset == 1:
                    assert rows[y].strip() == "@@ -0,0 +1,2000 @@"
                else:
                    n = offset - 1
                    assert rows[y] == f"{'':>4} {n:>4}   + x_{file}_{n} = {n}  # f{file:02d}.py line {n}"
        await pilot.press("end")
        await pilot.pause()
        assert view.line_at_cursor() == ("f24.py", 2000)
        assert visible(view)[-1].endswith("# f24.py line 2000")
        assert view.jump_to("f13.py", 1234)
        await pilot.pause()
        assert "# f13.py line 1234" in visible(view)[2]


async def test_theme_change_redraws_with_new_colours() -> None:
    app = DiffApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(DiffView)
        await pilot.pause()
        y = visible(view).index("      7   + print('done')")
        dark_bg = list(view.render_line(y))[-1].style.bgcolor  # type: ignore[union-attr]
        app.theme = "counterpoint-light"
        await pilot.pause()
        await pilot.pause()
        light_bg = list(view.render_line(y))[-1].style.bgcolor  # type: ignore[union-attr]
        assert dark_bg is not None and light_bg is not None
        assert dark_bg.triplet.hex == "#17301f"  # type: ignore[union-attr]
        assert light_bg.triplet.hex == "#dafbe1"  # type: ignore[union-attr]


class FilesApp(App[None]):
    def __init__(self, changeset: ChangeSet) -> None:
        super().__init__()
        self.changeset = changeset
        self.chosen: list[tuple[str, int | None]] = []

    def compose(self) -> ComposeResult:
        yield DiffFiles(self.changeset)
        yield DiffView(self.changeset)

    def on_diff_files_file_selected(self, message: DiffFiles.FileSelected) -> None:
        self.chosen.append((message.path, message.first_new_line))
        view = self.query_one(DiffView)
        if message.first_new_line is None or not view.jump_to(message.path, message.first_new_line):
            view.jump_to_file(message.path)


async def test_diff_files_lists_files_and_selection_jumps() -> None:
    app = FilesApp(small())
    async with app.run_test(size=(120, 40)) as pilot:
        files = app.query_one(DiffFiles)
        prompts = [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)]
        assert prompts == ["M app.py  +2 -1", "D old.txt  +0 -2", "A pkg/new.py  +2 -0"]
        files.focus()
        files.highlighted = 0
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.chosen == [("pkg/new.py", 1)]
        assert app.query_one(DiffView).line_at_cursor() == ("pkg/new.py", 1)
        await pilot.press("up", "enter")
        await pilot.pause()
        assert app.chosen[-1] == ("old.txt", None)
        assert app.query_one(DiffView).line_at_cursor() == ("old.txt", None)


async def test_empty_file_no_newline_marker_and_control_characters() -> None:
    changeset = ChangeSet.from_contents(
        {"notes.txt": "a\nb"},
        {"empty.txt": "", "notes.txt": "a\nb\x1b[31mred\nc"},
    )
    app = DiffApp(changeset)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        rows = visible(app.query_one(DiffView))
        assert "A empty.txt  added  +0 -0" in rows
        assert any(r.strip() == "(empty file added)" for r in rows)
        assert "  2       - b" in rows
        assert any(r.strip() == "\\ No newline at end of file" for r in rows)
        # An escape sequence in the code is shown, never sent to the terminal.
        assert "      2   + b\\x1b[31mred" in rows
        assert "      3   + c" in rows
