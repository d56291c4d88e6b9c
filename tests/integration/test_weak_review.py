"""The reviewer quality gate through the real SDKs and the fake server: an empty first
review is asked once more with the firmer instruction (which names the proposal's file);
(a) a good second answer is the review, (b) a second lazy one is kept, marked weak in the
review_ready event, the headless summary and `counterpoint stats`. The retry is journaled:
a resumed session replays it from a recorded cassette."""

from __future__ import annotations

import json

from counterpoint import cli
from support.fake_models import (
    GENERATOR_TEXT,
    RESPONSES,
    REVIEW_A,
    TASK,
    events,
    fake_env,
    write_config,
)

GENERATOR, REVIEWER = "anthropic:claude-opus-5-5", "openai:gpt-5.5"
EMPTY = {"summary": "", "verdict": "approve", "findings": []}
LAZY = {"summary": "LGTM.", "verdict": "approve", "findings": []}


def run(model_server, git_repo, tmp_path, monkeypatch, capsys, second, *extra: str):
    model_server.script({"text": GENERATOR_TEXT}, model="claude-opus-5-5")
    model_server.script({"json": EMPTY}, {"json": second}, model="gpt-5.5")
    model_server.script({"json": RESPONSES}, model="claude-opus-5-5")
    for name, value in fake_env(model_server, config=write_config(tmp_path / "cp.toml")).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(git_repo)
    code = cli.main(["run", TASK, "--generator", GENERATOR, "--reviewer", REVIEWER,
                     "--headless", "--json", *extra])
    return code, events(capsys.readouterr().out)


def reviewer_requests(model_server):
    return [r for r in model_server.requests if r.model == "gpt-5.5"]


def last_user_text(body) -> str:
    content = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    return content if isinstance(content, str) else json.dumps(content)


def test_an_empty_review_is_retried_with_the_firmer_instruction_and_the_good_answer_kept(
        model_server, git_repo, tmp_path, monkeypatch, capsys):
    code, evs = run(model_server, git_repo, tmp_path, monkeypatch, capsys, REVIEW_A)
    assert code == 0
    first, retry = reviewer_requests(model_server)
    assert "Your review above cannot be used" not in json.dumps(first.body)
    firmer = last_user_text(retry.body)
    assert "Your review above cannot be used: empty: no findings and no summary" in firmer
    assert "- app.py" in firmer and "For every file listed" in firmer
    # the retry extends the first request: its messages, the weak answer, the instruction
    assert retry.body["messages"][: len(first.body["messages"])] == first.body["messages"]
    assert [e["event"] for e in evs].count("review_retried") == 1
    (review,) = [e for e in evs if e["event"] == "review_ready"]
    assert review["retried"] and not review["weak"] and review["weak_reason"] is None
    assert len(review["findings"]) == 2
    summary = evs[-1]
    assert summary["weak_reviews"] == [] and summary["errors"] == []
    assert len(summary["clusters"]) == 2


def test_a_second_lazy_review_is_kept_marked_weak_in_json_and_stats(
        model_server, git_repo, tmp_path, monkeypatch, capsys):
    code, evs = run(model_server, git_repo, tmp_path, monkeypatch, capsys, LAZY)
    assert code == 0
    assert len(reviewer_requests(model_server)) == 2  # exactly one retry
    (retried,) = [e for e in evs if e["event"] == "review_retried"]
    assert retried["reason"].startswith("empty")
    (review,) = [e for e in evs if e["event"] == "review_ready"]
    assert review["retried"] and review["weak"] and review["summary"] == "LGTM."
    assert review["weak_reason"] == "no findings, and the summary names no file of the proposal"
    summary = evs[-1]
    assert summary["weak_reviews"] == [{"round": 1, "reviewer": REVIEWER,
                                        "reason": review["weak_reason"]}]

    assert cli.main(["stats", "--json"]) == 0
    board = json.loads(capsys.readouterr().out)
    assert board["reviews"] == [{"model": REVIEWER, "reviews": 1, "retried": 1, "weak": 1,
                                 "weak_share": 1.0}]
    assert cli.main(["stats"]) == 0
    text = capsys.readouterr().out
    assert "Reviews: weak" in text and "100%" in text.split("Reviews: weak")[1]


def test_the_retry_replays_from_the_recording_and_a_resume_goes_on_with_it(
        model_server, git_repo, tmp_path, monkeypatch, capsys):
    """Recorded, the two reviewer exchanges replay in order, with no server. A session cut
    off after the weak first answer resumes with the firmer retry (what the server gets),
    not with a second first attempt; a replayed one resumes with the cassette's retry."""
    rec = tmp_path / "rec"
    code, evs = run(model_server, git_repo, tmp_path, monkeypatch, capsys, LAZY,
                    "--record", str(rec))
    assert code == 0
    live_id = evs[0]["session_id"]
    recording = json.loads((rec / "session.json").read_text())
    gen, (rev,) = recording["generator"], recording["reviewers"]
    reviewer_cassette = json.loads((rec / "openai-gpt-5.5.json").read_text())
    assert [x["role"] for x in reviewer_cassette["exchanges"]] == ["reviewer", "reviewer"]

    model_server.clear()
    assert cli.main(["run", TASK, "--generator", gen, "--reviewer", rev, "--headless", "--json"]) == 0
    replayed = events(capsys.readouterr().out)
    assert not model_server.requests
    assert [e["event"] for e in replayed].count("review_retried") == 1
    (review,) = [e for e in replayed if e["event"] == "review_ready"]
    assert review["weak"] and review["summary"] == "LGTM."

    for session_id, live in ((live_id, True), (replayed[0]["session_id"], False)):
        cut_after_the_retry_decision(session_id)
        model_server.clear()
        model_server.script({"json": LAZY}, model="gpt-5.5")
        assert cli.main(["resume", session_id, "--headless", "--json"]) == 0
        resumed = events(capsys.readouterr().out)
        assert [e["event"] for e in resumed].count("review_retried") == 1  # the history's own
        (review,) = [e for e in resumed if e["event"] == "review_ready"]
        assert review["retried"] and review["weak"] and review["summary"] == "LGTM."
        assert resumed[-1]["errors"] == []
        if live:
            (request,) = reviewer_requests(model_server)
            assert "Your review above cannot be used: empty" in last_user_text(request.body)
        else:
            assert not model_server.requests


def cut_after_the_retry_decision(session_id: str) -> None:
    """The journal as a crash right after the `review_retried` event would leave it."""
    from counterpoint.workflow.launch import journal_path

    path = journal_path(session_id)
    lines = path.read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if '"review_retried"' in line)
    path.write_text("\n".join(lines[: cut + 1]) + "\n")
