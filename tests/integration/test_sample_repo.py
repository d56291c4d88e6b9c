"""The bundled sample repository and its scripted demo session.

Checks that the sample repo's own test suite passes, that the demo cassettes are valid and
consistent (reviews match the review schema, replies quote findings of their round), and that
the scripted edits behave as the demo promises: round 1 has exactly one failed edit, round 2
applies on top of round 1, the result still passes the sample's tests, and every finding's
lines lie inside the file as proposed in its round.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from counterpoint.core import edits
from counterpoint.core.edit_apply import apply_edit_blocks
from counterpoint.core.findings import Finding, ResponseOutput, ReviewOutput, finding_id
from counterpoint.core.model_json import find_json
from counterpoint.providers.base import ModelRequest, complete
from counterpoint.providers.replay import ReplayProvider, load_cassette

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_repos" / "payments-webhooks"
DEMO = ROOT / "sample_repos" / "payments-webhooks.demo"


def copy_sample(dest: Path) -> Path:
    target = dest / "payments-webhooks"
    shutil.copytree(SAMPLE, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return target


def run_sample_tests(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )


def demo_config() -> dict:
    return json.loads((DEMO / "demo.json").read_text())


def cassette_path(spec: str) -> Path:
    assert spec.startswith("replay:"), spec
    return DEMO / spec.removeprefix("replay:")


def exchanges(spec: str, role: str, *, swap: bool = False) -> list[dict]:
    """A cassette's exchanges for one role: the normal session's, or the swap set's."""
    data = load_cassette(cassette_path(spec))
    return [
        e for e in data["exchanges"] if e["role"] == role and (e.get("label") == "swap") == swap
    ]


def read_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def round_findings(round_no: int) -> list[Finding]:
    """Round N's findings with the ids the app gives them (reviewer order of demo.json)."""
    out = []
    for index, spec in enumerate(demo_config()["reviewers"]):
        review = ReviewOutput.model_validate(find_json(exchanges(spec, "reviewer")[round_no - 1]["text"]))
        for n, item in enumerate(review.findings, 1):
            out.append(
                Finding(id=finding_id(round_no, index, n), round=round_no, reviewer=spec, **item.model_dump())
            )
    return out


# -- the sample repository ------------------------------------------------------------------


def test_sample_repo_suite_passes(tmp_path):
    repo = copy_sample(tmp_path)
    result = run_sample_tests(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b\d{2,} passed", result.stdout) and "failed" not in result.stdout


def test_sample_repo_is_stdlib_only():
    allowed = set(sys.stdlib_module_names) | {"payments_webhooks", "pytest", "helpers"}
    for path in SAMPLE.rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] == ["import"] or (words[:1] == ["from"] and not words[1].startswith(".")):
                assert words[1].split(".")[0] in allowed, f"{path.name}: {line}"


# -- the demo cassettes ---------------------------------------------------------------------


def test_demo_json_names_scripted_cassettes():
    config = demo_config()
    assert config["sample"] == SAMPLE.name and config["scripted"] is True
    assert "not recorded" in config["about"].lower() or "scripted" in config["about"].lower()
    assert config["rounds"] == 2 and config["planner"] is None and len(config["reviewers"]) == 2
    specs = [config["generator"], *config["reviewers"]]
    models = [ReplayProvider(cassette_path(spec)).spec for spec in specs]
    assert len(set(models)) == 3
    for spec in specs:
        assert load_cassette(cassette_path(spec))["scripted"] is True


def test_every_review_and_reply_matches_its_schema():
    config = demo_config()
    for spec in [config["generator"], *config["reviewers"]]:
        for exchange in load_cassette(cassette_path(spec))["exchanges"]:
            data = find_json(exchange["text"])
            if exchange["role"] == "reviewer":
                ReviewOutput.model_validate(data)
            elif exchange["role"] == "responder":
                ResponseOutput.model_validate(data)


CHECK_FINDINGS = {1: {"r1-check1", "r1-check2"}, 2: set()}
"""The demo's check (the sample's pytest suite) fails two tests on round 1's proposal
(tests/integration/test_demo_checks.py runs it)."""


@pytest.mark.parametrize("round_no", [1, 2])
def test_replies_answer_exactly_the_findings_of_their_round(round_no):
    config = demo_config()
    ids = {f.id for f in round_findings(round_no)} | CHECK_FINDINGS[round_no]
    reply = exchanges(config["generator"], "responder")[round_no - 1]
    answered = [r.finding_id for r in ResponseOutput.model_validate_json(reply["text"]).responses]
    assert sorted(answered) == sorted(ids)


