"""An edit inside a submodule is a failed edit with the reason, never a traceback, and the
submodule's files are left alone."""

from __future__ import annotations

from support.fake_models import cp, events
from tests.conftest import git
from tests.support.cassettes import cassette, exchange, review

EDIT = """I fix the helper.

lib/helper.py
```python
<<<<<<< SEARCH
def helper():
    return 1
=======
def helper():
    return 2
>>>>>>> REPLACE
```
"""


def test_an_edit_inside_a_submodule_is_refused_with_the_reason(git_repo, tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    git(inner, "init", "-q", "-b", "main")
    (inner / "helper.py").write_text("def helper():\n    return 1\n")
    git(inner, "add", "-A")
    git(inner, "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "inner")
    git(git_repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner), "lib")
    git(git_repo, "commit", "-qm", "submodule")

    gen = cassette(tmp_path / "gen.json", "openai:gpt-5.5", [exchange("generator", EDIT)])
    rev = cassette(tmp_path / "rev.json", "anthropic:claude-opus-5-5",
                   [exchange("reviewer", data=review(verdict="approve"))])
    proc = cp("run", "Fix the helper", "--generator", gen, "--reviewer", rev, "--apply",
              "--headless", "--json", cwd=git_repo)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    (proposal,) = [e for e in events(proc.stdout) if e["event"] == "proposal_ready"]
    (failed,) = proposal["failed_edits"]
    assert failed["path"] == "lib/helper.py" and "submodule" in failed["reason"]
    assert (git_repo / "lib" / "helper.py").read_text() == "def helper():\n    return 1\n"
