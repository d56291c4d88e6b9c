"""Workspace.apply and Workspace.undo against real git working trees."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from conftest import git
from counterpoint import paths
from counterpoint.workspace import (
    ApplyConflict,
    ApplyRecord,
    NothingToUndo,
    UndoConflict,
    UnsafePath,
    Workspace,
    WorkspaceError,
)

APP = "def add(a, b):\n    return a + b\n"
NEW_APP = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"


@pytest.fixture
def ws(git_repo):
    workspace = Workspace.open(git_repo)
    yield workspace
    workspace.close()


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | str]:
    """Every file and folder under root except .git: bytes and mode, or 'dir'."""
    result: dict[str, tuple[bytes, int] | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in dirnames:
            result[os.path.relpath(os.path.join(dirpath, name), root)] = "dir"
        for name in filenames:
            full = os.path.join(dirpath, name)
            mode = stat.S_IMODE(os.lstat(full).st_mode)
            with open(full, "rb") as handle:
                result[os.path.relpath(full, root)] = (handle.read(), mode)
    return result


def apply(ws, changes, base=None, **kw):
    if base is None:
        base = {path: ws.read_text(path) for path in changes}
    return ws.apply(changes, base, session_id=kw.pop("session_id", "s1"), round=kw.pop("round", 1), **kw)


# ------------------------------------------------------------------ basics


def test_apply_modifies_creates_and_deletes(ws, git_repo):
    (git_repo / "old.py").write_text("old\n")
    record = ws.apply(
        {"app.py": NEW_APP, "pkg/sub/new.py": "x = 1\n", "old.py": None},
        {"app.py": APP, "pkg/sub/new.py": None, "old.py": "old\n"},
        session_id="sess-42",
        round=2,
        hunk_ids=["h1", "h2"],
    )
    assert (git_repo / "app.py").read_text() == NEW_APP
    assert (git_repo / "pkg" / "sub" / "new.py").read_bytes() == b"x = 1\n"
    assert not (git_repo / "old.py").exists()
    assert isinstance(record, ApplyRecord)
    assert record.files == ["app.py", "old.py", "pkg/sub/new.py"]
    assert (record.session_id, record.round, record.hunk_ids, record.commit) == ("sess-42", 2, ["h1", "h2"], None)
    assert re.fullmatch(r"u\d{8}-\d{6}-[0-9a-f]{4}", record.undo_id)
    assert ws.undo_records() == [record]
    # No temp files left behind.
    assert not [p for p in git_repo.rglob("*.counterpoint")]


def test_new_file_mode_respects_umask(ws, git_repo):
    old = os.umask(0o027)
    try:
        apply(ws, {"new.txt": "n\n"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((git_repo / "new.txt").stat().st_mode) == 0o640
    apply(ws, {"other.txt": "o\n"})
    assert stat.S_IMODE((git_repo / "other.txt").stat().st_mode) == 0o644 & ~old


def test_crlf_exec_bit_and_missing_final_newline_are_preserved(ws, git_repo):
    (git_repo / "win.bat").write_bytes(b"@echo off\r\necho hi\r\n")
    script = git_repo / "run.sh"
    script.write_bytes(b"#!/bin/sh\necho one\n")
    script.chmod(0o755)
    (git_repo / "nonl.txt").write_bytes(b"a\nb")
    before_base = ws.read_files(["win.bat", "run.sh", "nonl.txt"])
    assert before_base["win.bat"] == "@echo off\necho hi\n"
    ws.apply(
        {"win.bat": "@echo off\necho hi\necho there\n", "run.sh": "#!/bin/sh\necho two\n", "nonl.txt": "a\nc"},
        before_base,
        session_id="s",
        round=1,
    )
    assert (git_repo / "win.bat").read_bytes() == b"@echo off\r\necho hi\r\necho there\r\n"
    assert script.read_bytes() == b"#!/bin/sh\necho two\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert (git_repo / "nonl.txt").read_bytes() == b"a\nc"


def test_writing_through_an_inside_symlink_keeps_the_link(ws, git_repo):
    (git_repo / "real").mkdir()
    (git_repo / "real" / "m.py").write_text("x = 1\n")
    (git_repo / "alias.py").symlink_to("real/m.py")
    apply(ws, {"alias.py": "x = 2\n"})
    assert (git_repo / "alias.py").is_symlink()
    assert (git_repo / "real" / "m.py").read_text() == "x = 2\n"


def test_dirty_tree_outside_the_touched_files_does_not_block(ws, git_repo):
    (git_repo / "notes.txt").write_text("my scratch\n")
    (git_repo / "other.py").write_text("unstaged work\n")
    git(git_repo, "add", "other.py")
    (git_repo / "other.py").write_text("more unstaged work\n")
    apply(ws, {"app.py": NEW_APP})
    assert (git_repo / "app.py").read_text() == NEW_APP
    assert (git_repo / "notes.txt").read_text() == "my scratch\n"
    assert (git_repo / "other.py").read_text() == "more unstaged work\n"


def test_undo_point_is_on_disk_with_original_bytes(ws, git_repo):
    record = apply(ws, {"app.py": NEW_APP, "new.py": "n\n"})
    data = json.loads((paths.undo_dir() / f"{record.undo_id}.json").read_text())
    assert data["repo"] == str(git_repo.resolve())
    assert data["state"] == "applied"
    entries = {e["path"]: e for e in data["entries"]}
    assert entries["new.py"]["before"] is None
    import base64

    assert base64.b64decode(entries["app.py"]["before"]) == APP.encode()
    assert base64.b64decode(entries["app.py"]["after"]) == NEW_APP.encode()


# --------------------------------------------------------------- bad input


def test_conflict_when_user_edited_since_the_proposal_writes_nothing(ws, git_repo):
    (git_repo / "b.py").write_text("b\n")
    (git_repo / "gone.py").write_text("g\n")
    base = {"app.py": APP, "b.py": "b\n", "c.py": None, "gone.py": "g\n", "new/d.py": None}
    # The user edits b.py, creates c.py and deletes gone.py after the proposal was made.
    (git_repo / "b.py").write_text("b edited by the user\n")
    (git_repo / "c.py").write_text("user's c\n")
    (git_repo / "gone.py").unlink()
    before = snapshot(git_repo)
    with pytest.raises(ApplyConflict) as info:
        ws.apply(
            {"app.py": NEW_APP, "b.py": "b2\n", "c.py": "c\n", "gone.py": "g2\n", "new/d.py": "d\n"},
            base,
            session_id="s",
            round=1,
        )
    assert info.value.conflicts == {
        "b.py": "changed since the proposal was made",
        "c.py": "now exists",
        "gone.py": "deleted since",
    }
    assert "b.py" in str(info.value) and "nothing was written" in str(info.value)
    assert snapshot(git_repo) == before
    assert ws.undo_records() == []


def test_crlf_on_disk_matches_a_normalised_base(ws, git_repo):
    (git_repo / "w.txt").write_bytes(b"x\r\ny\r\n")
    ws.apply({"w.txt": "x\nz\n"}, {"w.txt": "x\ny\n"}, session_id="s", round=1)
    assert (git_repo / "w.txt").read_bytes() == b"x\r\nz\r\n"


def test_unsafe_path_in_changes_writes_nothing(ws, git_repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (git_repo / "escape").symlink_to(outside, target_is_directory=True)
    before = snapshot(git_repo)
    for bad in ["../x.py", "/tmp/x.py", ".git/hooks/post-checkout", "escape/x.py", "~/.bashrc"]:
        with pytest.raises(UnsafePath):
            ws.apply({"app.py": NEW_APP, bad: "evil\n"}, {"app.py": APP, bad: None}, session_id="s", round=1)
    assert snapshot(git_repo) == before
    assert list(outside.iterdir()) == []


def test_missing_base_is_refused(ws, git_repo):
    with pytest.raises(WorkspaceError, match="no base content"):
        ws.apply({"app.py": NEW_APP}, {}, session_id="s", round=1)
    assert (git_repo / "app.py").read_text() == APP


def test_same_path_twice_with_different_content_is_refused(ws):
    with pytest.raises(WorkspaceError, match="twice"):
        ws.apply({"app.py": NEW_APP, "./app.py": "other\n"}, {"app.py": APP}, session_id="s", round=1)


def test_directory_in_the_way_is_a_conflict(ws, git_repo):
    (git_repo / "pkg").mkdir()
    with pytest.raises(ApplyConflict) as info:
        ws.apply({"pkg": "x\n", "app.py/inner.py": "y\n"}, {"pkg": None, "app.py/inner.py": None}, session_id="s", round=1)
    assert info.value.conflicts["pkg"] == "is a directory"
    assert "app.py is a file" in info.value.conflicts["app.py/inner.py"]


def test_failure_midway_restores_every_file(ws, git_repo, monkeypatch):
    (git_repo / "b.py").write_text("b\n")
    script = git_repo / "c.sh"
    script.write_bytes(b"c\r\n")
    script.chmod(0o755)
    before = snapshot(git_repo)
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        if Path(dst).is_relative_to(git_repo.resolve()):  # not the undo point's own file
            calls.append(dst)
            if len(calls) == 2:  # the second file of the apply
                raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(WorkspaceError) as info:
        ws.apply(
            {"app.py": NEW_APP, "b.py": "b2\n", "c.sh": "c2\n", "new/deep/d.py": "d\n"},
            {"app.py": APP, "b.py": "b\n", "c.sh": "c\n", "new/deep/d.py": None},
            session_id="s",
            round=1,
        )
    monkeypatch.setattr(os, "replace", real_replace)
    assert "No space left on device" in str(info.value)
    assert "left as it was" in str(info.value)
    assert snapshot(git_repo) == before  # bytes, modes, and no leftover folders or temp files
    assert ws.undo_records() == []  # a rolled-back apply leaves no undo point


def test_failure_on_a_new_file_removes_created_folders(ws, git_repo, monkeypatch):
    before = snapshot(git_repo)
    real_replace = os.replace

    def fail_on_new(src, dst):
        if str(dst).endswith("z.py"):
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_new)
    with pytest.raises(WorkspaceError, match="Permission denied"):
        ws.apply({"app.py": NEW_APP, "x/y/z.py": "z\n"}, {"app.py": APP, "x/y/z.py": None}, session_id="s", round=1)
    monkeypatch.setattr(os, "replace", real_replace)
    assert snapshot(git_repo) == before


def test_undo_dir_unwritable_means_nothing_written(ws, git_repo, counterpoint_home):
    (counterpoint_home / "undo").write_text("a file where the undo folder should be")
    before = snapshot(git_repo)
    with pytest.raises(WorkspaceError, match="undo point"):
        apply(ws, {"app.py": NEW_APP})
    assert snapshot(git_repo) == before


def test_nothing_to_apply(ws):
    with pytest.raises(WorkspaceError, match="nothing to apply"):
        ws.apply({"ghost.py": None}, {"ghost.py": None}, session_id="s", round=1)


# -------------------------------------------------------------------- undo


def test_undo_restores_bytes_and_modes_and_removes_created_files(ws, git_repo):
    (git_repo / "win.txt").write_bytes(b"a\r\nb")
    script = git_repo / "run.sh"
    script.write_bytes(b"#!/bin/sh\n")
    script.chmod(0o750)
    (git_repo / "doomed.py").write_bytes(b"bye\n")
    before = snapshot(git_repo)
    record = apply(
        ws,
        {"win.txt": "a\nc", "run.sh": "#!/bin/sh\nexit 1\n", "doomed.py": None, "fresh/deeper/new.py": "n\n"},
    )
    assert snapshot(git_repo) != before
    undone = ws.undo()
    assert undone.undo_id == record.undo_id
    assert undone.undone_at is not None
    assert snapshot(git_repo) == before  # created folders are gone too
    assert ws.undo_records()[0].undone_at == undone.undone_at


def test_undo_keeps_a_created_folder_that_has_other_files(ws, git_repo):
    record = apply(ws, {"pkg/new.py": "n\n"})
    (git_repo / "pkg" / "mine.py").write_text("mine\n")
    ws.undo(record.undo_id)
    assert not (git_repo / "pkg" / "new.py").exists()
    assert (git_repo / "pkg" / "mine.py").read_text() == "mine\n"


def test_undo_refused_when_a_file_changed_again(ws, git_repo):
    (git_repo / "b.py").write_text("b\n")
    record = apply(ws, {"app.py": NEW_APP, "new.py": "n\n", "b.py": "b2\n"})
    (git_repo / "app.py").write_text("the user kept editing\n")
    (git_repo / "b.py").unlink()
    after = snapshot(git_repo)
    with pytest.raises(UndoConflict) as info:
        ws.undo()
    assert info.value.conflicts == {"app.py": "changed since the apply", "b.py": "deleted since the apply"}
    assert record.undo_id in str(info.value) and "app.py" in str(info.value)
    assert snapshot(git_repo) == after  # nothing restored, not even new.py
    # Once the user puts things back, undo works.
    (git_repo / "app.py").write_text(NEW_APP)
    (git_repo / "b.py").write_text("b2\n")
    ws.undo()
    assert (git_repo / "b.py").read_text() == "b\n"
    assert (git_repo / "app.py").read_text() == APP
    assert not (git_repo / "new.py").exists()


def test_undo_skips_a_file_the_user_already_put_back(ws, git_repo):
    (git_repo / "b.py").write_text("b\n")
    apply(ws, {"app.py": NEW_APP, "b.py": "b2\n", "created.py": "c\n"})
    (git_repo / "b.py").write_text("b\n")  # reverted by hand
    (git_repo / "created.py").unlink()  # removed by hand
    ws.undo()
    assert (git_repo / "app.py").read_text() == APP
    assert (git_repo / "b.py").read_text() == "b\n"
    assert not (git_repo / "created.py").exists()


def test_undo_refused_when_a_deleted_file_reappeared(ws, git_repo):
    (git_repo / "old.py").write_text("old\n")
    apply(ws, {"old.py": None})
    (git_repo / "old.py").write_text("something else\n")
    with pytest.raises(UndoConflict) as info:
        ws.undo()
    assert info.value.conflicts == {"old.py": "exists again since the apply"}


def test_double_undo_is_refused(ws):
    record = apply(ws, {"app.py": NEW_APP})
    ws.undo(record.undo_id)
    with pytest.raises(WorkspaceError, match="already undone"):
        ws.undo(record.undo_id)
    with pytest.raises(NothingToUndo, match="nothing to undo"):
        ws.undo()


def test_undo_without_any_apply(ws):
    with pytest.raises(NothingToUndo):
        ws.undo()
    with pytest.raises(WorkspaceError, match="no undo point named"):
        ws.undo("u20000101-000000-dead")
    with pytest.raises(WorkspaceError, match="no undo point named"):
        ws.undo("../../etc/passwd")


def test_undo_walks_back_through_applies_newest_first(ws, git_repo):
    first = apply(ws, {"app.py": "v2\n"})
    second = apply(ws, {"app.py": "v3\n"})
    assert [r.undo_id for r in ws.undo_records()] == [second.undo_id, first.undo_id]
    # The older apply cannot be undone while the newer one stands on the same file.
    with pytest.raises(UndoConflict):
        ws.undo(first.undo_id)
    assert ws.undo().undo_id == second.undo_id
    assert (git_repo / "app.py").read_text() == "v2\n"
    assert ws.undo().undo_id == first.undo_id
    assert (git_repo / "app.py").read_text() == APP


def test_undo_of_another_repository_is_refused(ws, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "f.txt").write_text("f\n")
    with Workspace.open(other) as ows:
        record = apply(ows, {"f.txt": "g\n"})
    assert ws.undo_records() == []
    with pytest.raises(WorkspaceError, match="belongs to"):
        ws.undo(record.undo_id)


def test_undo_failure_midway_restores_the_applied_state(ws, git_repo, monkeypatch):
    (git_repo / "b.py").write_text("b\n")
    apply(ws, {"app.py": NEW_APP, "b.py": "b2\n", "c.py": "c\n"})
    after = snapshot(git_repo)
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        if Path(dst).is_relative_to(git_repo.resolve()):
            calls.append(dst)
            if len(calls) == 2:
                raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(WorkspaceError, match="Input/output error"):
        ws.undo()
    monkeypatch.setattr(os, "replace", real_replace)
    assert snapshot(git_repo) == after
    ws.undo()  # still possible afterwards
    assert (git_repo / "app.py").read_text() == APP


def test_crashed_apply_can_still_be_undone(ws, git_repo, monkeypatch):
    """A process killed mid-apply leaves an 'applying' undo point; undo puts things back."""
    from counterpoint.workspace import repo as repo_module

    (git_repo / "b.py").write_text("b\n")
    before = snapshot(git_repo)

    def die_midway(steps, what):
        from counterpoint.workspace.apply import _do

        _do(steps[0])  # first file written, then the process "dies"
        raise KeyboardInterrupt

    real_run = repo_module.run
    monkeypatch.setattr(repo_module, "run", die_midway)
    with pytest.raises(KeyboardInterrupt):
        apply(ws, {"app.py": NEW_APP, "b.py": "b2\n"})
    monkeypatch.setattr(repo_module, "run", real_run)
    assert (git_repo / "app.py").read_text() == NEW_APP
    assert (git_repo / "b.py").read_text() == "b\n"
    ws.undo()
    assert snapshot(git_repo) == before


def test_failed_rollback_keeps_the_undo_point_and_says_so(ws, git_repo, monkeypatch):
    """If even putting a file back fails, the undo point stays so `undo` can finish later."""
    (git_repo / "b.py").write_text("b\n")
    before = snapshot(git_repo)
    real_replace = os.replace
    broken = {"on": True}

    def broken_disk(src, dst):
        if broken["on"] and Path(dst).is_relative_to(git_repo.resolve()) and Path(dst).name != "app.py":
            raise OSError(30, "Read-only file system")
        real_replace(src, dst)

    # app.py is written, b.py fails; rolling app.py back also fails once the disk is gone.
    def fail_rollback(src, dst):
        if Path(dst).name == "app.py" and (git_repo / "app.py").read_text() == NEW_APP:
            raise OSError(30, "Read-only file system")
        broken_disk(src, dst)

    monkeypatch.setattr(os, "replace", fail_rollback)
    with pytest.raises(WorkspaceError) as info:
        ws.apply({"app.py": NEW_APP, "b.py": "b2\n"}, {"app.py": APP, "b.py": "b\n"}, session_id="s", round=1)
    monkeypatch.setattr(os, "replace", real_replace)
    message = str(info.value)
    assert "could not be put back" in message and "app.py" in message
    (record,) = ws.undo_records()
    assert record.undo_id in message
    assert (git_repo / "app.py").read_text() == NEW_APP  # the half-applied state
    ws.undo(record.undo_id)
    assert snapshot(git_repo) == before


def test_a_file_saved_while_applying_is_not_overwritten(ws, git_repo, monkeypatch):
    """The user's editor saves b.py after the check but before its write: all is rolled back."""
    from counterpoint.workspace import apply as apply_module

    (git_repo / "b.py").write_text("b\n")
    real_write = apply_module.write_atomic

    saved = []

    def editor_saves_b_meanwhile(real, data, mode):
        real_write(real, data, mode)
        if real.name == "app.py" and not saved:  # once, right after the first write
            saved.append(True)
            (git_repo / "b.py").write_text("saved by the editor\n")

    monkeypatch.setattr(apply_module, "write_atomic", editor_saves_b_meanwhile)
    with pytest.raises(WorkspaceError, match="b.py: it changed while"):
        ws.apply({"app.py": NEW_APP, "b.py": "b2\n"}, {"app.py": APP, "b.py": "b\n"}, session_id="s", round=1)
    assert (git_repo / "app.py").read_text() == APP
    assert (git_repo / "b.py").read_text() == "saved by the editor\n"
    assert ws.undo_records() == []


