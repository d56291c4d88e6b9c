"""SARIF 2.1.0 export in two profiles, both checked by Microsoft's SARIF Multitool `validate`.

- ``github`` (the default; `--rule-kind Ghas` and the default rules: 0 errors, 0 warnings): one
  run per reviewer, one result per finding. Code-scanning UIs show each reviewer as a tool, its
  findings at their file and lines, and Counterpoint's judgement (agreement, stance, verdict,
  the human's note) in each result's property bag. Rules are the finding categories with stable
  opaque ids (``CP1001`` ...), a readable name, full description and help; results carry
  `partialFingerprints`.
- ``ai`` (`--rule-kind AI`: 0 errors), following the validator's "grouping findings" guide:
  run 0 (``ai/origin: generated``) holds every reviewer's raw findings, run 1
  (``ai/origin: synthesized``) the clusters; each cluster `includes` its members and each
  member `isIncludedBy` its cluster, through ``sarif:/runs/N/results/M`` related locations.

The repository's checks are tools of their own: each check that ran (reviewer ``check:NAME``)
gets its own run after the models' (``github``: after the reviewers' runs; ``ai``: runs 2, 3 …
with ``ai/origin: annotated``, a deterministic tool's failures that the session placed,
clustered and had answered, and no ``ai/exploitability``, which a failing test does not
measure). Its one rule is ``CP2001`` / ``NOVEL-check-failure``; its outcome in each round is in
the run's properties; its results link to their clusters as the models' do. A cluster a check
joined is ``confirmed``: a property of every result of it, and a sentence in their messages.

URIs are repository-relative (``uriBaseId: SRCROOT``). A finding whose path leaves the
repository (``../x``, ``~/.ssh/id_rsa``, ``/etc/passwd``, ``C:\\x``) gets no URI of its own:
its location points at the repository root, says so in its message, and the result is marked
``outsideRepository`` (the path the model wrote is kept, escaped, in the property bag).
"""

from __future__ import annotations

import json
import posixpath
import re
import uuid
from typing import Any
from urllib.parse import quote

from counterpoint.core.alignment import is_check
from counterpoint.core.pathnames import to_posix
from counterpoint.core.safe_text import visible

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
PROFILES = ("github", "ai")
INFORMATION_URI = "https://pypi.org/project/counterpoint/"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
RANKS = {"critical": 95.0, "high": 80.0, "medium": 50.0, "low": 25.0, "info": 5.0}

PROVIDER_URIS = {
    "anthropic": "https://docs.anthropic.com/en/docs/about-claude/models",
    "openai": "https://platform.openai.com/docs/models",
}

# category → (stable opaque id, readable name, what the category covers)
RULES: dict[str, tuple[str, str, str]] = {
    "security": ("CP1001", "SecurityWeakness",
                 "a weakness an attacker could use: injection, missing authentication or "
                 "authorisation, secrets, unsafe deserialisation, timing leaks"),
    "concurrency": ("CP1002", "ConcurrencyHazard",
                    "a race, a missing lock, a non-atomic check-then-act, or work that blocks "
                    "where it must not"),
    "correctness": ("CP1003", "IncorrectBehaviour",
                    "code that does not do what the change intends: wrong results, wrong "
                    "conditions, missed cases"),
    "error-handling": ("CP1004", "ErrorHandlingGap",
                       "errors that are swallowed, raised where they should be handled, or "
                       "reported without the information needed to act"),
    "performance": ("CP1005", "PerformanceCost",
                    "needless work: repeated queries, unbounded growth, quadratic loops, missing "
                    "timeouts"),
    "simplicity": ("CP1006", "NeedlessComplexity",
                   "code that is harder to read or change than the problem needs"),
    "consistency": ("CP1007", "InconsistentConvention",
                    "code that departs from the repository's own conventions or contradicts "
                    "other parts of the change"),
    "testing": ("CP1008", "MissingTest",
                "behaviour the change adds or alters that no test covers"),
    "docs": ("CP1009", "OutdatedDocumentation",
             "documentation, docstrings or comments that no longer match the code"),
}

# the rule of every check run: a failure the proposal brought
CHECK_RULE = ("CP2001", "NOVEL-check-failure", "NewCheckFailure")

