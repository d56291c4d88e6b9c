"""The files a workspace lists for context: a symlink only when its target may be listed."""

from counterpoint.workspace.repo import Workspace
from conftest import git


def test_list_files_keeps_links_to_listed_files_only(git_repo):
    (git_repo / "scratch").mkdir()
    (git_repo / "scratch" / "mine.txt").write_text("ignored\n")
    (git_repo / ".gitignore").write_text("scratch/\n")
    (git_repo / "real.py").write_text("x = 1\n")
    (git_repo / "alias.py").symlink_to("real.py")
    (git_repo / "notes.md").symlink_to("scratch/mine.txt")
    (git_repo / "out.md").symlink_to("/etc/hostname")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "links")
    ws = Workspace.open(git_repo)
    listed = ws.list_files()
    assert "alias.py" in listed and "real.py" in listed
    assert "notes.md" not in listed and "out.md" not in listed
    assert ws.link_targets(listed) == {"alias.py": "real.py"}
    assert ws.target_of("notes.md") == "scratch/mine.txt"
    assert ws.target_of("real.py") == "real.py"