def test_ctrl_c_during_apply_puts_files_back(ws, git_repo, monkeypatch):
    from counterpoint.workspace import apply as apply_module

    (git_repo / "b.py").write_text("b\n")
    before = snapshot(git_repo)
    real_write = apply_module.write_atomic

    def interrupted(real, data, mode):
        if real.name == "b.py" and data == b"b2\n":
            raise KeyboardInterrupt
        real_write(real, data, mode)

    monkeypatch.setattr(apply_module, "write_atomic", interrupted)
    with pytest.raises(KeyboardInterrupt):
        apply(ws, {"app.py": NEW_APP, "b.py": "b2\n", "new/c.py": "c\n"})
    assert snapshot(git_repo) == before
    assert ws.undo_records() == []


def test_rollback_never_overwrites_a_file_saved_meanwhile(ws, git_repo, monkeypatch):
    """app.py is written, the user saves it again, then b.py fails: app.py keeps the save."""
    real_replace = os.replace

    def save_then_fail(src, dst):
        if Path(dst).name == "b.py":
            (git_repo / "app.py").write_text("the user's save\n")
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    (git_repo / "b.py").write_text("b\n")
    monkeypatch.setattr(os, "replace", save_then_fail)
    with pytest.raises(WorkspaceError) as info:
        apply(ws, {"app.py": NEW_APP, "b.py": "b2\n"})
    monkeypatch.setattr(os, "replace", real_replace)
    assert "app.py (changed by someone else meanwhile" in str(info.value)
    assert (git_repo / "app.py").read_text() == "the user's save\n"
    assert (git_repo / "b.py").read_text() == "b\n"