_DRIVE = re.compile(r"^[A-Za-z]:")


def _clean(text: Any) -> str:
    """Model text with control characters shown as visible escapes (``\\x1b``): a SARIF viewer
    that prints a message never receives terminal control."""
    return visible(str(text or ""))


def repo_uri(path: str) -> str | None:
    """The repository-relative URI of `path`, or None when it points outside the repository
    (absolute, ``~``, a drive letter, a URI scheme, or ``..`` that climbs above the root)."""
    p = to_posix(path.strip())
    if not p or p.startswith(("/", "~")) or _DRIVE.match(p) or "://" in p or p.startswith("file:"):
        return None
    p = posixpath.normpath(p)
    if p == "." or p == ".." or p.startswith("../"):
        return None
    return quote(p, safe="/")


def _region(start: int, end: int) -> dict[str, int]:
    """SARIF lines are 1-based; a finding whose lines are off (location_problem) is clamped."""
    start = max(1, start)
    return {"startLine": start, "endLine": max(start, end)}


def _location(path: str, start: int, end: int, *, with_id: bool = False) -> dict[str, Any]:
    uri = repo_uri(path)
    if not path.strip():  # a check's failure that named no file
        location: dict[str, Any] = {
            "logicalLocations": [{"name": "(no file)", "kind": "resource"}],
            "message": {"text": "No file: the check's report named none."},
        }
    elif uri is None:
        location = {
            "logicalLocations": [{"name": _clean(path), "kind": "resource"}],
            "message": {"text": f"Outside the repository: {_clean(path)!r} (not a repository file)."},
        }
    else:
        location = {"physicalLocation": {
            "artifactLocation": {"uri": uri, "uriBaseId": "SRCROOT"},
            "region": _region(start, end),
        }}
    if with_id:
        location = {"id": 0, **location}
    return location


def _message(finding: dict[str, Any], cluster: dict[str, Any] | None = None) -> dict[str, str]:
    title, rationale = _clean(finding["title"]), _clean(finding.get("rationale"))
    suggestion = _clean(finding.get("suggestion"))
    text = f"{title}\n\n{rationale}" if rationale else title
    markdown = f"**{_md(title)}**"
    if rationale:
        markdown += f"\n\n{_md(rationale)}"
    if suggestion:
        text += f"\n\nSuggestion: {suggestion}"
        markdown += f"\n\n*Suggestion:* {_md(suggestion)}"
    confirmation = _confirmation(cluster) if cluster else None
    if confirmation:
        text += f"\n\n{confirmation}"
        markdown += f"\n\n*{_md(confirmation)}*"
    return {"text": text, "markdown": markdown}


def _confirmation(cluster: dict[str, Any]) -> str | None:
    """The sentence every result of a confirmed cluster carries (None when not confirmed)."""
    if not cluster.get("confirmed"):
        return None
    voices = {f["reviewer"] for f in cluster["findings"]}
    checks = ", ".join(_clean(r) for r in sorted(filter(is_check, voices)))
    models = ", ".join(_clean(r) for r in sorted(r for r in voices if not is_check(r)))
    return f"Confirmed by a check: {checks} failed on the proposed change where {models} flagged it."


def _confirmed_by(cluster: dict[str, Any]) -> list[str]:
    if not cluster.get("confirmed"):
        return []
    return sorted({f["reviewer"] for f in cluster["findings"] if is_check(f["reviewer"])})


def _md(text: str) -> str:
    """Model text inside Markdown: no raw HTML, no link or emphasis syntax of its own."""
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def _rule(category: str, profile: str) -> dict[str, Any]:
    _id, name, covers = RULES[category]
    full = f"A reviewing model reported {covers}."
    help_text = (
        f"Category '{category}': {covers}. The finding was raised by a model reviewing a "
        "proposed change in Counterpoint; its properties say whether other reviewers raised "
        "the same problem (agreement), whether one of the repository's checks failed there "
        "(confirmed), what the generating model answered (stance) and what the human decided "
        "(verdict). Read the rationale, check the cited lines, and fix or "
        "dismiss it."
    )
    rule: dict[str, Any] = {
        "id": _rule_id(category, profile),
        "name": name,
        "shortDescription": {"text": f"{name}: a {category} finding from a model reviewer."},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"category": category, "tags": [category, "counterpoint"]},
    }
    if profile == "github":
        rule["properties"]["precision"] = "medium"
    return rule


