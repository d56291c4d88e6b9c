"""A whole session through the orchestrator: real git repo, replayed models, journal, resume."""

import asyncio
import json

import pytest

from counterpoint.core.journal import read_journal
from counterpoint.core.session import Session
from counterpoint.providers.replay import ReplayProvider
from counterpoint.workflow.launch import SessionError, journal_path, resume_session, start_session
from counterpoint.workspace import ApplyConflict, Workspace
from tests.support.cassettes import cassette, exchange, tiny_session


def replay(spec, speed=None):
    return ReplayProvider(spec.split(":", 1)[1], speed=speed)


def start(repo, gen, reviewers, **kw):
    return start_session(
        workspace=Workspace.open(repo), task="Validate the arguments of add and add mul.",
        generator=gen, reviewers=reviewers, make_provider=replay, **kw,
    )


def test_round_one_proposal_reviews_stances_and_clusters(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs)
    assert asyncio.run(orch.run_round())
    r = orch.session.current
    # one edit applied in memory, one failed with a reason; nothing written to the tree
    assert r.proposal.edits == 2
    assert [f.path for f in r.proposal.failed_edits] == ["app.py"]
    assert "not found" in r.proposal.failed_edits[0].reason.lower()
    assert "def mul" in r.proposal.files["app.py"]
    assert "mul" not in (git_repo / "app.py").read_text()
    # reviewers ran, stances landed on findings, clusters aligned and sorted contested first
    assert set(r.reviews) == {"anthropic:claude-opus-5-5", "ollama:qwen3-coder"}
    by_agreement = {c.agreement for c in r.clusters}
    assert "consensus" in by_agreement and "solo" in by_agreement
    consensus = next(c for c in r.clusters if c.agreement == "consensus")
    assert {f.id for f in consensus.findings} == {"r1-a1", "r1-b1"}
    assert consensus.stance == "agree" and not consensus.contested
    disputed = next(c for c in r.clusters if any(f.id == "r1-b2" for f in c.findings))
    assert disputed.stance == "dispute" and disputed.contested
    assert r.clusters[0].contested
    # usage per model, with cost from the price table
    assert set(orch.session.usage) == {"openai:gpt-5.5", "anthropic:claude-opus-5-5", "ollama:qwen3-coder"}
    assert orch.session.usage["openai:gpt-5.5"].cost_usd > 0
    orch.close()


def test_revise_builds_on_round_one_and_apply_undo(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs, rounds=2)
    assert asyncio.run(orch.run_round())
    consensus = next(c for c in orch.session.current.clusters if c.agreement == "consensus")
    orch.set_verdict(consensus.id, "accepted", note="floats matter")
    assert asyncio.run(orch.revise())
    r2 = orch.session.current
    assert r2.number == 2 and r2.builds_on == 1
    assert "floats matter" in r2.instructions and "- r1-a1, r1-b1\n" in r2.instructions
    text = r2.proposal.files["app.py"]
    assert "(int, float)" in text and "def mul" in text and not r2.proposal.failed_edits
    since = r2.changeset.since(orch.session.round(1).changeset)
    assert [f.path for f in since.files] == ["app.py"]
    # apply writes round 2's cumulative change; undo restores the original bytes
    before = (git_repo / "app.py").read_bytes()
    applied = orch.apply()
    assert (git_repo / "app.py").read_text() == text
    assert applied.files == ["app.py"]
    orch.undo()
    assert (git_repo / "app.py").read_bytes() == before
    orch.close()


