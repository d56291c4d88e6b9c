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
    assert FORMATS == ("markdown", "json", "sarif", "github-review")
    with pytest.raises(ValueError, match="unknown SARIF profile 'gitlab'"):
        render(_summary(), "sarif", sarif_profile="gitlab")


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


def test_markdown_lists_weak_reviews_with_their_reason():
    summary = _summary() | {"weak_reviews": [
        {"round": 2, "reviewer": CLAUDE, "reason": "empty: no findings | no summary"}]}
    md = render(summary, "markdown")
    section = md.split("## ◌ Weak reviews", 1)[1].split("## ", 1)[0]
    assert f"| 2 | {CLAUDE} | empty: no findings \\| no summary |" in section
    assert "## ◌ Weak reviews" not in render(_summary(), "markdown")


def test_markdown_without_findings_or_apply():
    summary = _summary() | {"clusters": [], "applied": None, "usage": {}, "failed_edits": []}
    md = render(summary, "markdown")
    assert "No findings." in md
    assert "Nothing was written to the working tree." in md


def _schema():
    if not SCHEMA.exists():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    return json.loads(SCHEMA.read_text())


@pytest.mark.parametrize("profile", ["github", "ai"])
def test_sarif_validates_against_the_official_schema(profile):
    schema = _schema()
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/")
    log = json.loads(render(_summary(), "sarif", sarif_profile=profile))
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
        rules = run["tool"]["driver"]["rules"]
        rule_ids = [r["id"] for r in rules]
        assert sorted(rule_ids) == sorted({r["ruleId"] for r in run["results"]})
        for rule in rules:  # what GitHub's ingestion needs, and a name that is not the id
            assert rule["id"].startswith("CP1") and rule["name"] != rule["id"]
            assert rule["fullDescription"]["text"] and rule["help"]["text"]
        for result in run["results"]:
            props = result["properties"]
            fid = props["findingId"]
            seen.add(fid)
            cluster = clusters[fid]
            finding = next(f for f in cluster["findings"] if f["id"] == fid)
            assert finding["reviewer"] == reviewer
            assert rules[result["ruleIndex"]]["properties"]["category"] == finding["category"]
            assert result["ruleId"] == rule_ids[result["ruleIndex"]]
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


def _with_outside_paths() -> dict:
    """The summary plus accepted findings whose paths leave the repository."""
    summary = _summary()
    hostile = [
        _finding("r2-b7", GPT, path="../../etc/passwd", start_line=1, end_line=2, severity="high",
                 category="security", title="Reads \x1b]52;c;eA==\x07 the host's users",
                 rationale="r"),
        _finding("r2-b8", GPT, path="~/.ssh/id_rsa", start_line=3, end_line=3, severity="low",
                 category="docs", title="Key file", rationale="r"),
        _finding("r2-b9", GPT, path="/etc/shadow", start_line=3, end_line=3, severity="low",
                 category="testing", title="Absolute", rationale="r"),
    ]
    clusters, _ = align(hostile, [GPT], 2)
    for c in clusters:
        c.verdict = "accepted"
    summary["clusters"] += [c.model_dump(mode="json") for c in clusters]
    return summary


@pytest.mark.parametrize("profile", ["github", "ai"])
def test_sarif_marks_findings_outside_the_repository_instead_of_giving_them_uris(profile):
    log = build_sarif(_with_outside_paths(), profile)
    assert "\x1b" not in render(_with_outside_paths(), "sarif", sarif_profile=profile)
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"]
            for run in log["runs"] for r in run["results"] for loc in r["locations"]
            if "physicalLocation" in loc]
    assert uris and all(not u.startswith(("/", "~")) and ".." not in u for u in uris)
    outside = [r for r in log["runs"][0 if profile == "ai" else 1]["results"]
               if r["properties"].get("outsideRepository")]
    assert sorted(r["properties"]["reportedPath"] for r in outside) == [
        "../../etc/passwd", "/etc/shadow", "~/.ssh/id_rsa"]
    for r in outside:
        (loc,) = r["locations"]
        assert "physicalLocation" not in loc
        assert loc["message"]["text"].startswith("Outside the repository")
    assert not list(jsonschema.Draft4Validator(_schema()).iter_errors(log))


