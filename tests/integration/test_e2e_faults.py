"""Every provider fault through the headless CLI, with the real SDKs and the fake server.

For each fault: `counterpoint run --headless --json` exits 1 and prints a `step_failed` event
naming the model (provider:model) and the cause (kind); the journal keeps what was received
before the failure; no API key shows anywhere; and `counterpoint resume --last --headless
--json` against a now-healthy server completes the round.

The CLI runs in-process (`cli.main`) so the SDKs are imported once for the whole file; one
test runs the same path as real subprocesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from counterpoint import cli
from support.fake_models import (
    GENERATOR_TEXT,
    REVIEW_A,
    TASK,
    assert_no_key,
    cp,
    dead_url,
    events,
    fake_env,
    journal_files,
    model_of,
    script_round,
    session_args,
    write_config,
)

ANTHROPIC_GEN = ("anthropic:claude-opus-5-5", ["openai:gpt-5.5", "anthropic:claude-sonnet-5"])
OPENAI_GEN = ("openai:gpt-5.5", ["anthropic:claude-opus-5-5", "openai:gpt-5.5-mini"])


@dataclass
class Fault:
    session: tuple[str, list[str]]
    target: str
    """The model whose request fails."""
    step: str
    kind: str
    responses: list[dict[str, Any]] = field(default_factory=list)
    """What the server answers the target first (before the healthy round)."""
    words: tuple[str, ...] = ()
    """Words the error message must contain."""
    partial: str = "none"
    """"none": nothing received; "prefix": a non-empty prefix of the answer; "all"."""
    dead: str | None = None
    """An API whose base URL points at a closed port in the failing run."""
    retries: int = 0
    """max_retries for both providers."""


FAULTS = {
    "401-bad-key": Fault(ANTHROPIC_GEN, "anthropic:claude-opus-5-5", "generate", "auth",
                         [{"fault": "401"}], ("API key", "ANTHROPIC_API_KEY")),
    "429-retry-after": Fault(ANTHROPIC_GEN, "openai:gpt-5.5", "review", "rate-limit",
                             [{"fault": "429", "retry_after": 60}], ("429", "60 s", "not retrying"),
                             retries=1),
    "429-retried-then-gave-up": Fault(OPENAI_GEN, "anthropic:claude-opus-5-5", "review",
                                      "rate-limit", [{"fault": "429", "retry_after": 0.2}] * 2,
                                      ("429", "gave up after 2 attempts"), retries=1),
    "500": Fault(ANTHROPIC_GEN, "anthropic:claude-sonnet-5", "review", "server",
                 [{"fault": "500"}], ("500",)),
    "529-overloaded": Fault(ANTHROPIC_GEN, "anthropic:claude-opus-5-5", "generate", "overloaded",
                            [{"fault": "529"}], ("529",)),
    "connection-refused": Fault(OPENAI_GEN, "openai:gpt-5.5", "generate", "connection",
                                [], ("could not connect",), dead="openai"),
    "read-timeout": Fault(ANTHROPIC_GEN, "anthropic:claude-opus-5-5", "generate", "timeout",
                          [{"fault": "stall", "cut_after": 4, "stall": 20, "text": GENERATOR_TEXT}],
                          ("stalled", "1 s"), "prefix"),
    "stream-cut": Fault(OPENAI_GEN, "openai:gpt-5.5", "generate", "stream-cut",
                        [{"fault": "cut", "cut_after": 6, "text": GENERATOR_TEXT}],
                        ("broke",), "prefix"),
    "no-end-marker": Fault(OPENAI_GEN, "openai:gpt-5.5", "generate", "incomplete",
                           [{"fault": "no_end", "text": GENERATOR_TEXT}], ("finish_reason",), "all"),
    "error-event": Fault(ANTHROPIC_GEN, "anthropic:claude-opus-5-5", "generate", "stream-error",
                         [{"fault": "error_event", "cut_after": 5, "text": GENERATOR_TEXT,
                           "error_type": "api_error", "error_message": "Internal trouble"}],
                         ("Internal trouble",), "prefix"),
    "not-json": Fault(ANTHROPIC_GEN, "openai:gpt-5.5", "review", "bad-output",
                      [{"text": "Looks fine to me."}, {"text": "Still fine, really."}],
                      ("not valid JSON", "repair"), "all"),
    "breaks-schema": Fault(ANTHROPIC_GEN, "anthropic:claude-sonnet-5", "review", "bad-output",
                           [{"json": {"summary": "x", "verdict": "maybe", "findings": []}}] * 2,
                           ("schema", "verdict", "repair"), "all"),
    "refusal": Fault(OPENAI_GEN, "openai:gpt-5.5", "generate", "refusal",
                     [{"fault": "refusal", "refusal_text": "I can't help with that."}],
                     ("refused", "can't help")),
}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def use_env(monkeypatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_fails_the_step_keeps_the_journal_and_resumes(
    name, model_server, git_repo, tmp_path, monkeypatch, capsys, counterpoint_home  # noqa: F811
):
    fault = FAULTS[name]
    generator, reviewers = fault.session
    model_server.script(*fault.responses, model=model_of(fault.target))
    script_round(model_server, generator, reviewers)
    config = write_config(tmp_path / "cp.toml", timeout=1, max_retries=fault.retries,
                          max_retry_after=5)
    healthy = fake_env(model_server, config=config)
    failing = dict(healthy)
    if fault.dead:
        failing[f"{fault.dead.upper()}_BASE_URL"] = dead_url() + ("/v1" if fault.dead == "openai" else "")
    monkeypatch.chdir(git_repo)
    use_env(monkeypatch, failing)

    code, out, err = run_cli(capsys, "run", TASK, *session_args(generator, reviewers),
                             "--headless", "--json")
    assert code == 1, err
    evs = events(out)
    (failed,) = [e for e in evs if e["event"] == "step_failed"]
    assert (failed["step"], failed["model"], failed["kind"]) == (fault.step, fault.target, fault.kind)
    for word in fault.words:
        assert word in failed["message"], failed["message"]
    summary = evs[-1]
    assert summary["event"] == "summary" and summary["state"] == "failed"
    assert [(e["model"], e["kind"]) for e in summary["errors"]] == [(fault.target, fault.kind)]

    # The journal holds what arrived before the failure, as deltas and as the partial text.
    (journal,) = journal_files(counterpoint_home)
    logged = events(journal.read_text())
    (logged_failure,) = [e for e in logged if e["event"] == "step_failed"]
    streamed = "".join(e["text"] for e in logged
                       if e["event"] == "delta" and e["model"] == fault.target and e["step"] == fault.step)
    partial = logged_failure["partial_text"]
    if fault.partial == "none":
        assert partial == "" and streamed == ""
    else:
        assert partial and streamed.startswith(partial.rstrip()[:20])
        if fault.step == "generate":
            assert GENERATOR_TEXT.startswith(partial)
            assert (partial == GENERATOR_TEXT) == (fault.partial == "all")
        else:  # both the answer and the repaired answer were kept
            assert len(partial) > len(str(fault.responses[0].get("text", "")))
    assert_no_key(out, err, journal.read_text())

    # The server is healthy again: resume finishes the round.
    use_env(monkeypatch, healthy)
    code, out, err = run_cli(capsys, "resume", "--last", "--headless", "--json")
    assert code == 0, err
    summary = events(out)[-1]
    assert summary["errors"] == [] and summary["state"] == "done"
    assert sorted(c["agreement"] for c in summary["clusters"]) == ["consensus", "solo", "solo"]
    assert generator in summary["usage"] and all(r in summary["usage"] for r in reviewers)
    assert_no_key(out, err, journal.read_text())


def test_fault_and_resume_as_real_processes(model_server, git_repo, tmp_path,  # noqa: F811
                                            counterpoint_home):
    generator, reviewers = ANTHROPIC_GEN
    model_server.script({"fault": "cut", "cut_after": 3, "json": REVIEW_A},
                        model=model_of(reviewers[0]))
    script_round(model_server, generator, reviewers)
    env = fake_env(model_server, config=write_config(tmp_path / "cp.toml", timeout=2))
    proc = cp("run", TASK, *session_args(generator, reviewers), "--headless", "--json",
              cwd=git_repo, env=env)
    assert proc.returncode == 1, proc.stderr
    (failed,) = [e for e in events(proc.stdout) if e["event"] == "step_failed"]
    assert failed["model"] == reviewers[0] and failed["kind"] == "stream-cut"
    assert failed["partial_text"] and '"summary"' in failed["partial_text"]
    resumed = cp("resume", "--last", "--headless", "--json", cwd=tmp_path, env=env)
    assert resumed.returncode == 0, resumed.stderr
    summary = events(resumed.stdout)[-1]
    assert summary["errors"] == [] and len(summary["clusters"]) == 3
    journal = journal_files(counterpoint_home)[0].read_text()
    assert_no_key(proc.stdout, proc.stderr, resumed.stdout, resumed.stderr, journal)