def test_a_revision_does_not_repeat_what_the_generator_has_in_its_conversation(git_repo, tmp_path):
    from counterpoint.core import prompts

    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs, rounds=2)
    assert asyncio.run(orch.run_round())
    r1 = orch.session.current
    consensus = next(c for c in r1.clusters if c.agreement == "consensus")
    orch.set_verdict(consensus.id, "accepted")
    assert asyncio.run(orch.revise())
    r2 = orch.session.current
    respond = orch.conversation.respond(r2).messages
    users = [m.content for m in respond if m.role == "user"]
    assert [m.content for m in respond].index(r2.instructions) == 4  # after round 1's answer
    # the accepted findings by their ids: the respond prompt above lists them whole
    assert users[1].startswith(prompts.RESPONDER_NOTE)
    assert all(f"- id {f.id} " in users[1] and f.rationale in users[1] for f in consensus.findings)
    assert "- r1-a1, r1-b1\n" in r2.instructions
    assert not any(f.rationale in r2.instructions for f in consensus.findings)
    # the failed block by its SEARCH text; its REPLACE is in the proposal above
    failed = r1.proposal.failed_edits[0]
    assert f"### Edit block {failed.index + 1} did not apply to app.py" in r2.instructions
    assert failed.search in r2.instructions and failed.replace not in r2.instructions
    assert failed.replace in respond[1].content
    # the second respond prompt: the instructions are in the first one
    assert users[-1].startswith(prompts.RESPONDER_NOTE_AGAIN) and prompts.RESPONDER_NOTE not in users[-1]
    assert "- id r2-a1 (" in users[-1]
    orch.close()


def test_apply_refuses_a_file_changed_since_the_proposal(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs)
    assert asyncio.run(orch.run_round())
    (git_repo / "app.py").write_text("# the user's own edit\n")
    with pytest.raises(ApplyConflict) as err:
        orch.apply()
    assert "app.py" in err.value.conflicts
    assert (git_repo / "app.py").read_text() == "# the user's own edit\n"
    orch.close()


def test_journal_resume_rebuilds_the_exact_state(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs, rounds=2)
    assert asyncio.run(orch.run_round())
    first = orch.session.current.clusters[0]
    orch.set_verdict(first.id, "rejected", note="not a real problem")
    summary = orch.session.summary()
    sid = orch.session.id
    orch.close()

    again = resume_session(sid, make_provider=replay)
    resumed, problems = again.orchestrator, again.problems
    assert problems == []
    assert resumed.session.summary() == summary
    # the replayed models continue where they were: round 2 plays the second exchanges
    assert asyncio.run(resumed.revise())
    assert resumed.session.current.number == 2
    assert "(int, float)" in resumed.session.current.proposal.files["app.py"]
    resumed.close()


def test_torn_last_line_is_reported_and_skipped(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs)
    assert asyncio.run(orch.run_round())
    summary = orch.session.summary()
    sid = orch.session.id
    orch.close()
    path = journal_path(sid)
    with open(path, "ab") as f:  # a crash in the middle of writing an event
        f.write(b'{"event":"verdict_set","round":1,"clus')
    contents = read_journal(path)
    assert len(contents.problems) == 1 and "torn last line" in contents.problems[0]
    assert Session.from_events(contents.events).summary() == summary
    back = resume_session(sid, make_provider=replay)
    resumed, problems = back.orchestrator, back.problems
    assert len(problems) == 1
    resumed.set_verdict(resumed.session.current.clusters[0].id, "accepted")
    resumed.close()
    again = read_journal(path)
    assert again.problems == []  # the torn bytes were set aside, the journal is whole again
    assert path.with_suffix(".jsonl.torn").read_bytes().startswith(b'{"event":"verdict_set"')