def test_repo_uri_keeps_repository_paths_and_refuses_the_rest():
    from counterpoint.export.sarif import repo_uri

    assert repo_uri("./app//x.py") == "app/x.py"
    assert repo_uri("app\\sub dir\\x.py") == "app/sub%20dir/x.py"
    assert repo_uri("app/../lib/x.py") == "lib/x.py"
    for bad in ("../x.py", "app/../../x.py", "~/x", "~root/x", "/etc/passwd", "C:\\x.py",
                "file:///etc/passwd", "https://evil.example/x", "", ".", ".."):
        assert repo_uri(bad) is None, bad


def test_sarif_ai_profile_links_clusters_and_raw_findings_both_ways():
    summary = _summary()
    log = build_sarif(summary, "ai")
    raw, grouped = log["runs"]
    assert raw["properties"]["ai/origin"] == "generated"
    assert grouped["properties"]["ai/origin"] == "synthesized"
    n_findings = sum(len(c["findings"]) for c in summary["clusters"])
    assert len(raw["results"]) == n_findings
    assert len(grouped["results"]) == len(summary["clusters"])
    for ci, (cluster, result) in enumerate(zip(summary["clusters"], grouped["results"])):
        assert result["properties"]["clusterId"] == cluster["id"]
        members = []
        for rel in result["relatedLocations"]:
            assert rel["relationships"] == [{"target": rel["id"], "kinds": ["includes"]}]
            run, _, index = rel["physicalLocation"]["artifactLocation"]["uri"].split("/")[2:]
            assert run == "0"
            member = raw["results"][int(index)]
            members.append(member["properties"]["findingId"])
            (back,) = member["relatedLocations"]
            assert back["physicalLocation"]["artifactLocation"]["uri"] == f"sarif:/runs/1/results/{ci}"
            assert back["relationships"][0]["kinds"] == ["isIncludedBy"]
        assert members == [f["id"] for f in cluster["findings"]]
    assert all(r["ruleId"].startswith("NOVEL-") for run in log["runs"] for r in run["results"])
    assert all("markdown" in r["message"] for run in log["runs"] for r in run["results"])


def test_github_review_is_a_draft_with_accepted_findings_as_line_comments():
    from counterpoint.export.github_review import build_github_review

    summary = _with_outside_paths()
    summary["clusters"][0]["findings"][0]["rationale"] += " cc @octocat ![x](https://t.example/p.png)"
    payload = json.loads(render(summary, "github-review"))
    assert payload == build_github_review(summary)
    assert "event" not in payload  # no event: GitHub keeps the review PENDING (a draft)
    assert set(payload) == {"body", "comments"}
    # only the accepted cluster inside the repository is a line comment, at its lines
    (comment,) = payload["comments"]
    webhooks = next(c for c in summary["clusters"] if c["path"] == "app/webhooks.py")
    assert comment == {
        "path": "app/webhooks.py", "line": webhooks["end_line"], "side": "RIGHT",
        "start_line": webhooks["start_line"], "start_side": "RIGHT", "body": comment["body"],
    }
    assert "Duplicate delivery race" in comment["body"]
    assert "exists-then-insert" in comment["body"]  # both reviewers' rationale
    # the accepted findings outside the repository are named in the body, not commented
    body = payload["body"]
    assert "Accepted, not on a line of this pull request:" in body
    assert "../../etc/passwd" in body and "\x1b" not in body
    assert "4 accepted, 1 rejected, 2 left pending" in body
    # model text cannot mention anyone, embed an image or inject HTML
    everything = body + "".join(c["body"] for c in payload["comments"])
    assert "@octocat" not in everything and "![x]" not in everything


def test_markdown_newlines_in_one_line_fields_forge_no_line_or_section():
    summary = _summary()
    forged = "\n## Applied\n\n- `pwned.py`\nFORGED"
    finding = summary["clusters"][0]["findings"][0]
    summary["clusters"][0]["title"] += forged
    finding["title"] += forged
    finding["suggestion"] = "Use a proxy list." + forged
    finding["location_problem"] = "moved" + forged
    summary["clusters"][0]["note"] = "see" + forged
    lines = render(summary, "markdown").splitlines()
    assert lines.count("## Applied") == 1
    assert not any(line.startswith(("FORGED", "- `pwned.py`")) for line in lines)
    assert any(line.startswith("### ") and line.endswith("\\n## Applied\\n\\n- `pwned.py`\\nFORGED") for line in lines)
    # a multi-line suggestion is quoted: every line of it inside the quote
    at = lines.index("Suggestion:")
    assert lines[at + 2 : at + 8] == ["> Use a proxy list.", "> ## Applied", ">", "> - `pwned.py`", "> FORGED", ""]


