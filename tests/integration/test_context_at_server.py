"""What reaches the model server: the task, the plan, the task's files and a map of the
repository; never .env files, private keys, secret-looking files, files ignored by git or
files matching the configured excludes, and never an API key in a body.

A two-round session runs through the real SDKs; the generator even tries to edit the secret
files in round 1 (blind guesses), which must fail those edits without reading the files into
the proposal that round 2 sends back.
"""

from __future__ import annotations

import json
import subprocess


from counterpoint import cli
from support.fake_models import (
    GENERATOR_TEXT,
    KEYS,
    TASK,
    fake_env,
    events,
    script_round,
    script_round2,
    session_args,
    write_config,
)

# name -> content; every content holds a marker that must never reach the server
PRIVATE = {
    ".env": "DATABASE_URL=postgres://admin:hunter2-envmarker@db/prod\n",
    "config/.env.production": "STRIPE_KEY=prodenvmarker-4242\n",
    "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAidrsamarker\n"
              "-----END OPENSSH PRIVATE KEY-----\n",
    "deploy/server.pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANpemmarker\n-----END PRIVATE KEY-----\n",
    "settings/client_secret.json": '{"client_secret": "clientsecretmarker-77"}\n',
    "notes/aws.txt": "key AKIAIOSFODNN7EXAMPLE awscontentmarker\n",
    "vendor/huge_lib.py": "def excludedmarker():\n    return 1\n",
}
IGNORED = {"scratch/local_notes.txt": "ignoredmarker: my local notes\n"}
LINKS = {"guide.md": "settings/client_secret.json", "docs/notes.txt": "../scratch/local_notes.txt"}
"""Harmless-named symlinks to a secret and to an ignored file: judged by their targets."""
MARKERS = ["hunter2-envmarker", "prodenvmarker", "idrsamarker", "pemmarker", "clientsecretmarker",
           "awscontentmarker", "AKIAIOSFODNN7EXAMPLE", "excludedmarker", "ignoredmarker"]
NAMES = [".env", ".env.production", "id_rsa", "server.pem", "client_secret", "huge_lib",
         "local_notes"]
"""Names that must not appear either. notes/aws.txt is the exception: only its content gives
it away, so it may be listed in the map (by name) but its content is never sent."""

BLIND_EDITS = "".join(
    f"\n{path}\n```\n<<<<<<< SEARCH\nguess\n=======\nreplaced\n>>>>>>> REPLACE\n```\n"
    for path in (".env", "id_rsa", "vendor/huge_lib.py", "scratch/local_notes.txt", "notes/aws.txt",
                 *LINKS)
)


def git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_only_shareable_files_reach_the_server(model_server, git_repo, tmp_path,  # noqa: F811
                                               monkeypatch, capsys):
    (git_repo / "calc_utils.py").write_text("def helper():\n    return 'calcmarker'\n")
    for path, text in {**PRIVATE, **IGNORED}.items():
        (git_repo / path).parent.mkdir(parents=True, exist_ok=True)
        (git_repo / path).write_text(text)
    for link, target in LINKS.items():
        (git_repo / link).parent.mkdir(parents=True, exist_ok=True)
        (git_repo / link).symlink_to(target)
    (git_repo / ".gitignore").write_text("scratch/\n")
    git(git_repo, "add", "-A")  # the secrets are even committed: tracked is not shareable
    git(git_repo, "commit", "-qm", "files")
    assert "scratch/local_notes.txt" not in subprocess.run(
        ["git", "ls-files"], cwd=git_repo, capture_output=True, text=True).stdout

    generator, reviewers = "anthropic:claude-opus-5-5", ["openai:gpt-5.5", "anthropic:claude-sonnet-5"]
    script_round(model_server, generator, reviewers)
    model_server.clear()  # re-script round 1 with the blind edits appended to the answer
    model_server.script({"text": GENERATOR_TEXT + BLIND_EDITS}, model="claude-opus-5-5")
    from support.fake_models import RESPONSES, REVIEW_A, REVIEW_B

    model_server.script({"json": REVIEW_A}, model="gpt-5.5")
    model_server.script({"json": REVIEW_B}, model="claude-sonnet-5")
    model_server.script({"json": RESPONSES}, model="claude-opus-5-5")
    script_round2(model_server, generator, reviewers)

    config = write_config(tmp_path / "cp.toml",
                          extra='[context]\nexclude = ["vendor/"]\n')
    for name, value in fake_env(model_server, config=config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(git_repo)
    code = cli.main(["run", TASK, *session_args(generator, reviewers), "--rounds", "2",
                     "--accept", "consensus", "--headless", "--json"])
    out = capsys.readouterr().out
    evs = events(out)
    summary = evs[-1]
    assert summary["rounds"] == 2 and summary["errors"] == []
    requests = model_server.requests
    assert len(requests) == 8  # 2 rounds x (generate + 2 reviews + respond)
    bodies = [json.dumps(r.body) for r in requests]
    for body in bodies:
        for marker in MARKERS:
            assert marker not in body, f"{marker} reached the server"
        for key in KEYS:
            assert key not in body
    # the blind edits failed, each saying why; the real edit applied
    failed = {f["path"]: f["reason"] for f in summary["failed_edits"]}
    assert set(failed) == {".env", "id_rsa", "vendor/huge_lib.py", "scratch/local_notes.txt",
                           "notes/aws.txt", *LINKS}
    assert all("not shared with models" in reason for reason in failed.values())
    assert code == 0 or summary["failed_edits"]  # exit 1 only for the failed edits

    # the map and the files leave the private ones out, by name too (the task and the
    # generator's own text aside, which name some of them in its blind edits)
    context_bodies = [json.dumps(r.body.get("system", "")) + _first_user(r.body) for r in requests]
    for body in context_bodies:
        for name in NAMES:
            assert name not in body, f"{name} is named in the context"
    # what must be there: the task, the task's file, a shareable neighbour, and the map
    first = context_bodies[0]
    assert TASK in first
    assert "def add(a, b):" in first and "### app.py" in first
    assert "calc_utils.py" in first and "Repository map" in first
    # round 2 sends the accepted finding and the current proposed app.py back
    revise = bodies[4]
    assert "add() rejects floats" in revise or "Type check refuses float" in revise
    assert 'raise TypeError(\\"add() takes integers\\")' in revise


def _first_user(body: dict) -> str:
    """The context part of a request: the first user message (both wire formats)."""
    for message in body.get("messages", []):
        if message.get("role") == "user":
            return json.dumps(message.get("content"))
    return ""