def test_swap_replies_answer_the_swapped_reviewer():
    """Swapped: reviewer 1's model generates and replies, the generator's model reviews
    (taking reviewer 1's place, so its findings are r1-a1, r1-a2 ...)."""
    config = demo_config()
    review = ReviewOutput.model_validate_json(exchanges(config["generator"], "reviewer", swap=True)[0]["text"])
    reply = exchanges(config["reviewers"][0], "responder", swap=True)[0]
    answered = {r.finding_id for r in ResponseOutput.model_validate_json(reply["text"]).responses}
    assert answered == {finding_id(1, 0, n) for n in range(1, len(review.findings) + 1)}
    assert exchanges(config["reviewers"][0], "generator", swap=True)


async def test_demo_session_plays_to_the_end_without_exhausting_a_cassette():
    config = demo_config()
    generator = ReplayProvider(cassette_path(config["generator"]))
    reviewers = [ReplayProvider(cassette_path(spec)) for spec in config["reviewers"]]
    for round_no in range(1, config["rounds"] + 1):
        proposal = await complete(generator, ModelRequest(role="generator", system="", round=round_no))
        assert "<<<<<<< SEARCH" in proposal.text and proposal.usage.output_tokens > 0
        for reviewer in reviewers:
            done = await complete(reviewer, ModelRequest(role="reviewer", system="", schema={}, round=round_no))
            ReviewOutput.model_validate(done.data)
        done = await complete(generator, ModelRequest(role="responder", system="", schema={}, round=round_no))
        ResponseOutput.model_validate(done.data)
    assert generator.remaining("generator") == generator.remaining("responder") == 0
    assert all(r.remaining("reviewer") == 0 for r in reviewers[1:])


def test_round_one_has_consensus_solo_dispute_and_severity_split():
    from counterpoint.core.alignment import align

    config = demo_config()
    findings = round_findings(1)
    stances = {
        r.finding_id: r.stance
        for r in ResponseOutput.model_validate_json(
            exchanges(config["generator"], "responder")[0]["text"]
        ).responses
    }
    clusters, _ = align(findings, config["reviewers"], 1)
    by_kind: dict[str, list] = {}
    for cluster in clusters:
        by_kind.setdefault(cluster.agreement, []).append(cluster)
    consensus = [c for c in by_kind["consensus"] if all(stances[f.id] == "agree" for f in c.findings)]
    assert consensus and len(consensus[0].reviewers) == 2
    disputed = [
        c for c in by_kind["solo"]
        if c.category == "security" and stances[c.findings[0].id] == "dispute"
    ]
    assert disputed
    split = by_kind["severity-split"]
    assert split and {stances[f.id] for f in split[0].findings} == {"partial"}
    assert list(stances.values()).count("agree") >= 3


# -- the scripted edits, applied ------------------------------------------------------------


def test_scripted_rounds_apply_and_keep_the_sample_green(tmp_path):
    config = demo_config()
    repo = copy_sample(tmp_path)
    files: dict[str, str] = read_tree(repo)
    proposals = exchanges(config["generator"], "generator")
    failures = []
    files_by_round = {}
    for round_no, proposal in enumerate(proposals, 1):
        blocks = edits.parse_edit_blocks(proposal["text"])
        outcome = apply_edit_blocks(dict(files), blocks)
        failures.append(len(outcome.failed))
        assert len(outcome.applied) == len(blocks) - len(outcome.failed)
        files.update({p: t for p, t in outcome.files.items() if t is not None})
        files_by_round[round_no] = dict(files)
    assert failures == [1, 0]

    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    result = run_sample_tests(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_concurrent_redelivery_is_processed_once" in files["tests/test_webhooks.py"]

    for round_no, round_files in files_by_round.items():
        for f in round_findings(round_no):
            assert f.path in round_files, f"{f.id}: {f.path} not in round {round_no}"
            length = len(round_files[f.path].splitlines())
            assert 1 <= f.start_line <= f.end_line <= length, f"{f.id}: lines outside {f.path}"


def test_swap_proposal_applies_to_the_original_and_its_review_points_inside(tmp_path):
    config = demo_config()
    files = read_tree(copy_sample(tmp_path))
    proposal = exchanges(config["reviewers"][0], "generator", swap=True)[0]
    outcome = apply_edit_blocks(dict(files), edits.parse_edit_blocks(proposal["text"]))
    assert outcome.applied and not outcome.failed
    files.update({p: t for p, t in outcome.files.items() if t is not None})
    review = ReviewOutput.model_validate_json(exchanges(config["generator"], "reviewer", swap=True)[0]["text"])
    for item in review.findings:
        assert 1 <= item.start_line <= item.end_line <= len(files[item.path].splitlines())
