"""`counterpoint run --headless --json` as a subprocess, through the real anthropic and openai
SDKs against the loopback fake server: findings, clusters, stances, usage and cost."""

from __future__ import annotations

import pytest

from support.fake_models import (
    GENERATOR_TEXT,
    PROPOSED_APP,
    TASK,
    assert_no_key,
    cp,
    events,
    fake_env,
    journal_files,
    normal_usage,
    script_round,
    session_args,
    write_config,
)

# USD per million tokens, from the shipped price table (core/pricing.py):
# (plain input, output, cached input, cache write)
PRICES = {
    "anthropic:claude-opus-5-5": (5.0, 25.0, 0.5, 6.25),
    "anthropic:claude-sonnet-5": (3.0, 15.0, 0.3, 3.75),
    "openai:gpt-5.5": (1.25, 10.0, 0.125, 1.25),
    "openai:gpt-5.5-mini": (0.25, 2.0, 0.025, 0.25),
}

SESSIONS = {
    "anthropic-generates": ("anthropic:claude-opus-5-5", ["openai:gpt-5.5", "anthropic:claude-sonnet-5"]),
    "openai-generates": ("openai:gpt-5.5", ["anthropic:claude-opus-5-5", "openai:gpt-5.5-mini"]),
}


def expected_cost(spec: str, u: dict[str, int]) -> float:
    plain_price, out_price, cached_price, write_price = PRICES[spec]
    plain = u["input_tokens"] - u["cached_input_tokens"] - u["cache_write_tokens"]
    return (plain * plain_price + u["cached_input_tokens"] * cached_price
            + u["cache_write_tokens"] * write_price + u["output_tokens"] * out_price) / 1e6


@pytest.mark.parametrize("name", list(SESSIONS))
def test_headless_run_through_both_sdks(name, model_server, git_repo, tmp_path,  # noqa: F811
                                        counterpoint_home):
    generator, reviewers = SESSIONS[name]
    script_round(model_server, generator, reviewers)
    env = fake_env(model_server, config=write_config(tmp_path / "cp.toml"))
    proc = cp("run", TASK, *session_args(generator, reviewers), "--headless", "--json",
              cwd=git_repo, env=env)
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    summary = evs[-1]
    assert summary["event"] == "summary" and summary["errors"] == []
    # Each session has one reviewer of the generator's family: warned on stderr and in the summary.
    (same,) = [r for r in reviewers if r.split(":")[0] == generator.split(":")[0]]
    (warning,) = summary["warnings"]
    assert same in warning and generator in warning
    assert f"counterpoint: warning: {warning}" in proc.stderr

    # The generator's edit applied to the proposal (not to the tree: no --apply).
    (proposal,) = [e for e in evs if e["event"] == "proposal_ready"]
    assert proposal["files"] == {"app.py": PROPOSED_APP} and proposal["failed_edits"] == []
    assert proposal["text"] == GENERATOR_TEXT
    assert (git_repo / "app.py").read_text() == "def add(a, b):\n    return a + b\n"

    # Findings from both reviewers with their ids; one consensus and two solo clusters.
    reviews = {e["reviewer"]: e for e in evs if e["event"] == "review_ready"}
    assert set(reviews) == set(reviewers)
    ids = {f["id"] for r in reviews.values() for f in r["findings"]}
    assert ids == {"r1-a1", "r1-a2", "r1-b1", "r1-b2"}
    clusters = summary["clusters"]
    by_agreement = sorted(c["agreement"] for c in clusters)
    assert by_agreement == ["consensus", "solo", "solo"]
    consensus = next(c for c in clusters if c["agreement"] == "consensus")
    assert {f["id"] for f in consensus["findings"]} == {"r1-a1", "r1-b1"}
    assert {f["reviewer"] for f in consensus["findings"]} == set(reviewers)
    assert consensus["stance"] == "agree" and consensus["severity"] == "high"
    stances = {c["findings"][0]["id"]: c["stance"] for c in clusters if len(c["findings"]) == 1}
    assert stances == {"r1-a2": "partial", "r1-b2": "dispute"}
    disputed = next(c for c in clusters if c["stance"] == "dispute")
    assert disputed["contested"] is True

    # Usage as the provider reported it, per model and per round, and cost from the price table.
    usage = summary["usage"]
    assert set(usage) == {generator, *reviewers}
    for spec in (generator, *reviewers):
        calls = 2 if spec == generator else 1  # the generator also answers the findings
        want = normal_usage(spec)
        got = usage[spec]
        assert got["input_tokens"] == calls * want["input_tokens"]
        assert got["output_tokens"] == calls * want["output_tokens"]
        assert got["cached_input_tokens"] == calls * want["cached_input_tokens"]
        assert got["cost_usd"] == pytest.approx(calls * expected_cost(spec, want), abs=1e-6)
    per_round = [e for e in evs if e["event"] == "usage"]
    assert {(e["round"], e["step"], e["model"]) for e in per_round} == {
        (1, "generate", generator), (1, "respond", generator),
        *((1, "review", spec) for spec in reviewers)}

    # The requests went out through the right SDKs, with the keys, and nothing leaked.
    apis = {r.api for r in model_server.requests}
    assert apis == {"anthropic", "openai"}
    for request in model_server.requests:
        assert request.body["stream"] is True
    journal = journal_files(counterpoint_home)[0].read_text()
    exports = [cp("export", summary["session_id"], "--format", fmt, cwd=git_repo).stdout
               for fmt in ("markdown", "json", "sarif")]
    assert all(exports)
    assert_no_key(proc.stdout, proc.stderr, journal, *exports)


def test_human_summary_shows_usage_totals(model_server, git_repo, tmp_path):  # noqa: F811
    generator, reviewers = SESSIONS["anthropic-generates"]
    script_round(model_server, generator, reviewers)
    env = fake_env(model_server, config=write_config(tmp_path / "cp.toml"))
    proc = cp("run", TASK, *session_args(generator, reviewers), "--headless", cwd=git_repo, env=env)
    assert proc.returncode == 0, proc.stderr
    total = sum(
        (2 if spec == generator else 1) * expected_cost(spec, normal_usage(spec))
        for spec in (generator, *reviewers)
    )
    assert f"total" in proc.stdout and f"${total:.4f}" in proc.stdout
    assert "consensus" in proc.stdout and "gen: dispute" in proc.stdout
    assert_no_key(proc.stdout, proc.stderr)