def _rule_id(category: str, profile: str) -> str:
    return f"NOVEL-{category}" if profile == "ai" else RULES[category][0]


def _check_rule(profile: str) -> dict[str, Any]:
    github_id, ai_id, name = CHECK_RULE
    help_text = (
        "One of the repository's own checks (its tests, or an analyser such as ruff), run in a "
        "sandbox on the working tree plus the change Counterpoint proposed, failed where the same "
        "check on the base state did not: the change broke it. The message holds the failing "
        "test or diagnostic and the end of its output; the properties say which cluster of "
        "findings it joined (confirmed, when models flagged the same problem) and what the human "
        "decided (verdict). Fix the change, or the test if the change is right."
    )
    rule: dict[str, Any] = {
        "id": ai_id if profile == "ai" else github_id,
        "name": name,
        "shortDescription": {"text": f"{name}: a check fails on the proposed change."},
        "fullDescription": {"text": "A check of the repository failed with the proposed change "
                                    "and passed without it."},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": "error"},
        "properties": {"category": "correctness", "tags": ["correctness", "counterpoint", "check"]},
    }
    if profile == "github":
        rule["properties"]["precision"] = "very-high"
    return rule


def _properties(finding: dict[str, Any], cluster: dict[str, Any], summary: dict[str, Any]) -> dict:
    properties: dict[str, Any] = {
        "reviewer": finding.get("reviewer"),
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
        "confirmed": bool(cluster.get("confirmed")),
    }
    if cluster.get("confirmed"):
        properties["confirmedBy"] = _confirmed_by(cluster)
    if finding.get("location_problem"):
        properties["locationProblem"] = finding["location_problem"]
    if finding["path"].strip() and repo_uri(finding["path"]) is None:
        properties["outsideRepository"] = True
        properties["reportedPath"] = _clean(finding["path"])
    return properties


def _finding_result(
    finding: dict[str, Any], cluster: dict[str, Any], summary: dict[str, Any], profile: str,
    rule_index: dict[str, int],
) -> dict[str, Any]:
    """A finding's result; `rule_index` maps its category to the run's rule (a check's run has
    one rule, at 0, for every finding)."""
    message = _message(finding, cluster)
    check = is_check(finding["reviewer"])
    rule_id = _check_rule(profile)["id"] if check else _rule_id(finding["category"], profile)
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "ruleIndex": 0 if check else rule_index[finding["category"]],
        "level": LEVELS[finding["severity"]],
        "rank": RANKS[finding["severity"]],
        "message": message if profile == "ai" else {"text": message["text"]},
        "locations": [_location(finding["path"], finding["start_line"], finding["end_line"],
                                with_id=profile == "ai")],
    }
    if profile == "github":
        result["partialFingerprints"] = {
            "counterpointFinding/v1": f"{summary.get('session_id', '')}:{finding['id']}",
            "counterpointCluster/v1": cluster["id"],
        }
    result["properties"] = _properties(finding, cluster, summary)
    if profile == "ai" and not check:  # a check's run is not AI output
        result["properties"]["ai/exploitability"] = "theoretical"
    return result


def _driver(name: str, categories: list[str], summary: dict[str, Any], profile: str) -> dict:
    """A model's (or Counterpoint's) driver with a rule per category; a check's with its one rule."""
    provider = name.split(":", 1)[0]
    driver: dict[str, Any] = {
        "name": name,
        "informationUri": PROVIDER_URIS.get(provider, INFORMATION_URI),
        "rules": [_check_rule(profile)] if is_check(name) else [_rule(c, profile) for c in categories],
    }
    if summary.get("version"):
        driver["semanticVersion"] = summary["version"]
    return driver


def _root_uri(repo_path: str) -> str:
    path = to_posix(repo_path).rstrip("/") + "/"
    return "file://" + quote(path if path.startswith("/") else "/" + path, safe="/:")


