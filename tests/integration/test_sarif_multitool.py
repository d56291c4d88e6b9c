"""SARIF exports of a real session, checked by Microsoft's SARIF Multitool (`validate`), the tool
GitHub's ingestion rules and the AI producer rules come from. `.ci/run` installs it with npm
into `.ci/sarif`; `COUNTERPOINT_SARIF_MULTITOOL` may point at another copy."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.integration.test_cli import cp, events
from tests.support.cassettes import tiny_session

from counterpoint.core.alignment import align
from counterpoint.core.findings import Finding
from counterpoint.export.sarif import render_sarif

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / ".ci/sarif/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"


def multitool() -> Path:
    path = Path(os.environ.get("COUNTERPOINT_SARIF_MULTITOOL") or BUNDLED)
    if not path.exists():
        message = f"SARIF Multitool not installed at {path} (bash .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def validate(log: Path, *rule_kind: str) -> dict[str, list[str]]:
    """The validator's results on `log`, by level: {"error": [...], "warning": [...]}."""
    out = log.with_suffix(".validation.sarif")
    proc = subprocess.run(
        [str(multitool()), "validate", str(log), "-o", str(out), "--log", "ForceOverwrite",
         *rule_kind],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"},
    )
    assert out.exists(), proc.stdout + proc.stderr
    found: dict[str, list[str]] = {"error": [], "warning": []}
    for run in json.loads(out.read_text(encoding="utf-8-sig"))["runs"]:
        for result in run.get("results", []):
            level = result.get("level", "warning")
            if level in found:
                found[level].append(f"{result['ruleId']}: {result['message'].get('arguments')}")
    return found


@pytest.fixture
def exported(git_repo, tmp_path):
    """A two-round session (verdicts by --accept consensus) exported by the command line in
    both profiles, and the same summary with findings whose paths leave the repository."""
    gen, (a, b) = tiny_session(tmp_path)
    proc = cp("run", "Validate add", "--generator", gen, "--reviewer", a, "--reviewer", b,
              "--rounds", "2", "--accept", "consensus", "--headless", "--json", cwd=git_repo)
    assert proc.returncode == 0, proc.stderr
    summary = events(proc.stdout)[-1]
    files = {}
    for profile in ("github", "ai"):
        files[profile] = tmp_path / f"{profile}.sarif"
        cp("export", summary["session_id"], "--format", "sarif", "--sarif-profile", profile,
           "-o", str(files[profile]), cwd=git_repo, check=True)
    hostile = [
        Finding(id="r2-a9", round=2, reviewer="anthropic:claude-opus-5-5", path=path,
                start_line=1, end_line=3, severity="high", category="security",
                title="Reads \x1b]52;c;eA==\x07 a file", rationale="outside")
        for path in ("../../etc/passwd", "~/.ssh/id_rsa")
    ]
    clusters, _ = align(hostile[:1], summary["reviewers"], 2)
    clusters += align([hostile[1].model_copy(update={"id": "r2-a10"})], summary["reviewers"], 2)[0]
    summary["clusters"] += [c.model_dump(mode="json") for c in clusters]
    for profile in ("github", "ai"):
        files[f"{profile}-outside"] = tmp_path / f"{profile}-outside.sarif"
        files[f"{profile}-outside"].write_text(render_sarif(summary, profile))
    return files


def test_github_profile_passes_default_and_ghas_rules_without_errors_or_warnings(exported):
    for name in ("github", "github-outside"):
        for rule_kind in ((), ("--rule-kind", "Ghas")):
            found = validate(exported[name], *rule_kind)
            assert found == {"error": [], "warning": []}, (name, rule_kind, found)


def test_ai_profile_passes_ai_rules_without_errors(exported):
    for name in ("ai", "ai-outside"):
        found = validate(exported[name], "--rule-kind", "AI")
        assert found["error"] == [], (name, found["error"])
        assert validate(exported[name])["error"] == []
    log = json.loads(exported["ai"].read_text())
    assert [r["properties"]["ai/origin"] for r in log["runs"]] == ["generated", "synthesized"]
    assert log["runs"][1]["results"], "the session has clusters to link"


@pytest.fixture
def exported_with_checks(tmp_path):
    """The demo's session (its pytest suite is a check: round 1 breaks two tests, one of them
    confirming the models' finding; round 2 passes), exported by the command line in both
    profiles."""
    multitool()  # skip before the demo runs when there is no validator
    proc = cp("demo", "--headless", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    summary = events(proc.stdout)[-1]
    repo = Path(summary["repo_path"])
    try:
        if not summary.get("checks"):
            pytest.skip("the demo ran no checks here (no pytest in this Python?)")
        assert any(c["confirmed"] for c in summary["clusters"]), "the demo has a confirmed cluster"
        files = {}
        for profile in ("github", "ai"):
            files[profile] = tmp_path / f"{profile}-checks.sarif"
            cp("export", summary["session_id"], "--format", "sarif", "--sarif-profile", profile,
               "-o", str(files[profile]), cwd=repo, check=True)
        yield files
    finally:
        if repo.parent.name.startswith("counterpoint-demo-"):
            shutil.rmtree(repo.parent, ignore_errors=True)


def test_check_runs_pass_the_validator_in_both_profiles(exported_with_checks):
    github = exported_with_checks["github"]
    for rule_kind in ((), ("--rule-kind", "Ghas")):
        assert validate(github, *rule_kind) == {"error": [], "warning": []}, rule_kind
    log = json.loads(github.read_text())
    assert log["runs"][-1]["tool"]["driver"]["name"] == "check:tests"
    assert log["runs"][-1]["results"], "round 1's new failures"
    confirmed = [r for run in log["runs"] for r in run["results"] if r["properties"]["confirmed"]]
    assert {r["properties"]["reviewer"] for r in confirmed} >= {"check:tests"}  # from the journal
    assert all("Confirmed by a check: check:tests" in r["message"]["text"] for r in confirmed)
    ai = exported_with_checks["ai"]
    found = validate(ai, "--rule-kind", "AI")
    assert found["error"] == [], found["error"]
    assert validate(ai)["error"] == []
    log = json.loads(ai.read_text())
    assert [r["properties"]["ai/origin"] for r in log["runs"]] == ["generated", "synthesized", "annotated"]
    assert log["runs"][2]["tool"]["driver"]["name"] == "check:tests"