def test_provider_error_is_journaled_and_retryable(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    flaky = cassette(tmp_path / "flaky.json", "anthropic:claude-opus-5-5", [
        exchange("reviewer", text='{"summary": "half', error={
            "kind": "stream-cut", "message": "connection reset mid-stream", "after_chunks": 2}),
        *json.loads((tmp_path / "rev-a.json").read_text())["exchanges"],
    ])
    orch = start(git_repo, gen, [flaky, revs[1]])
    assert not asyncio.run(orch.run_round())
    r = orch.session.current
    failure = r.errors[("review", "anthropic:claude-opus-5-5")]
    assert failure.kind == "stream-cut" and failure.partial_text
    assert "ollama:qwen3-coder" in r.reviews  # the other reviewer's work is kept
    sid = orch.session.id
    orch.close()
    events = [json.loads(line) for line in journal_path(sid).read_text().splitlines()]
    assert any(e["event"] == "step_failed" and e["partial_text"] for e in events)
    resumed = resume_session(sid, make_provider=replay).orchestrator
    assert asyncio.run(resumed.run_round())
    assert not resumed.session.current.errors
    assert resumed.session.current.aligned
    resumed.close()


def test_malformed_and_misplaced_findings_are_kept_or_reported(git_repo, tmp_path):
    gen, _ = tiny_session(tmp_path)
    bad = cassette(tmp_path / "bad.json", "anthropic:claude-opus-5-5", [exchange("reviewer", data={
        "summary": "s", "verdict": "needs-changes", "findings": [
            {"path": "nope.py", "start_line": 1, "end_line": 2, "severity": "high",
             "category": "correctness", "title": "Unknown file", "rationale": "r",
             "suggestion": None, "confidence": 0.9},
            {"path": "app.py", "start_line": 90, "end_line": 95, "severity": "low",
             "category": "docs", "title": "Out of range", "rationale": "r",
             "suggestion": None, "confidence": 2.0},
            {"path": "app.py", "severity": "apocalyptic", "title": "Broken"},
        ]})])
    orch = start(git_repo, gen, [bad])
    asyncio.run(orch.run_round())
    review = orch.session.current.reviews["anthropic:claude-opus-5-5"]
    problems = {f.title: f.location_problem for f in review.findings}
    assert "not in the proposal" in problems["Unknown file"]
    assert "outside app.py" in problems["Out of range"]
    assert len(review.dropped) == 1 and "finding 3" in review.dropped[0]
    orch.close()


def test_unsafe_edit_paths_fail_as_edits(git_repo, tmp_path):
    text = "Escape.\n\n../outside.py\n```python\n<<<<<<< SEARCH\n=======\nx = 1\n>>>>>>> REPLACE\n```\n"
    gen = cassette(tmp_path / "g.json", "openai:gpt-5.5", [exchange("generator", text)])
    rev = cassette(tmp_path / "r.json", "anthropic:claude-opus-5-5", [exchange("reviewer", data={
        "summary": "", "verdict": "approve", "findings": []})])
    orch = start(git_repo, gen, [rev])
    assert asyncio.run(orch.run_round())
    failed = orch.session.current.proposal.failed_edits
    assert len(failed) == 1 and ".." in failed[0].reason
    assert not (git_repo.parent / "outside.py").exists()
    orch.close()


def test_session_needs_a_task_and_a_reviewer(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    with pytest.raises(SessionError, match="task is empty"):
        start_session(workspace=Workspace.open(git_repo), task=" ", generator=gen,
                      reviewers=revs, make_provider=replay)
    with pytest.raises(SessionError, match="reviewer"):
        start_session(workspace=Workspace.open(git_repo), task="x", generator=gen,
                      reviewers=[], make_provider=replay)


def test_listeners_see_the_session_from_its_first_event(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    seen = []
    orch = start(git_repo, gen, revs, listeners=[seen.append])
    assert [e.event for e in seen] == ["session_started", "round_started"]
    orch.close()


def test_run_round_runs_each_step_through_the_step_runner(git_repo, tmp_path):
    """The steps go through the runner in the round's order, the reviews at the same time."""
    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs)
    log = []

    async def runner(step):
        log.append(("start", step.pane))
        ok = await step.run()
        log.append(("end", step.pane))
        return ok

    assert asyncio.run(orch.run_round(runner))
    reviewers = {f"reviewer:{spec}" for spec in orch.session.current.reviewers}
    assert log[:2] == [("start", "generator"), ("end", "generator")]
    assert {pane for _, pane in log[2:4]} == reviewers and {kind for kind, _ in log[2:4]} == {"start"}
    assert {pane for _, pane in log[4:6]} == reviewers
    assert log[6:] == [("start", "generator"), ("end", "generator")]
    assert orch.session.current.aligned
    orch.close()


def test_a_failed_step_stops_the_round_and_run_round_finishes_it(git_repo, tmp_path):
    gen, revs = tiny_session(tmp_path)
    orch = start(git_repo, gen, revs)
    ran = []

    async def refuse_reviews(step):
        ran.append(step.pane)
        return False if step.pane.startswith("reviewer:") else await step.run()

    assert not asyncio.run(orch.run_round(refuse_reviews))
    assert ran[0] == "generator" and "generator" not in ran[1:]  # respond never started
    assert asyncio.run(orch.run_round())
    assert orch.session.current.aligned and orch.session.current.proposal.edits == 2
    orch.close()
