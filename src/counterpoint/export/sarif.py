"""SARIF 2.1.0 export: one run per reviewer, one result per finding.

Code-scanning UIs (GitHub, VS Code's SARIF viewer) show each reviewer as a tool, its findings
as results at their file and lines, and Counterpoint's own judgement (agreement, stance,
verdict, the human's note) in each result's property bag.
"""

from __future__ import annotations

import json
from typing import Any

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def _uri(path: str) -> str:
    p = path.strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/") or "."


def _region(start: int, end: int) -> dict[str, int]:
    """SARIF lines are 1-based; a finding whose lines are off (location_problem) is clamped."""
    start = max(1, start)
    return {"startLine": start, "endLine": max(start, end)}


def _result(finding: dict[str, Any], cluster: dict[str, Any], summary: dict[str, Any]) -> dict:
    message = finding["title"]
    if finding.get("rationale"):
        message = f"{finding['title']}\n\n{finding['rationale']}"
    properties: dict[str, Any] = {
        "severity": finding["severity"],
        "category": finding["category"],
        "confidence": finding.get("confidence"),
        "suggestion": finding.get("suggestion"),
        "agreement": cluster["agreement"],
        "contested": cluster["contested"],
        "stance": finding.get("stance", "none"),
        "reply": finding.get("reply"),
        "clusterStance": cluster.get("stance", "none"),
        "verdict": cluster.get("verdict", "pending"),
        "note": cluster.get("note"),
        "clusterId": cluster["id"],
        "findingId": finding["id"],
        "round": finding.get("round", cluster.get("round")),
        "sessionId": summary.get("session_id"),
        "reviewers": sorted({f["reviewer"] for f in cluster["findings"]}),
    }
    if finding.get("location_problem"):
        properties["locationProblem"] = finding["location_problem"]
    return {
        "ruleId": finding["category"],
        "level": LEVELS[finding["severity"]],
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(finding["path"]), "uriBaseId": "SRCROOT"},
                    "region": _region(finding["start_line"], finding["end_line"]),
                }
            }
        ],
        "partialFingerprints": {
            "counterpointFinding/v1": f"{summary.get('session_id', '')}:{finding['id']}",
            "counterpointCluster/v1": cluster["id"],
        },
        "properties": properties,
    }


def _run(reviewer: str, pairs: list[tuple[dict, dict]], summary: dict[str, Any]) -> dict:
    categories = sorted({f["category"] for f, _ in pairs})
    rule_index = {c: i for i, c in enumerate(categories)}
    results = []
    for finding, cluster in pairs:
        result = _result(finding, cluster, summary)
        result["ruleIndex"] = rule_index[finding["category"]]
        results.append(result)
    return {
        "tool": {
            "driver": {
                "name": reviewer,
                "semanticVersion": summary.get("version") or None,
                "rules": [
                    {
                        "id": c,
                        "name": c.replace("-", " ").title().replace(" ", ""),
                        "shortDescription": {"text": f"{c} finding raised by a model reviewer"},
                    }
                    for c in categories
                ],
            }
        },
        "automationDetails": {"id": f"counterpoint/{summary.get('session_id', '')}/{reviewer}"},
        "originalUriBaseIds": {"SRCROOT": {"uri": _root_uri(str(summary.get("repo_path")))}}
        if summary.get("repo_path")
        else {},
        "results": results,
        "properties": {
            "task": summary.get("task"),
            "generator": summary.get("generator"),
            "rounds": summary.get("rounds"),
            "repo": summary.get("repo"),
            "branch": summary.get("branch"),
        },
    }


def _root_uri(repo_path: str) -> str:
    path = repo_path.replace("\\", "/").rstrip("/") + "/"
    return "file://" + (path if path.startswith("/") else "/" + path)


def _drop_none(node: Any) -> Any:
    """SARIF forbids null where a value is typed (e.g. semanticVersion): omit it instead."""
    if isinstance(node, dict):
        return {k: _drop_none(v) for k, v in node.items() if v is not None and v != {}}
    if isinstance(node, list):
        return [_drop_none(v) for v in node]
    return node


def build_sarif(summary: dict[str, Any]) -> dict[str, Any]:
    """The SARIF log as a dict. Reviewers with no findings still get an (empty) run, so the
    log shows who reviewed."""
    by_reviewer: dict[str, list[tuple[dict, dict]]] = {r: [] for r in summary.get("reviewers", [])}
    for cluster in summary.get("clusters", []):
        for finding in cluster["findings"]:
            by_reviewer.setdefault(finding["reviewer"], []).append((finding, cluster))
    runs = [_run(reviewer, pairs, summary) for reviewer, pairs in by_reviewer.items()]
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}
    # properties keep their nulls (note: None means "no note"); everything else drops them
    cleaned = _drop_none({k: v for k, v in log.items() if k != "runs"})
    cleaned["runs"] = []
    for run in runs:
        results = run.pop("results")
        out = _drop_none(run)
        out["results"] = []
        for result in results:
            props = result.pop("properties")
            r = _drop_none(result)
            r["properties"] = props
            out["results"].append(r)
        cleaned["runs"].append(out)
    return cleaned


def render_sarif(summary: dict[str, Any]) -> str:
    return json.dumps(build_sarif(summary), indent=2, ensure_ascii=False) + "\n"
