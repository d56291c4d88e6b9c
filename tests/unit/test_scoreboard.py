"""The scoreboard on sessions with known verdicts; every number below is worked out by hand in
the comments (pending counts in acceptance, precision counts decided findings only)."""

from __future__ import annotations

import csv
import io

import pytest

from counterpoint.core.events import (
    ClustersReady,
    ReviewReady,
    RoundStarted,
    SessionStarted,
    VerdictSet,
)
from counterpoint.core.findings import Cluster, Finding
from counterpoint.core.scoreboard import (
    Filters,
    SessionRecord,
    compute,
    family,
    parse_since,
    record_line,
    render_csv,
    render_markdown,
    render_text,
)
from counterpoint.core.session import Session

CLAUDE, GPT, GPT4, CHECK = "anthropic:claude-opus-5-5", "openai:gpt-5.5", "openai:gpt-5.4", "check:tests"


def _f(fid, reviewer, category, confidence):
    return Finding(id=fid, round=1, reviewer=reviewer, path="app.py", start_line=1, end_line=2,
                   severity="high", category=category, title=fid, rationale="r",
                   confidence=confidence)


def _c(cid, findings, stance="none", confirmed=False):
    return Cluster(id=cid, round=1, agreement="solo", stance=stance, contested=False,
                   severity="high", category=findings[0].category, path="app.py", start_line=1,
                   end_line=2, title=cid, findings=findings, confirmed=confirmed)


def _session(sid, repo, at, generator, reviewers, clusters, verdicts, cost):
    findings = [f for c in clusters for f in c.findings]
    events = [
        SessionStarted(at=at, session_id=sid, repo=f"/home/dev/{repo}", repo_name=repo,
                       branch="main", head=None, task="t", generator=generator,
                       reviewers=reviewers),
        RoundStarted(round=1, generator=generator, reviewers=reviewers),
        *[ReviewReady(round=1, reviewer=r, summary="s", verdict="needs-changes",
                      findings=[f for f in findings if f.reviewer == r]) for r in reviewers],
        ClustersReady(round=1, clusters=clusters),
        *[VerdictSet(round=1, cluster_id=cid, verdict=v) for cid, v in verdicts.items()],
    ]
    return SessionRecord(Session.from_events(events), cost)


def records():
    # session 1, repo shop: generator GPT (openai); CLAUDE reviews cross-family, GPT4 same-family
    c1, c2, c3 = _f("c1", CLAUDE, "security", 0.9), _f("c2", CLAUDE, "correctness", 0.3), \
        _f("c3", CLAUDE, "docs", 0.7)
    o1, o2 = _f("o1", GPT4, "security", 0.8), _f("o2", GPT4, "performance", 0.5)
    one = _session(
        "s1", "shop", "2026-01-10T09:00:00+00:00", GPT, [CLAUDE, GPT4],
        [_c("k1", [c1, o1], "agree"), _c("k2", [c2], "dispute"), _c("k3", [c3], "dispute"),
         _c("k4", [o2])],
        {"k1": "accepted", "k2": "rejected", "k3": "accepted"},  # k4 left pending
        {CLAUDE: 0.30, GPT4: 0.10},
    )
    # session 2, repo blog: generator CLAUDE; GPT reviews cross-family; the check joins g1
    g1, g2 = _f("g1", GPT, "correctness", 0.95), _f("g2", GPT, "testing", 0.1)
    t1 = _f("t1", CHECK, "correctness", 1.0)
    two = _session(
        "s2", "blog", "2026-02-01T09:00:00+00:00", CLAUDE, [GPT, CHECK],
        [_c("k5", [g1, t1], confirmed=True), _c("k6", [g2], "partial")],
        {"k5": "accepted", "k6": "rejected"},
        {GPT: 0.05},
    )
    return [one, two]


def _model(board, model, role="reviewer"):
    return next(r for r in board["models"] if r["model"] == model and r["role"] == role)


def test_models_count_pending_in_acceptance_and_price_accepted_findings():
    board = compute(records())
    assert board["sessions"] == 2
    claude = _model(board, CLAUDE)
    # c1 accepted, c2 rejected, c3 accepted: 2/3 of raised, 2/3 of decided, $0.30 / 2
    assert {k: claude[k] for k in ("raised", "accepted", "rejected", "pending", "confirmed")} == {
        "raised": 3, "accepted": 2, "rejected": 1, "pending": 0, "confirmed": 0}
    assert claude["acceptance"] == pytest.approx(0.6667)
    assert claude["precision"] == pytest.approx(0.6667)
    assert claude["cost_per_accepted"] == pytest.approx(0.15)
    gpt4 = _model(board, GPT4)
    # o1 accepted, o2 pending: acceptance 1/2 (pending counts), precision 1/1
    assert (gpt4["raised"], gpt4["accepted"], gpt4["pending"]) == (2, 1, 1)
    assert gpt4["acceptance"] == 0.5 and gpt4["precision"] == 1.0
    assert gpt4["cost_per_accepted"] == pytest.approx(0.10)
    gpt = _model(board, GPT)
    # g1 accepted and confirmed by the check, g2 rejected
    assert (gpt["raised"], gpt["accepted"], gpt["rejected"], gpt["confirmed"]) == (2, 1, 1, 1)
    assert gpt["cost_per_accepted"] == pytest.approx(0.05)
    check = _model(board, CHECK, "check")
    assert (check["raised"], check["accepted"], check["confirmed"]) == (1, 1, 1)


