"""A repository holding every kind of file the read-only tools must never answer with."""

from __future__ import annotations

import subprocess
from pathlib import Path

PRIVATE = {
    ".env": "DATABASE_URL=postgres://admin:hunter2-envmarker@db/prod\n",
    "deploy/server.pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANpemmarker\n-----END PRIVATE KEY-----\n",
    "settings/client_secret.json": '{"client_secret": "clientsecretmarker-77"}\n',
    "notes/aws.txt": "key AKIAIOSFODNN7EXAMPLE awscontentmarker\n",
    "vendor/huge_lib.py": "def vendored_helper():\n    return 'excludedmarker'\n",
    "scratch/local_notes.txt": "ignoredmarker: my local notes\n",
}
LINKS = {"guide.md": "settings/client_secret.json", "docs/notes.txt": "../scratch/local_notes.txt"}
OUTSIDE_LINK = "elsewhere.txt"
MARKERS = ["hunter2-envmarker", "pemmarker", "clientsecretmarker", "AKIAIOSFODNN7EXAMPLE",
           "awscontentmarker", "excludedmarker", "ignoredmarker", "outsidemarker"]
EXCLUDE = ("vendor/",)
CALC = ("class Calculator:\n    def total(self, items):\n        return sum(items)\n\n\n"
        "LIMIT = 10\n")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def fill(repo: Path, outside_dir: Path) -> Path:
    """Add calc.py, the private files, links to them and one outside `repo`; commit."""
    (repo / "calc.py").write_text(CALC)
    for path, text in PRIVATE.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    for link, target in LINKS.items():
        (repo / link).parent.mkdir(parents=True, exist_ok=True)
        (repo / link).symlink_to(target)
    outside = outside_dir / "outside.txt"
    outside.write_text("outsidemarker here\n")
    (repo / OUTSIDE_LINK).symlink_to(outside)
    (repo / ".gitignore").write_text("scratch/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")
    return repo


def hostile_calls() -> list[dict]:
    """Every way to ask for what may not be sent, then one honest read."""
    calls = [{"name": "read_file", "arguments": {"path": p}}
             for p in (*PRIVATE, *LINKS, OUTSIDE_LINK, "../outside.txt", "/etc/passwd")]
    calls += [{"name": "search", "arguments": {"pattern": "marker|AKIA|PRIVATE"}},
              {"name": "list_files", "arguments": {"glob": "**"}},
              {"name": "find_symbol", "arguments": {"name": "vendored_helper"}},
              {"name": "read_file", "arguments": {"path": "calc.py", "start_line": 2, "end_line": 3}},
              {"name": "find_symbol", "arguments": {"name": "total"}}]
    return [{**c, "id": f"call_{n}"} for n, c in enumerate(calls, start=1)]
