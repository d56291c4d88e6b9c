"""The command line as a user runs it: a subprocess in a real git repository."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cassettes import tiny_session


def cp(*args, cwd, env=None, check=False):
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "counterpoint", *args], cwd=cwd,
                          capture_output=True, text=True, env=full_env, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(proc.stderr)
    return proc


def events(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def session_args(tmp_path):
    gen, (a, b) = tiny_session(tmp_path)
    return ["--generator", gen, "--reviewer", a, "--reviewer", b]


def test_version_and_help(tmp_path):
    out = cp("--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("counterpoint ")


def test_run_headless_json_two_rounds_apply_commit_and_undo(git_repo, session_args):
    proc = cp("run", "Validate add", *session_args, "--rounds", "2", "--accept", "consensus",
              "--apply", "--commit", "--headless", "--json", cwd=git_repo)
    assert proc.returncode == 0, proc.stderr
    evs = events(proc.stdout)
    assert evs[0]["event"] == "session_started" and evs[-1]["event"] == "summary"
    names = {e["event"] for e in evs}
    assert {"round_started", "delta", "proposal_ready", "review_ready", "clusters_ready",
            "verdict_set", "applied"} <= names
    summary = evs[-1]
    assert summary["rounds"] == 2 and summary["applied"]["files"] == ["app.py"]
    assert set(summary["usage"]) == {"openai:gpt-5.5", "anthropic:claude-opus-5-5", "ollama:qwen3-coder"}
    log = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=git_repo, capture_output=True,
                         text=True).stdout
    assert "Generated-by: openai:gpt-5.5" in log and "Reviewed-by: ollama:qwen3-coder" in log
    assert f"Counterpoint-Session: {summary['session_id']}" in log
    assert "(int, float)" in (git_repo / "app.py").read_text()
    # the session is listed, exports in three formats, and undo restores the file
    listed = cp("sessions", cwd=git_repo, check=True).stdout
    assert summary["session_id"] in listed
    for fmt in ("markdown", "json", "sarif"):
        assert cp("export", summary["session_id"], "--format", fmt, cwd=git_repo, check=True).stdout
    undone = cp("undo", cwd=git_repo)
    assert undone.returncode == 0, undone.stderr
    assert (git_repo / "app.py").read_text() == "def add(a, b):\n    return a + b\n"
    stats = json.loads(cp("stats", "--json", cwd=git_repo, check=True).stdout)
    claude = next(r for r in stats["models"] if r["model"] == "anthropic:claude-opus-5-5")
    assert claude["raised"] >= 1


def test_failed_step_exits_1_and_resume_finishes_it(git_repo, tmp_path, session_args):
    from tests.support.cassettes import cassette, exchange

    original = json.loads((tmp_path / "rev-b.json").read_text())["exchanges"]
    flaky = cassette(tmp_path / "flaky.json", "ollama:qwen3-coder", [
        exchange("reviewer", text="{", error={"kind": "server", "message": "500 from server"}),
        *original,
    ])
    args = session_args[:4] + ["--reviewer", flaky]
    proc = cp("run", "Validate add", *args, "--headless", cwd=git_repo)
    assert proc.returncode == 1
    assert "review · ollama:qwen3-coder failed (server)" in proc.stderr
    resumed = cp("resume", "--last", "--headless", "--json", cwd=git_repo)
    evs = events(resumed.stdout)
    assert evs[0]["event"] == "session_started"  # the whole journal, then what resume added
    summary = evs[-1]
    assert summary["errors"] == [] and summary["clusters"]
    # exit 1 still: the final round's proposal has an edit that did not apply
    assert resumed.returncode == 1 and summary["failed_edits"], resumed.stderr


@pytest.mark.parametrize("args, message", [
    (["run", "x", "--generator", "nope", "--reviewer", "openai:gpt-5.5", "--headless"], "nope"),
    (["run", "x", "--generator", "anthropic:claude-opus-5-5", "--reviewer", "openai:gpt-5.5",
      "--headless"], "ANTHROPIC_API_KEY"),
    (["export", "no-such-session"], "no session"),
    (["resume", "no-such-session", "--headless"], "no session journal"),
])
def test_bad_input_exits_2_with_a_clear_message(git_repo, args, message):
    proc = cp(*args, cwd=git_repo)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr


def test_not_a_git_repository_exits_2(tmp_path, session_args):
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = cp("run", "x", *session_args, "--headless", cwd=plain)
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr and str(plain) in proc.stderr


def test_bad_config_file_exits_2_naming_file_and_key(git_repo, session_args, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[roles]\nreviewers = 3\n')
    proc = cp("run", "x", *session_args, "--headless", cwd=git_repo,
              env={"COUNTERPOINT_CONFIG": str(bad)})
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "roles.reviewers" in proc.stderr


def test_resume_hands_the_tui_the_session_it_resumed(git_repo, session_args, monkeypatch):
    """`counterpoint resume` resumes once and gives that session to the TUI (no second resume)."""
    from counterpoint import cli
    from counterpoint.tui import app as app_module
    from counterpoint.workflow import launch

    cp("run", "Validate add", *session_args, "--headless", cwd=git_repo)  # 1: a failed edit
    resumes, given = [], {}
    real = launch.resume_session

    def counted(*args, **kwargs):
        resumes.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(launch, "resume_session", counted)
    monkeypatch.setattr(app_module, "run_app", lambda start, **kwargs: given.update(start=start) or 0)
    monkeypatch.chdir(git_repo)
    assert cli.main(["resume", "--last"]) == 0
    assert len(resumes) == 1
    assert given["start"].resumed.orchestrator.session.task == "Validate add"
    given["start"].resumed.orchestrator.close()


def test_a_package_of_the_repository_does_not_shadow_one_counterpoint_uses(git_repo):
    # `python -m counterpoint` in the repository of pydantic, rich or textual itself
    for name in ("pydantic", "rich"):
        (git_repo / name).mkdir()
        (git_repo / name / "__init__.py").write_text(f"raise SystemExit('the repository\\'s {name}')\n")
    out = cp("context", "Validate add", "--json", cwd=git_repo)
    assert out.returncode == 0, out.stderr
    assert "app.py" in {f["path"] for f in json.loads(out.stdout)["files"]}


def test_context_says_when_it_indexes_the_repository_the_first_time(git_repo, monkeypatch, capsys):
    from counterpoint import cli
    from counterpoint.core import index

    monkeypatch.setattr(index, "PARALLEL_FROM", 3)  # as for a first index of 400 files or more
    for i in range(3):
        (git_repo / f"mod{i}.py").write_text(f"def helper_{i}():\n    return {i}\n")
    monkeypatch.chdir(git_repo)
    assert cli.main(["context", "Fix helper_1", "--json"]) == 0
    first = capsys.readouterr()
    assert "indexing 4 files of this repository (once" in first.err
    assert "mod1.py" in {f["path"] for f in json.loads(first.out)["files"]}  # stdout: the JSON only
    assert cli.main(["context", "Fix helper_1", "--json"]) == 0
    assert "indexing" not in capsys.readouterr().err  # the cache holds them now


def test_a_headless_run_says_when_it_indexes_the_repository_the_first_time(git_repo, session_args,
                                                                           monkeypatch, capsys):
    from counterpoint import cli
    from counterpoint.core import index

    monkeypatch.setattr(index, "PARALLEL_FROM", 3)
    for i in range(3):
        (git_repo / f"mod{i}.py").write_text(f"def helper_{i}():\n    return {i}\n")
    monkeypatch.chdir(git_repo)
    cli.main(["run", "Validate add", *session_args, "--headless", "--json"])  # 1: its failed edit
    first = capsys.readouterr()
    assert "indexing 4 files of this repository (once" in first.err
    assert events(first.out)[-1]["event"] == "summary"  # stdout: the JSON lines only
    cli.main(["run", "Validate add", *session_args, "--headless", "--json"])
    again = capsys.readouterr()
    assert "indexing" not in again.err and events(again.out)[-1]["event"] == "summary"