def _base(summary: dict[str, Any]) -> dict[str, Any]:
    """What every run carries: the source root, and where the code came from."""
    out: dict[str, Any] = {}
    if summary.get("repo_path"):
        root = _root_uri(str(summary["repo_path"]))
        out["originalUriBaseIds"] = {"SRCROOT": {"uri": root}}
        provenance: dict[str, Any] = {"repositoryUri": root, "mappedTo": {"uriBaseId": "SRCROOT"}}
        if summary.get("branch"):
            provenance["branch"] = summary["branch"]
        out["versionControlProvenance"] = [provenance]
    return out


def _run_properties(summary: dict[str, Any], **extra: Any) -> dict[str, Any]:
    props = {
        "task": _clean(summary.get("task")),
        "generator": summary.get("generator"),
        "rounds": summary.get("rounds"),
        "repo": summary.get("repo"),
        "branch": summary.get("branch"),
    }
    return {k: v for k, v in {**props, **extra}.items() if v is not None}


def _pairs(summary: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(f, c) for c in summary.get("clusters", []) for f in c["findings"]]


def _by_check(summary: dict[str, Any]) -> dict[str, list[tuple[dict, dict]]]:
    """Each check that ran (or has findings), as its reviewer `check:NAME`, with its findings."""
    names = [f"check:{r['name']}" for run in summary.get("checks", []) for r in run.get("results", [])]
    out: dict[str, list[tuple[dict, dict]]] = {name: [] for name in names}
    for finding, cluster in _pairs(summary):
        if is_check(finding["reviewer"]):
            out.setdefault(finding["reviewer"], []).append((finding, cluster))
    return out


def _check_properties(summary: dict[str, Any], reviewer: str) -> dict[str, Any]:
    """The check's outcome in each round it ran: status, counts, seconds, sandboxed."""
    rounds = [
        {"round": run.get("round"), "sandboxed": run.get("sandboxed"),
         **{k: v for k, v in result.items() if k != "name" and v is not None}}
        for run in summary.get("checks", [])
        for result in run.get("results", [])
        if f"check:{result['name']}" == reviewer
    ]
    return {"check": reviewer.removeprefix("check:"), "checkRounds": rounds}


