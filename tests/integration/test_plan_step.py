"""The plan step headless: `run --planner SPEC --plan-only` prints the plan and stops,
`run --plan FILE` follows the human's own plan without asking a planner, and a resumed
session follows the plan its journal holds. Real SDKs against the loopback fake server."""

from __future__ import annotations

import json

import pytest

from counterpoint import cli
from support.fake_models import (
    TASK,
    events,
    fake_env,
    journal_events,
    model_of,
    script_generate,
    script_respond,
    script_reviews,
    session_args,
    write_config,
)

GENERATOR = "anthropic:claude-opus-5-5"
REVIEWERS = ["openai:gpt-5.5"]
PLANNER = "anthropic:claude-sonnet-5"
PLAN = "1. Check both arguments of add are numbers.\n2. Add mul next to add.\x1b]52;c;aGk=\x07\n"
"""The planner's plan, with a hostile terminal sequence (OSC 52 sets the clipboard)."""
SHOWN_PLAN = "1. Check both arguments of add are numbers.\n2. Add mul next to add.\\x1b]52;c;aGk=\\x07\n"
MY_PLAN = "1. Only touch app.py.\n2. Keep add's signature; raise TypeError on strings.\n"


@pytest.fixture
def env(model_server, git_repo, tmp_path, monkeypatch):
    config = write_config(tmp_path / "cp.toml")
    for name, value in fake_env(model_server, config=config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(git_repo)
    return model_server


def run(*args: str) -> int:
    return cli.main(["run", TASK, *session_args(GENERATOR, REVIEWERS), *args])


def sent_to(server, spec: str) -> list[str]:
    return [json.dumps(r.body) for r in server.requests if r.model == model_of(spec)]


def test_plan_only_prints_the_plan_journals_it_and_asks_no_generator(env, capsys, counterpoint_home):
    env.script({"text": PLAN}, model=model_of(PLANNER))
    code = run("--planner", PLANNER, "--plan-only")
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out == SHOWN_PLAN  # the plan alone on stdout, its control characters visible
    assert "\x1b" not in out.out + out.err
    assert "counterpoint resume" in out.err and "--plan FILE" in out.err
    assert [r.model for r in env.requests] == [model_of(PLANNER)]  # no generator, no reviewer
    journal = journal_events(counterpoint_home)
    assert [e["text"] for e in journal if e["event"] == "plan_ready"] == [PLAN]
    assert not any(e["event"] == "plan_approved" for e in journal)
    assert journal[-1] == {**journal[-1], "event": "session_finished", "state": "planned"}


def test_plan_only_json_ends_with_plan_ready_and_the_summary(env, capsys):
    env.script({"text": PLAN}, model=model_of(PLANNER))
    code = run("--planner", PLANNER, "--plan-only", "--json")
    out = capsys.readouterr()
    assert code == 0, out.err
    evs = events(out.out)
    ready = [e for e in evs if e["event"] == "plan_ready"]
    assert len(ready) == 1 and ready[0]["text"] == PLAN and ready[0]["model"] == PLANNER
    summary = evs[-1]
    assert summary["event"] == "summary" and summary["state"] == "planned"
    assert summary["plan"] == {"text": PLAN, "approved": False, "source": "planner"}
    assert "\x1b" not in out.out  # JSON escapes it


def test_resume_after_plan_only_follows_that_plan_without_asking_the_planner_again(env, capsys):
    env.script({"text": PLAN}, model=model_of(PLANNER))
    assert run("--planner", PLANNER, "--plan-only") == 0
    capsys.readouterr()
    script_generate(env, GENERATOR)
    script_reviews(env, REVIEWERS)
    script_respond(env, GENERATOR)
    code = cli.main(["resume", "--last", "--headless", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert len(sent_to(env, PLANNER)) == 1
    generate = sent_to(env, GENERATOR)[0]
    assert "# Plan to follow" in generate and "Check both arguments of add are numbers." in generate
    approved = [e for e in events(out.out) if e["event"] == "plan_approved"]
    assert len(approved) == 1 and approved[0]["source"] == "planner"


def test_plan_file_is_followed_and_the_planner_is_never_asked(env, capsys, tmp_path, counterpoint_home):
    plan_file = tmp_path / "plan.md"
    plan_file.write_text(MY_PLAN)
    script_generate(env, GENERATOR)
    env.script({"fault": "500"}, model=model_of(REVIEWERS[0]))  # the review fails: resume later
    code = run("--planner", PLANNER, "--plan", str(plan_file), "--headless", "--json")
    out = capsys.readouterr()
    assert code == 1, out.err
    assert sent_to(env, PLANNER) == []
    (generate,) = sent_to(env, GENERATOR)
    assert "# Plan to follow" in generate and "raise TypeError on strings." in generate
    journal = journal_events(counterpoint_home)
    (approved,) = [e for e in journal if e["event"] == "plan_approved"]
    assert approved["text"] == MY_PLAN and approved["source"] == "file"
    # resumed, the review that failed is asked again, and its request carries the same plan
    plan_file.write_text("something else entirely")  # the journal holds the plan, not the file
    script_reviews(env, REVIEWERS)
    script_respond(env, GENERATOR)
    code = cli.main(["resume", "--last", "--headless", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    review = sent_to(env, REVIEWERS[0])[-1]
    assert "raise TypeError on strings." in review and "something else" not in review
    assert sent_to(env, PLANNER) == []
    assert events(out.out)[-1]["plan"] == {"text": MY_PLAN, "approved": True, "source": "file"}


@pytest.mark.parametrize("extra, message", [
    (["--planner", PLANNER, "--plan-only", "--plan", "PLAN"], "use one of them"),
    (["--plan-only"], "--plan-only needs a planner"),
    (["--planner", PLANNER, "--plan-only", "--apply"], "nothing to --apply"),
    (["--plan", "missing.md"], "--plan missing.md: cannot read it"),
    (["--plan", "EMPTY"], "the file is empty"),
    (["--plan", "BINARY"], "not UTF-8 text"),
])
def test_plan_flags_misused_exit_2_saying_why(env, capsys, tmp_path, extra, message):
    extra = list(extra)
    files = {"PLAN": MY_PLAN, "EMPTY": " \n\n", "BINARY": b"\xff\xfe\x00plan"}
    for i, arg in enumerate(extra):
        if arg in files:
            path = tmp_path / arg.lower()
            data = files[arg]
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
            extra[i] = str(path)
            message = message.replace(arg, str(path))
    code = run(*extra, "--headless")
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert env.requests == []
