"""FindingsTable and DetailPane in a real headless app."""

from __future__ import annotations

from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Static

from counterpoint.core.findings import Cluster, Finding
from counterpoint.tui.theme import register_all, theme_variable_defaults
from counterpoint.tui.widgets.detail import DetailPane
from counterpoint.core.glyphs import short_model_name
from counterpoint.tui.widgets.findings_table import FindingsTable

REVIEWERS = ["anthropic:claude-opus-5-5", "openai:gpt-5.5"]


def finding(fid: str, reviewer: str, severity: str, **extra: object) -> Finding:
    values: dict[str, object] = dict(
        id=fid,
        round=1,
        reviewer=reviewer,
        path="webhooks.py",
        start_line=4,
        end_line=5,
        severity=severity,
        category="security",
        title=f"title of {fid}",
        rationale=f"rationale of {fid}",
        suggestion=None,
        confidence=0.8,
    )
    values.update(extra)
    return Finding(**values)  # type: ignore[arg-type]


def make_clusters() -> list[Cluster]:
    solo = Cluster(
        id="c1",
        round=1,
        agreement="solo",
        stance="dispute",
        contested=True,
        severity="high",
        category="security",
        path="webhooks.py",
        start_line=4,
        end_line=5,
        title="rate limit bypass via X-Forwarded-For",
        findings=[
            finding(
                "r1-a1",
                REVIEWERS[0],
                "high",
                stance="dispute",
                reply="the proxy strips that header",
                suggestion="use the socket peer address",
            )
        ],
    )
    consensus = Cluster(
        id="c2",
        round=1,
        agreement="consensus",
        stance="agree",
        contested=False,
        severity="medium",
        category="concurrency",
        path="webhooks.py",
        start_line=9,
        end_line=9,
        title="duplicate delivery race",
        findings=[
            finding("r1-a2", REVIEWERS[0], "medium", category="concurrency", start_line=9, end_line=9),
            finding("r1-b1", REVIEWERS[1], "low", category="concurrency", start_line=9, end_line=9),
        ],
        verdict="accepted",
        note="fix before release",
    )
    split = Cluster(
        id="c3",
        round=1,
        agreement="severity-split",
        contested=True,
        severity="critical",
        category="correctness",
        path="store.py",
        start_line=1,
        end_line=2,
        title="wrong total",
        findings=[
            finding("r1-a3", REVIEWERS[0], "critical", path="store.py", start_line=1, end_line=2),
            finding(
                "r1-b2",
                REVIEWERS[1],
                "low",
                path="store.py",
                start_line=1,
                end_line=2,
                location_problem="line 2 is past the end of store.py",
            ),
        ],
        verdict="rejected",
    )
    return [solo, consensus, split]


class TableApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[str] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def compose(self) -> ComposeResult:
        yield FindingsTable()

    def on_mount(self) -> None:
        register_all(self)
        self.theme = "counterpoint-dark"

    def on_findings_table_cluster_highlighted(self, message: FindingsTable.ClusterHighlighted) -> None:
        self.highlighted.append(message.cluster_id)


def column_labels(table: FindingsTable) -> list[str]:
    return [str(column.label) for column in table.ordered_columns]


def row_texts(table: FindingsTable, index: int) -> list[str]:
    return [str(cell) for cell in table.get_row_at(index)]


def test_short_model_name() -> None:
    assert short_model_name("anthropic:claude-opus-5-5") == "claude-opus-5-5"
    assert short_model_name("replay:path/with:colon.json") == "path/with:colon.json"
    assert short_model_name("local") == "local"