def test_categories_and_generator_disputes_upheld_and_overruled():
    board = compute(records())
    rows = {(r["model"], r["category"]): r for r in board["reviewers"]}
    assert rows[(CLAUDE, "security")]["accepted"] == 1
    assert rows[(CLAUDE, "correctness")]["rejected"] == 1
    assert rows[(GPT4, "performance")]["pending"] == 1
    assert rows[(GPT4, "performance")]["acceptance"] == 0.0
    assert rows[(GPT4, "performance")]["precision"] is None  # nothing decided
    gens = {(g["model"], g["category"]): g for g in board["generators"]}
    # GPT agreed with k1; disputed k2 (the human rejected it: upheld) and k3 (accepted: overruled)
    assert gens[(GPT, "security")]["agreed"] == 1
    assert (gens[(GPT, "correctness")]["disputed"], gens[(GPT, "correctness")]["upheld"]) == (1, 1)
    assert (gens[(GPT, "docs")]["disputed"], gens[(GPT, "docs")]["overruled"]) == (1, 1)
    assert gens[(CLAUDE, "testing")]["partial"] == 1
    assert (GPT, "performance") not in gens  # k4 was not answered
    assert (CLAUDE, "correctness") not in gens


def test_same_family_vs_cross_family_per_session_and_overall():
    fams = compute(records())["families"]
    # same: GPT4 under GPT in s1 (1 review, o1 accepted, o2 pending)
    assert {k: fams["same"][k] for k in ("reviews", "raised", "accepted", "confirmed")} == {
        "reviews": 1, "raised": 2, "accepted": 1, "confirmed": 0}
    assert fams["same"]["acceptance"] == 0.5 and fams["same"]["raised_per_review"] == 2.0
    # cross: CLAUDE under GPT (3 raised, 2 accepted) + GPT under CLAUDE (2 raised, 1 accepted,
    # 1 confirmed); the check is not a model review
    assert {k: fams["cross"][k] for k in ("reviews", "raised", "accepted", "confirmed")} == {
        "reviews": 2, "raised": 5, "accepted": 3, "confirmed": 1}
    assert fams["cross"]["acceptance"] == 0.6 and fams["cross"]["raised_per_review"] == 2.5
    s1, s2 = fams["sessions"]
    assert s1["session_id"] == "s1" and s1["same"]["raised"] == 2 and s1["cross"]["raised"] == 3
    assert s2["session_id"] == "s2" and s2["same"]["reviews"] == 0 and s2["cross"]["confirmed"] == 1


def test_calibration_buckets_against_verdicts():
    buckets = {b["bucket"]: b for b in compute(records())["calibration"]}
    assert (buckets["0.0-0.2"]["raised"], buckets["0.0-0.2"]["accepted_share"]) == (1, 0.0)  # g2
    assert (buckets["0.2-0.4"]["rejected"], buckets["0.2-0.4"]["accepted_share"]) == (1, 0.0)  # c2
    assert buckets["0.4-0.6"]["pending"] == 1 and buckets["0.4-0.6"]["accepted_share"] is None
    assert (buckets["0.6-0.8"]["accepted"], buckets["0.6-0.8"]["mean_confidence"]) == (2, 0.75)
    assert buckets["0.8-1.0"]["accepted"] == 2  # c1 0.9, g1 0.95 (the check's 1.0 not counted)
    assert buckets["0.8-1.0"]["mean_confidence"] == pytest.approx(0.925)


def test_filters_repo_since_and_model():
    assert compute(records(), Filters(repo="shop"))["sessions"] == 1
    assert compute(records(), Filters(repo="/home/dev/blog"))["sessions"] == 1
    assert compute(records(), Filters(repo="nowhere"))["sessions"] == 0
    later = compute(records(), Filters(since=parse_since("2026-01-15")))
    assert later["sessions"] == 1 and {r["model"] for r in later["models"]} == {GPT, CHECK}
    only = compute(records(), Filters(model=CLAUDE))
    assert only["sessions"] == 2  # reviewer in s1, generator in s2
    assert [r["model"] for r in only["models"]] == [CLAUDE]
    assert {g["model"] for g in only["generators"]} == {CLAUDE}
    assert only["families"]["cross"]["raised"] == 3 and only["families"]["same"]["reviews"] == 0
    with pytest.raises(ValueError, match="expected a date"):
        parse_since("last tuesday")


def test_families_and_record_line():
    assert family(CLAUDE) == "anthropic" and family(GPT) == "openai"
    assert family("ollama:qwen3-coder") == "qwen" and family("vllm:meta/llama-4") == "meta"
    assert family("acme:secret-model") == "acme"
    board = compute(records())
    assert record_line(board, CLAUDE) == "3 raised · 67% accepted · 2/3 kept of decided"
    assert record_line(board, "openai:unknown") is None


def test_renderings_text_markdown_csv():
    board = compute(records())
    text = render_text(board)
    assert text.startswith("2 sessions\n")
    assert "Same-family vs cross-family review" in text and "67%" in text
    md = render_markdown(board)
    assert "## Calibration: reviewer confidence vs verdicts" in md
    assert "| model | role | raised |" in md
    rows = list(csv.reader(io.StringIO(render_csv(board))))
    claude = next(r for r in rows if r[:3] == ["models", CLAUDE, "reviewer"])
    assert claude[3:7] == ["3", "2", "1", "0"]
    assert any(r[:2] == ["families", "cross"] for r in rows)