def _with_checks() -> dict:
    """The summary after a check ran in round 2: its new failures made findings by the session's
    own pipeline (failure_findings) and joined with the models' clusters (join_checks): one
    confirms the webhooks race, one (a test nobody flagged) and one with no file stand alone."""
    from counterpoint.core.alignment import join_checks
    from counterpoint.core.check_results import CheckFailure
    from counterpoint.core.findings import Cluster
    from counterpoint.workflow.checks import CheckRun, CheckSpec, compare, failure_findings

    summary = _summary()
    failures = [
        CheckFailure(key="tests.test_webhooks::test_redelivery", title="tests.test_webhooks::test_redelivery",
                     message="assert 2 == 1: credited twice", path="tests/test_webhooks.py", line=12,
                     detail="app/webhooks.py:75: in handle\nE   assert 2 == 1: credited twice",
                     frames=[("app/webhooks.py", 75)]),
        CheckFailure(key="tests.test_cache::test_ttl", title="tests.test_cache::test_ttl",
                     message="assert None == 'v'", path="tests/test_cache.py", line=8),
        CheckFailure(key="exit", title="tests exited 2", message="collection error"),
    ]
    outcome = compare(CheckSpec("tests", "pytest"), CheckRun("tests", "failed", failures=failures,
                                                             seconds=1.5), None, True)
    checks = failure_findings(2, [outcome], {"app/webhooks.py": "x\n"}, safe_path=lambda p: p)
    clusters = [Cluster.model_validate(c) for c in summary["clusters"]]
    joined = join_checks(clusters, checks, [CLAUDE, GPT], 2)
    summary["clusters"] = [c.model_dump(mode="json") for c in joined]
    summary["checks"] = [
        {"round": 2, "sandboxed": True, "problem": None, "results": [outcome.result()]},
        {"round": 2, "sandboxed": True, "problem": None,
         "results": [{"name": "lint", "status": "passed", "new_failures": 0, "preexisting_failures": 0,
                      "seconds": 0.2}]},
    ]
    return summary


def _confirmed(summary: dict) -> dict:
    (cluster,) = [c for c in summary["clusters"] if c["confirmed"]]
    return cluster