async def test_table_columns_and_marks_when_wide() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 40)) as pilot:
        table = app.query_one(FindingsTable)
        table.set_clusters(make_clusters(), REVIEWERS)
        await pilot.pause()
        assert not table.narrow and table.hidden_columns == []
        assert column_labels(table) == [
            "agreement", "severity", "category", "location", "title",
            "claude-opus-5-5", "gpt-5.5", "gen", "verdict",
        ]  # fmt: skip
        assert row_texts(table, 0) == [
            "▲ solo", "! high", "security", "webhooks.py:4-5",
            "rate limit bypass via X-Forwarded-For", "! high", "—", "✗ dispute", "… pending",
        ]  # fmt: skip
        assert row_texts(table, 1) == [
            "● consensus", "• medium", "concurrency", "webhooks.py:9",
            "duplicate delivery race", "• medium", "- low", "✓ agree", "✔ accepted",
        ]  # fmt: skip
        third = row_texts(table, 2)
        assert third[0] == "◆ split"
        assert third[1] == "‼ critical"
        assert third[3] == "store.py:1-2 ⚠"  # a member has a location problem
        assert third[5:] == ["‼ critical", "- low", "· none", "✘ rejected"]
        # Colour from the theme variable, on top of the glyph and word.
        agreement_cell = table.get_row_at(0)[0]
        assert agreement_cell.style.color.triplet.hex == "#f0b35f"
        assert table.current_cluster is not None and table.current_cluster.id == "c1"


async def test_design_size_keeps_reviewers_and_a_readable_title() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(FindingsTable)
        table.set_clusters(make_clusters(), REVIEWERS)
        await pilot.pause()
        assert not table.narrow and table.hidden_columns == ["category"]
        labels = column_labels(table)
        assert "claude-opus-5-5" in labels and "gpt-5.5" in labels and "category" not in labels
        title = row_texts(table, 0)[labels.index("title")]
        assert len(title) >= 24 and title.startswith("rate limit bypass")
        assert table.virtual_size.width <= 120


async def test_narrow_mode_at_80_columns_and_back() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FindingsTable)
        table.set_clusters(make_clusters(), REVIEWERS)
        await pilot.pause()
        assert table.narrow
        assert column_labels(table) == ["agreement", "severity", "location", "title", "gen", "✓?"]
        assert row_texts(table, 2)[0] == "◆ split"
        assert row_texts(table, 2)[-1] == "✘"
        assert row_texts(table, 0)[3].startswith("rate limit")
        # Everything fits: the table is no wider than the screen.
        assert table.virtual_size.width <= 80
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert not table.narrow
        assert "category" in column_labels(table) and "gpt-5.5" in column_labels(table)
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert table.narrow and "category" not in column_labels(table)


async def test_narrow_mode_keeps_the_verdict_on_screen_with_long_paths() -> None:
    """Real paths are longer than a column can hold at 80 columns: locations keep their
    tail, shorter, then the stance shrinks to its glyph, and the verdict stays visible."""
    clusters = make_clusters()
    for cluster in clusters:
        cluster.path = "src/payments_webhooks/handlers/" + cluster.path
        for member in cluster.findings:
            member.path = cluster.path
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FindingsTable)
        table.set_clusters(clusters, REVIEWERS)
        await pilot.pause()
        assert table.narrow and column_labels(table)[-1] == "✓?"
        assert table.virtual_size.width <= table.size.width
        labels = column_labels(table)
        first = row_texts(table, 0)
        assert first[labels.index("location")].endswith("webhooks.py:4-5")
        assert first[labels.index("location")].startswith("…")
        assert len(first[labels.index("title")]) >= 20
        assert first[-1] == "…"  # pending, as a glyph


