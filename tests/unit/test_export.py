"""Exports: Markdown report, JSON, SARIF 2.1.0 (validated against the official schema)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import SHARED
from counterpoint.core.alignment import align
from counterpoint.core.findings import Finding
from counterpoint.export import FORMATS, render
from counterpoint.export.sarif import build_sarif

SCHEMA = SHARED / "data" / "sarif-schema-2.1.0.json"
CLAUDE, GPT = "anthropic:claude-opus-5-5", "openai:gpt-5.5"


def _finding(fid: str, reviewer: str, **kw) -> Finding:
    return Finding(id=fid, round=2, reviewer=reviewer, **kw)


def _summary() -> dict:
    """A summary built from real findings and align(), as the session produces it."""
    findings = [
        _finding("r2-a1", CLAUDE, path="app/ratelimit.py", start_line=42, end_line=58,
                 severity="high", category="security", title="Rate limit bypass via X-Forwarded-For",
                 rationale="client_key() trusts the first X-Forwarded-For value | which the client sets.",
                 suggestion="Only trust the header behind a configured proxy.", confidence=0.9,
                 stance="dispute", reply="We always run behind the load balancer."),
        _finding("r2-a2", CLAUDE, path="app/webhooks.py", start_line=71, end_line=90,
                 severity="high", category="concurrency",
                 title="Duplicate delivery race between check and insert",
                 rationale="Two concurrent deliveries both pass the SELECT and credit twice.",
                 suggestion="INSERT OR IGNORE the event id first.", confidence=0.85,
                 stance="agree", reply="Will use a unique constraint."),
        _finding("r2-b1", GPT, path="./app/webhooks.py", start_line=74, end_line=88,
                 severity="medium", category="correctness", title="Idempotency check is not atomic",
                 rationale="exists-then-insert lets two workers handle the same event id at the "
                 "same time, producing double credits.", suggestion=None, confidence=0.7,
                 stance="agree", reply="Agreed."),
        _finding("r2-b2", GPT, path="app/db.py", start_line=900, end_line=905,
                 severity="low", category="docs", title="Docstring is out of date",
                 rationale="Mentions the old schema.", suggestion=None, confidence=0.4,
                 location_problem="lines 900-905 are outside the file (120 lines)"),
        _finding("r2-b3", GPT, path="app/cache.py", start_line=30, end_line=31,
                 severity="info", category="security", title="Avoid pickle for cache values",
                 rationale="pickle.loads on data from Redis is risky.", suggestion="Use json.",
                 confidence=0.5),
        _finding("r2-a3", CLAUDE, path="app/cache.py", start_line=30, end_line=33,
                 severity="critical", category="security",
                 title="Pickle deserialisation of cache values allows remote code execution",
                 rationale="cache.get() calls pickle.loads on bytes from Redis.",
                 suggestion="Serialise with json instead of pickle.", confidence=0.8),
    ]
    clusters, _ = align(findings, [CLAUDE, GPT], 2)
    by_first = {c.findings[0].id: c for c in clusters}
    by_first["r2-a1"].verdict = "rejected"
    by_first["r2-a1"].note = "We run behind a trusted proxy | see infra/lb.tf"
    by_first["r2-a2"].verdict = "accepted"
    return {
        "event": "summary",
        "session_id": "20250101-120000-ab12",
        "repo": "payments-webhooks",
        "repo_path": "/home/dev/payments-webhooks",
        "branch": "main",
        "task": "Add webhook signature verification and rate limiting",
        "rounds": 2,
        "generator": "openai:gpt-5.5",
        "reviewers": [CLAUDE, GPT],
        "planner": None,
        "state": "done",
        "clusters": [c.model_dump(mode="json") for c in clusters],
        "usage": {
            CLAUDE: {"input_tokens": 12000, "output_tokens": 2100, "cached_input_tokens": 4000,
                     "cost_usd": 0.0312},
            GPT: {"input_tokens": 9000, "output_tokens": 3100, "cached_input_tokens": 0,
                  "cost_usd": 0.0101},
        },
        "failed_edits": [{"round": 1, "index": 3, "path": "app/ratelimit.py",
                          "reason": "SEARCH matched 2 places"}],
        "errors": [],
        "applied": {"files": ["app/webhooks.py", "app/ratelimit.py"], "undo_id": "u-20250101-1",
                    "commit": None},
        "version": "0.1.0",
    }


def test_unknown_format_is_a_clear_value_error():
    with pytest.raises(ValueError, match="unknown export format 'xml'.*markdown, json, sarif"):
        render(_summary(), "xml")
    assert FORMATS == ("markdown", "json", "sarif")


def test_json_is_the_summary_pretty_and_stable():
    summary = _summary()
    text = render(summary, "json")
    assert json.loads(text) == summary
    assert text == render(json.loads(text), "json")  # key order stable
    assert "\n  " in text
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_markdown_report_has_header_table_details_usage_and_apply():
    summary = _summary()
    md = render(summary, "markdown")
    assert "Add webhook signature verification and rate limiting" in md
    assert "payments-webhooks@main" in md
    assert "openai:gpt-5.5" in md and CLAUDE in md
    section = md.split("## Findings", 1)[1].split("## Details", 1)[0]
    table = [l for l in section.splitlines() if l.startswith("| ") and l[2].isdigit()]
    assert len(table) == len(summary["clusters"]) == 4
    # sorted like the UI: contested first, then severity
    assert "severity-split" in table[0] and "critical" in table[0]
    assert "Rate limit bypass" in table[1] and "dispute" in table[1] and "rejected" in table[1]
    assert "Docstring is out of date" in table[2]
    assert "● consensus" in table[3] and "accepted" in table[3]
    assert "webhooks.py:71-90" in table[3]
    # pipes inside cells are escaped so the table keeps its columns
    assert all(l.count(" | ") - l.count("\\|") >= 7 for l in table)
    # details: both reviewers' rationale, the generator's reply, the human's note
    assert "exists-then-insert lets two workers" in md
    assert "Generator (agree): Will use a unique constraint." in md
    assert "Generator (dispute): We always run behind the load balancer." in md
    assert "We run behind a trusted proxy" in md
    assert "Location problem: lines 900-905" in md
    assert "Suggestion: INSERT OR IGNORE the event id first." in md
    # usage with cost, failed edits, applied files and undo id
    assert "$0.0312" in md and "$0.0413" in md and "12,000" in md
    assert "SEARCH matched 2 places" in md
    assert "`app/webhooks.py`" in md and "u-20250101-1" in md


def test_markdown_without_findings_or_apply():
    summary = _summary() | {"clusters": [], "applied": None, "usage": {}, "failed_edits": []}
    md = render(summary, "markdown")
    assert "No findings." in md
    assert "Nothing was written to the working tree." in md


def _schema():
    if not SCHEMA.exists():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    return json.loads(SCHEMA.read_text())


def test_sarif_validates_against_the_official_schema():
    schema = _schema()
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/")
    log = json.loads(render(_summary(), "sarif"))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = list(jsonschema.Draft4Validator(schema).iter_errors(log))
    assert not errors, [e.message for e in errors[:5]]
    assert log["version"] == "2.1.0"


def test_sarif_empty_session_still_validates():
    schema = _schema()
    log = build_sarif(_summary() | {"clusters": []})
    assert not list(jsonschema.Draft4Validator(schema).iter_errors(log))
    assert [r["tool"]["driver"]["name"] for r in log["runs"]] == [CLAUDE, GPT]
    assert all(r["results"] == [] for r in log["runs"])


def test_sarif_runs_results_and_properties_carry_everything():
    summary = _summary()
    log = build_sarif(summary)
    assert [r["tool"]["driver"]["name"] for r in log["runs"]] == [CLAUDE, GPT]
    clusters = {f["id"]: c for c in summary["clusters"] for f in c["findings"]}
    seen = set()
    for run in log["runs"]:
        reviewer = run["tool"]["driver"]["name"]
        rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
        assert rule_ids == sorted({r["ruleId"] for r in run["results"]})
        for result in run["results"]:
            props = result["properties"]
            fid = props["findingId"]
            seen.add(fid)
            cluster = clusters[fid]
            finding = next(f for f in cluster["findings"] if f["id"] == fid)
            assert finding["reviewer"] == reviewer
            assert result["ruleId"] == finding["category"]
            assert rule_ids[result["ruleIndex"]] == finding["category"]
            level = {"critical": "error", "high": "error", "medium": "warning",
                     "low": "note", "info": "note"}[finding["severity"]]
            assert result["level"] == level
            assert finding["title"] in result["message"]["text"]
            assert finding["rationale"] in result["message"]["text"]
            loc = result["locations"][0]["physicalLocation"]
            assert loc["artifactLocation"]["uri"] == finding["path"].removeprefix("./")
            assert loc["region"]["startLine"] == finding["start_line"]
            assert loc["region"]["endLine"] == finding["end_line"]
            assert fid in result["partialFingerprints"]["counterpointFinding/v1"]
            assert props["severity"] == finding["severity"]
            assert props["agreement"] == cluster["agreement"]
            assert props["stance"] == finding["stance"]
            assert props["contested"] == cluster["contested"]
            assert props["verdict"] == cluster["verdict"]
            assert props["note"] == cluster["note"]
            assert props["clusterId"] == cluster["id"]
            assert props["confidence"] == finding["confidence"]
            assert props["suggestion"] == finding["suggestion"]
            assert props.get("locationProblem") == finding["location_problem"]
    assert seen == set(clusters)
    rejected = next(
        r for run in log["runs"] for r in run["results"] if r["properties"]["findingId"] == "r2-a1"
    )
    assert rejected["properties"]["verdict"] == "rejected"
    assert rejected["properties"]["note"].startswith("We run behind a trusted proxy")
    assert rejected["properties"]["stance"] == "dispute"
