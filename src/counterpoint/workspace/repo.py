"""The git working tree a session works on: read files, apply a changeset, undo, commit.

GitPython is imported here only (lazily, in `Workspace.open`), and every git failure
comes out as a WorkspaceError with a sentence the user can act on.

Just over 500 lines: listing (symlink targets, blob ids, what may be shared) and applying
share one Workspace's resolved root and path-safety checks; undo and commit already live in
undo.py and commit.py, and the listing helpers are the next to move if it grows.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from counterpoint.workspace import commit as committing
from counterpoint.workspace import records
from counterpoint.workspace import undo as undoing
from counterpoint.workspace.apply import (
    FileWrite,
    NotRegular,
    TransactionFailed,
    blocking_file,
    decode,
    encode,
    file_mode,
    missing_dirs,
    new_file_mode,
    read_regular,
    run,
    uses_crlf,
)
from counterpoint.workspace.errors import (
    ApplyConflict,
    NotAGitRepo,
    UnsafePath,
    WorkspaceError,
)
from counterpoint.workspace.lock import RepositoryBusy, locked
from counterpoint.workspace.records import APPLIED, APPLYING, ApplyRecord, FileEntry, UndoPoint
from counterpoint.workspace.safety import check_symlinks, normalise

if TYPE_CHECKING:
    import git

# Reasons named in ApplyConflict.conflicts (the words the UI shows next to each file).
CHANGED = "changed since the proposal was made"
NOW_EXISTS = "now exists"
DELETED = "deleted since"


class Workspace:
    """One git working tree. Open it with `Workspace.open(path)`."""

    def __init__(self, repo: git.Repo, root: Path) -> None:
        self._repo = repo
        self.root = root

    # ----------------------------------------------------------------- opening

    @classmethod
    def open(cls, path: str | Path) -> Workspace:
        """The repository containing `path` (a subdirectory is fine). Raises NotAGitRepo."""
        where = Path(path).expanduser().absolute()
        if not where.exists():
            raise NotAGitRepo(f"not a git repository: {where} (no such folder)")
        if not where.is_dir():
            where = where.parent
        try:
            import git
        except ImportError as exc:
            raise WorkspaceError(f"git is not installed or not on PATH ({exc})") from exc
        try:
            repo = git.Repo(where, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise NotAGitRepo(f"not a git repository: {where} (run `git init` first)") from None
        except git.GitError as exc:
            raise WorkspaceError(f"git cannot open {where}: {exc}") from exc
        if repo.bare or repo.working_tree_dir is None:
            repo.close()
            raise NotAGitRepo(
                f"not a git repository: {where} is a bare repository, without files to edit"
            )
        root = Path(repo.working_tree_dir).resolve()
        return cls(repo, root)

    def close(self) -> None:
        """Stop the git helper processes GitPython keeps around."""
        self._repo.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    # ------------------------------------------------------------- git plumbing

    def _git(
        self,
        *args: str,
        ok: Sequence[int] = (0,),
        literal: bool = True,
        stdin: bytes | None = None,
    ) -> tuple[int, str, str]:
        """Run git in the working tree: (status, stdout, stderr).

        With `literal`, pathspecs are plain paths, never globs or magic (`:(top)`, `*`);
        check-ignore is the one command that refuses that setting.
        """
        source = None
        if stdin is not None:
            source = tempfile.TemporaryFile()
            source.write(stdin)
            source.seek(0)
        try:
            status, out, err = self._repo.git.execute(
                ["git", *args],
                istream=source,
                with_extended_output=True,
                with_exceptions=False,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                env={"GIT_LITERAL_PATHSPECS": "1" if literal else "0"},
            )
        except Exception as exc:  # GitPython wraps spawn failures in several types
            raise WorkspaceError(f"could not run git {args[0]}: {exc}") from exc
        finally:
            if source is not None:
                source.close()
        stdout = out.decode("utf-8", errors="replace") if isinstance(out, bytes) else str(out or "")
        stderr = err.decode("utf-8", errors="replace") if isinstance(err, bytes) else str(err or "")
        if status not in ok:
            detail = stderr.strip() or stdout.strip() or f"exit status {status}"
            raise WorkspaceError(f"git {args[0]} failed in {self.root}: {detail}")
        return status, stdout, stderr

    # -------------------------------------------------------------- properties

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def branch(self) -> str:
        """The current branch; the short sha when HEAD is detached."""
        status, out, _ = self._git("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1))
        if status == 0 and out.strip():
            return out.strip()
        head = self.head
        return head[:7] if head else "HEAD"

    @property
    def head(self) -> str | None:
        """The HEAD commit's sha; None before the first commit."""
        status, out, _ = self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}", ok=(0, 1))
        return out.strip() if status == 0 and out.strip() else None

    # ------------------------------------------------------------------- paths

    def _resolve(self, path: str) -> tuple[str, Path]:
        rel = normalise(path)
        return rel, check_symlinks(self.root, rel)

    def safe_path(self, path: str) -> str:
        """`path` as a normalised repo-relative posix path; raises UnsafePath with the reason."""
        return self._resolve(path)[0]

    # ----------------------------------------------------------------- reading

    def read_text(self, path: str) -> str | None:
        """The file's text with CRLF normalised to "\\n"; None if it does not exist.

        Raises UnsafePath, or WorkspaceError for a folder, a non-regular file or bytes that
        are not UTF-8 (Counterpoint edits text only).
        """
        rel, real = self._resolve(path)
        try:
            data = read_regular(real)
        except NotRegular as exc:
            raise WorkspaceError(f"cannot read {rel}: it {exc.what}") from None
        except OSError as exc:
            raise WorkspaceError(f"cannot read {rel}: {exc.strerror or exc}") from exc
        if data is None:
            return None
        try:
            return decode(data)
        except UnicodeDecodeError:
            raise WorkspaceError(f"cannot read {rel}: it is not UTF-8 text") from None

    def read_files(self, paths: Iterable[str]) -> dict[str, str | None]:
        """`read_text` for each path, keyed by the normalised path (see `safe_path`)."""
        result: dict[str, str | None] = {}
        for path in paths:
            rel = self.safe_path(path)
            result[rel] = self.read_text(rel)
        return result

    def target_of(self, path: str) -> str:
        """The repository-relative path `path` leads to through its symlinks (itself if none).

        The never-sent rules judge a link by its target too. Raises UnsafePath.
        """
        rel, real = self._resolve(path)
        target = real.relative_to(self.root).as_posix()
        return rel if target == "." else target

    def list_files(self) -> list[str]:
        """Tracked and untracked-but-not-ignored files that exist, sorted.

        Symlinks leading outside the repository, folders (submodules) and tracked files
        missing from disk are left out: every path listed can be read. A symlink is listed
        only when its target is listed too, so a link never reaches an ignored file.
        """
        _, out, _ = self._git("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        files = set()
        links: dict[str, str] = {}
        root = str(self.root)
        for rel in out.split("\0"):
            if not rel:
                continue
            full = os.path.join(root, rel)
            if not os.path.isfile(full):
                continue
            if os.path.islink(full):
                try:
                    links[rel] = self.target_of(rel)
                except UnsafePath:
                    continue
            files.add(rel)
        return sorted(p for p in files if p not in links or links[p] in files)

    def read_listed(self, rel: str) -> str | None:
        """The text of a path `list_files` returned, None when unreadable or not UTF-8.

        For reading a whole repository (the index): the path's symlinks were checked when
        it was listed, so this skips `read_text`'s per-component checks.
        """
        try:
            with open(self.root / rel, "rb") as handle:
                data = handle.read()
            return decode(data)
        except (OSError, UnicodeDecodeError):
            return None

    def link_targets(self, paths: Iterable[str]) -> dict[str, str]:
        """path -> target for the listed paths that are symlinks (see `list_files`)."""
        targets = {}
        root = str(self.root)
        for rel in paths:
            if os.path.islink(os.path.join(root, rel)):
                with contextlib.suppress(UnsafePath):
                    targets[rel] = self.target_of(rel)
        return targets

    def blob_ids(self, paths: Iterable[str], targets: Mapping[str, str] | None = None) -> dict[str, str]:
        """path -> git blob id of what is on disk now (a symlink: its target's content).

        Unchanged tracked files take their id from the index; modified and untracked ones
        (and link targets) are hashed by one `git hash-object`. The index caches by these.
        `targets`: the paths' `link_targets`, when the caller has them already.
        """
        wanted = list(paths)
        _, out, _ = self._git("ls-files", "-z", "-s")
        staged: dict[str, str] = {}
        for record in out.split("\0"):
            meta, _, rel = record.partition("\t")
            fields = meta.split()
            if rel and len(fields) == 3 and fields[2] == "0" and fields[0] != "120000":
                staged[rel] = fields[1]
        _, out, _ = self._git("diff-files", "-z", "--name-only")
        modified = {rel for rel in out.split("\0") if rel}
        if targets is None:
            targets = self.link_targets(wanted)
        result: dict[str, str] = {}
        to_hash: list[str] = []
        for rel in wanted:
            real = targets.get(rel, rel)
            if real in staged and real not in modified:
                result[rel] = staged[real]
            else:
                to_hash.append(rel)
        if to_hash:
            listing = "".join(f"{targets.get(rel, rel)}\n" for rel in to_hash).encode()
            status, out, _ = self._git("hash-object", "--stdin-paths", stdin=listing, ok=(0, 128))
            ids = out.split()
            if status == 0 and len(ids) == len(to_hash):
                result.update(zip(to_hash, ids))
        return result

    def recent_files(self, commits: int = 20) -> dict[str, float]:
        """path -> 0..1, how recently it changed: 1 for uncommitted changes, then by commit."""
        recency: dict[str, float] = {}
        status, out, _ = self._git("log", f"-n{commits}", "--format=%x00", "--name-only",
                                   "--no-renames", ok=(0, 128))
        if status == 0:
            for age, chunk in enumerate(out.split("\0")[1:]):
                for rel in chunk.split("\n"):
                    if rel:
                        recency.setdefault(rel, round(1.0 - age / (commits + 1), 4))
        for rel in self.dirty_files():
            recency[rel] = 1.0
        return recency

    def grep(self, pattern: str) -> list[tuple[str, int, str]]:
        """(path, line, text) of the lines matching the extended regex `pattern` in tracked
        and untracked-but-not-ignored text files (git grep); raises WorkspaceError for a bad
        pattern. The caller decides which of the paths may be shown."""
        status, out, err = self._git("grep", "-z", "-n", "-I", "-E", "--untracked", "--no-color",
                                     "-e", pattern, ok=(0, 1, 128))
        if status == 128:
            raise WorkspaceError(f"git grep refused the pattern: {err.strip() or 'bad pattern'}")
        found: list[tuple[str, int, str]] = []
        for record in out.split("\n"):
            path, _, rest = record.partition("\0")
            number, _, text = rest.partition("\0")
            if path and number.isdigit():
                found.append((path, int(number), text))
        return found

    def is_ignored(self, path: str) -> bool:
        """True when git ignores the path (tracked files never count as ignored)."""
        rel = self.safe_path(path)
        status, _, _ = self._git("check-ignore", "-q", "--", rel, ok=(0, 1), literal=False)
        return status == 0

    def dirty_files(self) -> list[str]:
        """Paths `git status` reports as modified, staged, deleted or untracked, sorted."""
        _, out, _ = self._git(
            "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"
        )
        paths = set()
        tokens = out.split("\0")
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            if len(token) < 4:
                continue
            paths.add(token[3:])
            if token[0] in "RC":  # a rename/copy carries its source path as the next token
                paths.add(tokens[index])
                index += 1
        return sorted(paths)

    # ------------------------------------------------------------------- apply

    def _normalise_keys(self, mapping: Mapping[str, str | None], what: str) -> dict[str, str | None]:
        result: dict[str, str | None] = {}
        for path, content in mapping.items():
            rel = normalise(path)
            if rel in result and result[rel] != content:
                raise WorkspaceError(f"{rel} appears twice in the {what}, with different contents")
            result[rel] = content
        return result

    def _check_against_base(
        self, rel: str, real: Path, expected: str | None, new: str | None
    ) -> tuple[str | None, bytes | None]:
        """(conflict reason or None, current bytes) for one file of an apply."""
        try:
            data = read_regular(real)
        except NotRegular as exc:
            return exc.what, None
        except OSError as exc:
            return f"cannot be read ({exc.strerror or exc})", None
        if data is None:
            if expected is not None:
                return DELETED, None
            blocker = blocking_file(self.root, real.parent)
            if new is not None and blocker is not None:
                shown = blocker.relative_to(self.root).as_posix()
                return f"cannot be created: {shown} is a file", None
            return None, None
        if expected is None:
            return NOW_EXISTS, data
        try:
            text = decode(data)
        except UnicodeDecodeError:
            return "is not UTF-8 text", data
        if text != expected.replace("\r\n", "\n"):
            return CHANGED, data
        return None, data

    def apply(
        self,
        changes: Mapping[str, str | None],
        base: Mapping[str, str | None],
        *,
        session_id: str,
        round: int,
        hunk_ids: Sequence[str] = (),
    ) -> ApplyRecord:
        """Write `changes` (new text per path, None = delete) to the working tree, all or none.

        Every file must still hold its `base` text (what the proposal was made against),
        else ApplyConflict lists each file that changed and nothing is written. The undo
        point is saved durably before the first write. CRLF line endings, the file mode
        and a missing final newline are kept. The check and the writes happen under the
        repository lock, so another Counterpoint process cannot write in between.
        """
        with locked(self.root, "apply"):
            return self._apply(changes, base, session_id=session_id, round=round, hunk_ids=hunk_ids)

    def _apply(
        self,
        changes: Mapping[str, str | None],
        base: Mapping[str, str | None],
        *,
        session_id: str,
        round: int,
        hunk_ids: Sequence[str],
    ) -> ApplyRecord:
        wanted = self._normalise_keys(changes, "changes")
        known = self._normalise_keys(base, "base")
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            raise WorkspaceError(
                "cannot apply: no base content was given for " + ", ".join(unknown)
            )
        reals: dict[str, Path] = {}
        seen: dict[Path, str] = {}
        for rel in sorted(wanted):
            real = check_symlinks(self.root, rel)
            if real in seen:
                raise WorkspaceError(f"cannot apply: {rel} and {seen[real]} are the same file")
            reals[rel] = real
            seen[real] = rel

        conflicts: dict[str, str] = {}
        steps: list[FileWrite] = []
        entries: list[FileEntry] = []
        for rel, real in reals.items():
            new = wanted[rel]
            reason, before = self._check_against_base(rel, real, known[rel], new)
            if reason is not None:
                conflicts[rel] = reason
                continue
            if before is None and new is None:
                continue  # deleting a file that is already gone: nothing to do
            before_mode = file_mode(real) if before is not None else None
            after = None if new is None else encode(new, uses_crlf(before or b""))
            if new is None:
                after_mode = None
            else:
                after_mode = before_mode if before_mode is not None else new_file_mode()
            created = missing_dirs(self.root, real.parent) if before is None else []
            steps.append(FileWrite(rel, real, after, after_mode, before, before_mode, created))
            entries.append(
                FileEntry(
                    path=rel,
                    before=before,
                    before_mode=before_mode,
                    after=after,
                    after_mode=after_mode,
                    created_dirs=[d.relative_to(self.root).as_posix() for d in created],
                )
            )
        if conflicts:
            raise ApplyConflict(conflicts)
        if not steps:
            raise WorkspaceError("nothing to apply: the changes leave every file as it is")

        record = ApplyRecord(
            undo_id=records.new_undo_id(),
            session_id=session_id,
            round=round,
            files=[entry.path for entry in entries],
            hunk_ids=list(hunk_ids),
            created_at=records.now_iso(),
            commit=None,
        )
        point = UndoPoint(record=record, repo=str(self.root), state=APPLYING, entries=entries)
        records.save(point)
        try:
            run(steps, "apply")
        except TransactionFailed as exc:
            if exc.clean:
                records.remove(record.undo_id)
                raise
            raise WorkspaceError(
                f"{exc} — the original bytes are kept in undo point {record.undo_id}"
            ) from exc
        except BaseException:
            if self._all_restored(entries):
                records.remove(record.undo_id)
            raise
        point.state = APPLIED
        with contextlib.suppress(WorkspaceError):
            records.save(point)  # an "applying" point is still undoable if this fails
        return record

    def _all_restored(self, entries: Sequence[FileEntry]) -> bool:
        """True when every file of an interrupted apply holds its original bytes again."""
        try:
            return all(
                read_regular(check_symlinks(self.root, e.path)) == e.before for e in entries
            )
        except (OSError, NotRegular, WorkspaceError):
            return False

    # -------------------------------------------------------------------- undo

    def undo_records(self) -> list[ApplyRecord]:
        """Every apply in this repository that has an undo point, newest first."""
        return [point.record for point in records.all_points(str(self.root))]

    def undo(self, undo_id: str | None = None) -> ApplyRecord:
        """Put back the files an apply replaced (the latest one still standing when None).

        Refuses with UndoConflict, restoring nothing, if any file changed since the apply.
        A file already back to its original bytes is left alone.
        """
        with locked(self.root, "undo"):
            return undoing.undo(self.root, undoing.undo_point(self.root, undo_id))

    def recover(self) -> list[str]:
        """Finish the rollback of any apply a crash cut off here (see `undo.recover`);
        one sentence per apply. Skipped while another process holds the repository."""
        if not any(p.state == APPLYING for p in records.all_points(str(self.root))):
            return []
        try:
            with locked(self.root, "recovery", wait=0):
                return undoing.recover(self.root)
        except RepositoryBusy:
            return []  # an apply is running right now: its point is "applying" for that

    # ------------------------------------------------------------------ commit

    def commit(
        self, record: ApplyRecord, message: str, *, generator: str, reviewers: Sequence[str]
    ) -> str:
        """Commit exactly the apply's files (other staged changes stay staged) with trailers.

        The message is followed by a blank line and `Generated-by:`, one `Reviewed-by:` per
        reviewer and `Counterpoint-Session:`. Returns the new commit's sha.
        """
        with locked(self.root, "commit"):
            return committing.commit(self, record, message, generator=generator, reviewers=reviewers)