async def test_cursor_stays_on_the_same_cluster_across_refresh() -> None:
    app = TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(FindingsTable)
        clusters = make_clusters()
        table.set_clusters(clusters, REVIEWERS)
        await pilot.pause()
        table.focus()
        await pilot.press("down")
        await pilot.pause()
        assert table.current_cluster is not None and table.current_cluster.id == "c2"
        # New order, and c2 changed (a verdict was given): the cursor follows c2.
        changed = clusters[1].model_copy(update={"verdict": "rejected"})
        table.set_clusters([clusters[2], clusters[0], changed], REVIEWERS)
        await pilot.pause()
        assert table.cursor_row == 2
        assert table.current_cluster is not None and table.current_cluster.verdict == "rejected"
        assert app.highlighted == ["c1", "c2"]  # refresh on the same cluster posts nothing new
        await pilot.press("up")
        await pilot.pause()
        assert app.highlighted[-1] == "c1"
        assert table.select_cluster("c3") and table.current_cluster.id == "c3"
        assert not table.select_cluster("missing")
        # The cluster under the cursor disappears: the cursor lands on a remaining row.
        table.set_clusters([clusters[1]], REVIEWERS)
        await pilot.pause()
        assert table.current_cluster is not None and table.current_cluster.id == "c2"
        table.set_clusters([], REVIEWERS)
        await pilot.pause()
        assert table.current_cluster is None


class DetailApp(App[None]):
    def compose(self) -> ComposeResult:
        yield DetailPane()


def section_text(pane: DetailPane, widget_id: str) -> str:
    static = pane.query_one(f"#{widget_id}", Static)
    if static.has_class("-hidden"):
        return ""
    console = Console(width=100, color_system=None, record=True, file=open("/dev/null", "w"))
    console.print(static.content)
    return console.export_text()


STORE = "".join(f"line_{n} = {n}\n" for n in range(1, 21))


async def test_detail_pane_shows_everything_about_a_cluster() -> None:
    app = DetailApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(DetailPane)
        await pilot.pause()
        assert "No finding selected" in section_text(pane, "detail-header")
        assert section_text(pane, "detail-code") == ""

        split = make_clusters()[2].model_copy(update={"start_line": 10, "end_line": 11, "note": "check totals"})
        pane.show(split, STORE)
        await pilot.pause()
        header = section_text(pane, "detail-header")
        for part in ("◆ severity-split", "⚑ contested", "‼ critical", "correctness", "store.py:10-11", "✘ rejected", "wrong total"):
            assert part in header
        findings = section_text(pane, "detail-findings")
        assert "claude-opus-5-5" in findings and "gpt-5.5" in findings
        assert "confidence 0.80" in findings
        assert "rationale of r1-a3" in findings and "rationale of r1-b2" in findings
        assert "⚠ location: line 2 is past the end of store.py" in section_text(pane, "detail-warning")
        assert "The generator has not answered." in section_text(pane, "detail-stance")
        code = section_text(pane, "detail-code").splitlines()
        numbered = [line for line in code if line.strip()]
        # ±5 lines around 10-11: 5..16, flagged lines marked with a pointer, not only colour.
        assert "line_5 = 5" in numbered[0] and "line_16 = 16" in numbered[-1]
        assert len(numbered) == 12
        flagged = [line for line in numbered if "❱" in line]
        assert len(flagged) == 2 and "line_10" in flagged[0] and "line_11" in flagged[1]
        assert "Note: check totals" in section_text(pane, "detail-note")

        solo = make_clusters()[0]
        pane.show(solo, None)
        await pilot.pause()
        stance = section_text(pane, "detail-stance")
        assert "Generator ✗ dispute" in stance
        assert "r1-a1 ✗ dispute  the proxy strips that header" in stance
        assert "Suggestion: use the socket peer address" in section_text(pane, "detail-findings")
        assert "no new text for webhooks.py" in section_text(pane, "detail-code")
        assert section_text(pane, "detail-warning") == ""
        assert "Note: none" in section_text(pane, "detail-note")


async def test_detail_pane_clamps_lines_beyond_the_file() -> None:
    app = DetailApp()
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one(DetailPane)
        cluster = make_clusters()[0].model_copy(update={"start_line": 40, "end_line": 45})
        pane.show(cluster, "a = 1\nb = 2\nc = 3\n")
        await pilot.pause()
        code = [line for line in section_text(pane, "detail-code").splitlines() if line.strip()]
        assert len(code) == 3
        assert "❱" in code[-1] and "c = 3" in code[-1]
