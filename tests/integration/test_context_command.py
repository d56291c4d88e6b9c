"""`counterpoint context` shows what would be sent and why; `run --file/--no-file` steers it,
and the choice is recorded in the session and honoured at the server."""

from __future__ import annotations

import json

from conftest import git

from counterpoint import cli
from support.fake_models import (
    TASK,
    events,
    fake_env,
    journal_events,
    script_round,
    session_args,
    write_config,
)


def _repo(git_repo):
    (git_repo / "billing").mkdir()
    (git_repo / "billing" / "invoice.py").write_text(
        "def total_with_vat(lines):\n    '''Sum of the invoice lines with VAT.'''\n    return sum(lines)\n")
    (git_repo / "billing" / "huge.py").write_text(
        "".join(f"def helper_{i}(x):\n    return x + {i}\n\n" for i in range(8000))
        + "def compute_discount(order):\n    return order\n")
    (git_repo / "secrets.yaml").write_text("password: hunter2\n")
    (git_repo / "guide.md").symlink_to("secrets.yaml")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "billing")
    return git_repo


def test_context_json_lists_files_reasons_map_and_omissions(git_repo, monkeypatch, capsys):
    repo = _repo(git_repo)
    monkeypatch.chdir(repo)
    code = cli.main(["context", "Fix `total_with_vat` rounding; also compute_discount; see guide.md",
                     "--file", "secrets.yaml", "--file", "../outside.py", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"files", "map_files", "tokens", "budget", "omitted"}
    files = {f["path"]: f for f in report["files"]}
    assert files["billing/invoice.py"]["reason"] == "defines total_with_vat"
    assert files["billing/invoice.py"]["partial"] is False
    assert files["billing/huge.py"]["partial"] is True  # too big for its share: sent in part
    assert report["tokens"] <= report["budget"] == 60000
    assert report["omitted"]["secrets.yaml"] == "secret-looking name"
    assert report["omitted"]["guide.md"] == "secret-looking name"  # a link judged by its target
    assert "../outside.py" in report["omitted"]
    assert "hunter2" not in json.dumps(report)
    assert all(p not in files for p in report["map_files"])


def test_context_text_and_second_run_uses_the_cache(git_repo, monkeypatch, capsys, counterpoint_home):
    repo = _repo(git_repo)
    monkeypatch.chdir(repo)
    assert cli.main(["context", "Fix total_with_vat", "--no-file", "billing/invoice.py"]) == 0
    out = capsys.readouterr().out
    assert "billing/invoice.py  — dropped by you" in out
    cached = list((counterpoint_home / "cache" / "index").rglob("*"))
    assert any(p.name.endswith(".entries") for p in cached)
    assert any(p.name.endswith(".corpus.npz") for p in cached)
    assert cli.main(["context", "Fix total_with_vat"]) == 0
    assert "billing/invoice.py" in capsys.readouterr().out


def test_context_outside_a_repository_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["context", "anything"]) == 2
    assert "counterpoint:" in capsys.readouterr().err


def test_run_file_and_no_file_are_recorded_and_honoured(model_server, git_repo, tmp_path,
                                                         monkeypatch, capsys, counterpoint_home):
    repo = _repo(git_repo)
    (repo / "notes.txt").write_text("forcedmarker notes\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "notes")
    generator, reviewers = "anthropic:claude-opus-5-5", ["openai:gpt-5.5"]
    script_round(model_server, generator, reviewers)
    config = write_config(tmp_path / "cp.toml")
    for name, value in fake_env(model_server, config=config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(repo)
    cli.main(["run", TASK, *session_args(generator, reviewers), "--headless", "--json",
              "--file", "notes.txt", "--no-file", "app.py"])
    events(capsys.readouterr().out)
    first = json.dumps(model_server.requests[0].body)
    assert "forcedmarker" in first
    assert "### app.py" not in first  # dropped, though the task names it
    assert "app.py\\n  def add" not in first  # nor its signatures in the map
    started = next(e for e in journal_events(counterpoint_home) if e["event"] == "session_started")
    assert started["context_files"] == ["notes.txt"] and started["context_dropped"] == ["app.py"]