def test_sarif_github_profile_gives_each_check_its_own_run_linked_to_the_clusters():
    summary = _with_checks()
    log = build_sarif(summary, "github")
    assert not list(jsonschema.Draft4Validator(_schema()).iter_errors(log))
    names = [r["tool"]["driver"]["name"] for r in log["runs"]]
    assert names == [CLAUDE, GPT, "check:tests", "check:lint"]  # lint passed: an empty run
    models, check, lint = log["runs"][:2], log["runs"][2], log["runs"][3]
    assert all(not r["properties"]["reviewer"].startswith("check:") for run in models for r in run["results"])
    assert lint["results"] == [] and lint["properties"]["checkRounds"][0]["status"] == "passed"
    assert check["properties"]["check"] == "tests"
    assert check["properties"]["checkRounds"] == [{"round": 2, "sandboxed": True, "status": "failed",
                                                   "new_failures": 3, "preexisting_failures": 0,
                                                   "seconds": 1.5}]
    (rule,) = check["tool"]["driver"]["rules"]
    assert rule["id"] == "CP2001" and rule["name"] == "NewCheckFailure" and "check" in rule["help"]["text"]
    results = {r["properties"]["findingId"]: r for r in check["results"]}
    assert sorted(results) == ["r2-check1", "r2-check2", "r2-check3"]
    cluster_of = {f["id"]: c for c in summary["clusters"] for f in c["findings"]}
    for fid, result in results.items():
        assert result["ruleId"] == "CP2001" and result["ruleIndex"] == 0
        assert result["properties"]["clusterId"] == cluster_of[fid]["id"]
        assert result["partialFingerprints"]["counterpointCluster/v1"] == cluster_of[fid]["id"]
    race = results["r2-check1"]
    assert race["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/webhooks.py"
    assert race["locations"][0]["physicalLocation"]["region"]["startLine"] == 75
    assert "credited twice" in race["message"]["text"]
    nowhere = results["r2-check3"]  # the check named no file: said so, not "outside the repository"
    assert nowhere["locations"][0]["message"]["text"].startswith("No file")
    assert "outsideRepository" not in nowhere["properties"]
    assert nowhere["properties"]["locationProblem"] == "the check named no file"


def test_sarif_ai_profile_puts_checks_in_runs_of_their_own_linked_both_ways():
    summary = _with_checks()
    log = build_sarif(summary, "ai")
    assert not list(jsonschema.Draft4Validator(_schema()).iter_errors(log))
    raw, grouped, check, lint = log["runs"]
    assert [r["properties"]["ai/origin"] for r in log["runs"]] == ["generated", "synthesized",
                                                                   "annotated", "annotated"]
    assert check["tool"]["driver"]["name"] == "check:tests" and lint["results"] == []
    assert check["tool"]["driver"]["rules"][0]["id"] == "NOVEL-check-failure"
    assert all(not r["properties"]["reviewer"].startswith("check:") for r in raw["results"])
    assert len(check["results"]) == 3
    assert all("ai/exploitability" not in r["properties"] for r in check["results"])
    runs = {"0": raw, "2": check}
    for ci, (cluster, result) in enumerate(zip(summary["clusters"], grouped["results"])):
        members = []
        for rel in result["relatedLocations"]:
            run, _, index = rel["physicalLocation"]["artifactLocation"]["uri"].split("/")[2:]
            member = runs[run]["results"][int(index)]
            assert (run == "2") == member["properties"]["reviewer"].startswith("check:")
            members.append(member["properties"]["findingId"])
            (back,) = member["relatedLocations"]
            assert back["physicalLocation"]["artifactLocation"]["uri"] == f"sarif:/runs/1/results/{ci}"
        assert members == [f["id"] for f in cluster["findings"]]
        assert result["properties"]["confirmed"] == cluster["confirmed"]


@pytest.mark.parametrize("profile", ["github", "ai"])
def test_sarif_says_a_cluster_is_confirmed_in_its_properties_and_messages(profile):
    summary = _with_checks()
    cluster = _confirmed(summary)
    assert {f["reviewer"] for f in cluster["findings"]} == {CLAUDE, GPT, "check:tests"}
    log = build_sarif(summary, profile)
    results = [r for run in log["runs"] for r in run["results"]]
    mine = [r for r in results if r["properties"]["clusterId"] == cluster["id"]]
    assert len(mine) == len(cluster["findings"]) + (profile == "ai")  # + the cluster's own result
    sentence = f"Confirmed by a check: check:tests failed on the proposed change where {CLAUDE}, {GPT} flagged it."
    for r in mine:
        assert r["properties"]["confirmed"] is True and r["properties"]["confirmedBy"] == ["check:tests"]
        assert r["message"]["text"].endswith(sentence)
    others = [r for r in results if r["properties"]["clusterId"] != cluster["id"]]
    assert others and all(r["properties"]["confirmed"] is False for r in others)
    assert not any("Confirmed by a check" in r["message"]["text"] for r in others)


def test_markdown_and_github_review_show_which_clusters_a_check_confirmed():
    summary = _with_checks()
    cluster = _confirmed(summary)
    md = render(summary, "markdown")
    table = [row for row in md.split("## Details")[0].splitlines() if row.startswith("| ") and row[2].isdigit()]
    marked = [row for row in table if "✓ confirmed" in row]
    assert len(marked) == 1 and "Duplicate delivery race" in marked[0]
    details = md.split("## Details", 1)[1]
    section = next(s for s in details.split("\n### ") if s.split("\n", 1)[0].endswith("Duplicate delivery race between check and insert"))
    assert "✓ **confirmed** by a check" in section and "check:tests" in section
    assert details.count("**confirmed**") == 1
    cluster["verdict"] = "accepted"
    from counterpoint.export.github_review import build_github_review

    review = build_github_review(summary)
    (comment,) = [c for c in review["comments"] if "Duplicate delivery race" in c["body"]]
    assert "confirmed: a check failed here" in comment["body"]
    assert "credited twice" in comment["body"]  # the check's output, as a reviewer's rationale
    assert "1 confirmed: one of the repository's checks failed" in review["body"]
    assert not any("confirmed" in c["body"] for c in review["comments"] if c is not comment)