def _github(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One run per reviewer, then one per check (reviewers with no findings and checks that
    passed still get an empty run, so the log shows who reviewed)."""
    by_reviewer: dict[str, list[tuple[dict, dict]]] = {r: [] for r in summary.get("reviewers", [])}
    for finding, cluster in _pairs(summary):
        if not is_check(finding["reviewer"]):
            by_reviewer.setdefault(finding["reviewer"], []).append((finding, cluster))
    runs = []
    for reviewer, pairs in [*by_reviewer.items(), *_by_check(summary).items()]:
        categories = sorted({f["category"] for f, _ in pairs})
        index = {c: i for i, c in enumerate(categories)}
        extra = _check_properties(summary, reviewer) if is_check(reviewer) else {}
        runs.append({
            "tool": {"driver": _driver(reviewer, categories, summary, "github")},
            "automationDetails": {"id": f"counterpoint/{reviewer}/{summary.get('session_id', '')}"},
            **_base(summary),
            "results": [_finding_result(f, c, summary, "github", index) for f, c in pairs],
            "properties": _run_properties(summary, **extra),
        })
    return runs


def _link(run: int, result: int, kind: str, text: str, location_id: int = 1) -> dict[str, Any]:
    """A related location pointing at another result (``sarif:/runs/R/results/N``), typed by a
    relationship to itself, as the validator's grouping guide has it (`location_id` > 0: the
    result's own location is id 0)."""
    return {
        "id": location_id,
        "physicalLocation": {"artifactLocation": {"uri": f"sarif:/runs/{run}/results/{result}"}},
        "message": {"text": text},
        "relationships": [{"target": location_id, "kinds": [kind]}],
    }


def _automation(run_id: str) -> dict[str, str]:
    """The run's id and a guid derived from it: stable across exports of one session."""
    return {"id": run_id, "guid": str(uuid.uuid5(uuid.NAMESPACE_URL, "counterpoint:" + run_id))}


def _ai(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Run 0: the models' raw findings; run 1: the clusters; runs 2 …: each check's findings;
    clusters and their members linked both ways."""
    clusters = summary.get("clusters", [])
    pairs = [(f, c) for f, c in _pairs(summary) if not is_check(f["reviewer"])]
    checks = _by_check(summary)
    categories = sorted({f["category"] for f, _ in pairs} | {c["category"] for c in clusters})
    index = {c: i for i, c in enumerate(categories)}
    where: dict[int, tuple[int, int]] = {id(f): (0, i) for i, (f, _) in enumerate(pairs)}
    for run, members in enumerate(checks.values(), start=2):
        where |= {id(f): (run, i) for i, (f, _) in enumerate(members)}
    cluster_at = {id(c): i for i, c in enumerate(clusters)}

    def raw(members: list[tuple[dict, dict]]) -> list[dict[str, Any]]:
        results = []
        for finding, cluster in members:
            result = _finding_result(finding, cluster, summary, "ai", index)
            result["relatedLocations"] = [
                _link(1, cluster_at[id(cluster)], "isIncludedBy", "The cluster that includes this finding.")
            ]
            results.append(result)
        return results

    grouped = []
    for cluster in clusters:
        reviewers = sorted({f["reviewer"] for f in cluster["findings"]})
        top = {**cluster, "rationale": f"Raised by {', '.join(reviewers)}"
               f" ({cluster['agreement']}); generator: {cluster.get('stance', 'none')}; verdict: "
               f"{cluster.get('verdict', 'pending')}.", "suggestion": None}
        result = {
            "ruleId": _rule_id(cluster["category"], "ai"),
            "ruleIndex": index[cluster["category"]],
            "level": LEVELS[cluster["severity"]],
            "rank": RANKS[cluster["severity"]],
            "message": _message(top, cluster),
            "locations": [_location(cluster["path"], cluster["start_line"], cluster["end_line"],
                                    with_id=True)],
            "relatedLocations": [
                _link(*where[id(f)], "includes", "A reviewer's finding in this cluster.", n + 1)
                for n, f in enumerate(cluster["findings"])
            ],
            "properties": {
                "clusterId": cluster["id"],
                "agreement": cluster["agreement"],
                "contested": cluster["contested"],
                "stance": cluster.get("stance", "none"),
                "verdict": cluster.get("verdict", "pending"),
                "note": cluster.get("note"),
                "round": cluster.get("round"),
                "reviewers": reviewers,
                "confirmed": bool(cluster.get("confirmed")),
                **({"confirmedBy": _confirmed_by(cluster)} if cluster.get("confirmed") else {}),
                "ai/exploitability": "theoretical",
            },
        }
        grouped.append(result)
    driver = _driver("Counterpoint", categories, summary, "ai")
    session = summary.get("session_id", "")
    runs = [
        {"tool": {"driver": driver}, "automationDetails": _automation(f"counterpoint/findings/{session}"),
         **_base(summary), "results": raw(pairs),
         "properties": _run_properties(summary, reviewers=list(summary.get("reviewers", [])),
                                       **{"ai/origin": "generated"})},
        {"tool": {"driver": driver}, "automationDetails": _automation(f"counterpoint/clusters/{session}"),
         **_base(summary), "results": grouped,
         "properties": _run_properties(summary, **{"ai/origin": "synthesized"})},
    ]
    for reviewer, members in checks.items():
        runs.append({
            "tool": {"driver": _driver(reviewer, [], summary, "ai")},
            "automationDetails": _automation(f"counterpoint/{reviewer}/{session}"),
            **_base(summary), "results": raw(members),
            "properties": _run_properties(summary, **_check_properties(summary, reviewer),
                                          **{"ai/origin": "annotated"}),
        })
    return runs


def build_sarif(summary: dict[str, Any], profile: str = "github") -> dict[str, Any]:
    """The SARIF log as a dict, in `profile` (one of `PROFILES`)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown SARIF profile {profile!r}: choose one of {', '.join(PROFILES)}")
    runs = _github(summary) if profile == "github" else _ai(summary)
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}


def render_sarif(summary: dict[str, Any], profile: str = "github") -> str:
    """ASCII JSON: every control character in model text reaches a file as an escape."""
    return json.dumps(build_sarif(summary, profile), indent=2, ensure_ascii=True) + "\n"
