"""The read-only tools run against the working tree, with the never-sent rules on every result.

`RepoLookup.run(call)` answers one `core.tools.ToolCall` with text for the model. Only what
the context itself may send is ever answered: paths `Workspace.list_files` lists (tracked or
untracked-but-not-ignored, existing, no symlink leading outside the repository or to an
unlisted file), judged by `core.context.never_sent_reason` (secret names and contents,
`context.exclude`/`include`, binary; a link by its target too). `search` is git grep, its
matches filtered by the same judge; `find_symbol` reads the repository index, which holds
only shareable files. The bounds (calls, bytes) are the caller's (`core.tools.ToolBudget`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from counterpoint.core.context import ContextRules, allowed_paths, matches_glob, never_sent_reason
from counterpoint.core.index import RepoIndex
from counterpoint.core.tools import TOOL_NAMES, ToolCall
from counterpoint.workspace.errors import UnsafePath, WorkspaceError
from counterpoint.workspace.repo import Workspace

NOT_SHAREABLE = "not a file that may be shared (ignored, missing, outside the repository or a link to one)"
MAX_LISTED = 400
MAX_MATCHES = 200
MAX_LINE = 240
MAX_PATTERN = 300


class BadCall(Exception):
    """The call cannot be answered; the message says why, for the model."""


class RepoLookup:
    def __init__(
        self,
        workspace: Workspace,
        rules: ContextRules,
        index: Callable[[], RepoIndex] | None = None,
    ) -> None:
        self.workspace = workspace
        self.rules = rules
        self._index_source = index
        self._index: RepoIndex | None = None
        self._listing: tuple[list[str], dict[str, str]] | None = None
        self._judged: dict[str, str | None] = {}

    # -- what may be shown ---------------------------------------------------------------
    def shareable(self) -> tuple[list[str], dict[str, str]]:
        """(the paths that may be named, sorted; path -> symlink target)."""
        if self._listing is None:
            listed = self.workspace.list_files()
            targets = self.workspace.link_targets(listed)
            self._listing = (allowed_paths(listed, self.rules, targets), targets)
        return self._listing

    def _content(self, rel: str) -> str | None:
        """The text of a shareable path, or None when its content may not be sent."""
        paths, targets = self.shareable()
        if rel not in set(paths):
            return None
        text = self.workspace.read_listed(rel)
        if rel not in self._judged:
            self._judged[rel] = "unreadable" if text is None else never_sent_reason(
                rel, self.rules, targets, text
            )
        return text if self._judged[rel] is None else None

    # -- the tools -----------------------------------------------------------------------
    def run(self, call: ToolCall) -> tuple[str, bool]:
        """(the answer, whether the call was refused)."""
        if call.name not in TOOL_NAMES:
            return f"refused: unknown tool {call.name!r}; the tools are {', '.join(TOOL_NAMES)}", True
        try:
            handler: Callable[[Mapping[str, Any]], str] = getattr(self, f"_{call.name}")
            return handler(call.arguments), False
        except BadCall as exc:
            return f"refused: {exc}", True
        except WorkspaceError as exc:
            return f"refused: {exc}", True

    def _read_file(self, args: Mapping[str, Any]) -> str:
        path = _text_arg(args, "path")
        try:
            rel = self.workspace.safe_path(path)
        except UnsafePath as exc:
            raise BadCall(f"{path}: {exc}") from None
        paths, targets = self.shareable()
        if rel not in set(paths):
            raise BadCall(f"{rel}: {NOT_SHAREABLE}")
        text = self._content(rel)
        if text is None:
            raise BadCall(f"{rel}: {self._judged.get(rel) or NOT_SHAREABLE}")
        lines = text.splitlines(keepends=True)
        start = _line_arg(args, "start_line", 1)
        end = _line_arg(args, "end_line", max(len(lines), 1))
        if lines and start > len(lines):
            raise BadCall(f"{rel} has {len(lines)} lines; start_line {start} is past its end")
        if end < start:
            raise BadCall(f"end_line {end} is before start_line {start}")
        end = min(end, len(lines))
        body = "".join(lines[start - 1 : end])
        if body and not body.endswith("\n"):
            body += "\n"
        return f"{rel}, lines {start}-{end} of {len(lines)}:\n{body}"

    def _search(self, args: Mapping[str, Any]) -> str:
        pattern = _text_arg(args, "pattern")
        if len(pattern) > MAX_PATTERN:
            raise BadCall(f"the pattern is longer than {MAX_PATTERN} characters")
        paths, targets = self.shareable()
        allowed = set(paths)
        hits: list[tuple[str, int, str]] = []
        more = False
        for path, number, text in self.workspace.grep(pattern):
            if path not in allowed or path in targets:  # a link's target is searched itself
                continue
            if self._content(path) is None:
                continue
            if len(hits) == MAX_MATCHES:  # judging every file of a big repository: no
                more = True
                break
            hits.append((path, number, text))
        if not hits:
            return f"no match for {pattern!r} in the shareable files"
        files = len({h[0] for h in hits})
        head = f"{len(hits)} matching lines in {files} files"
        if more:
            head = f"more than {MAX_MATCHES} matching lines (the first {len(hits)} shown; narrow the pattern)"
        lines = [f"{p}:{n}:{_clip(t)}" for p, n, t in hits]
        return head + ":\n" + "\n".join(lines) + "\n"

    def _list_files(self, args: Mapping[str, Any]) -> str:
        glob = args.get("glob") or ""
        if not isinstance(glob, str):
            raise BadCall("glob must be a string")
        paths, _ = self.shareable()
        found = [p for p in paths if not glob.strip() or matches_glob(glob.strip(), p)]
        if not found:
            return f"no shareable file matches {glob!r}"
        shown = found[:MAX_LISTED]
        head = f"{len(found)} files"
        if len(found) > len(shown):
            head += f" (the first {len(shown)} shown; narrow the glob)"
        return head + ":\n" + "\n".join(shown) + "\n"

    def _find_symbol(self, args: Mapping[str, Any]) -> str:
        name = _text_arg(args, "name")
        if self._index_source is None:
            raise BadCall("no repository index here")
        if self._index is None:
            self._index = self._index_source()
        index = self._index
        paths, _ = self.shareable()
        allowed = set(paths)
        last = name.rsplit(".", 1)[-1]
        found = []
        for path in index.definers.get(last, ()):
            if path not in allowed or self._content(path) is None:
                continue
            for d in index.entries[path].definitions:
                if d.name == name or d.name.rsplit(".", 1)[-1] == name or d.name.endswith("." + name):
                    found.append(f"{path}:{d.start}-{d.end}: {d.kind} {_clip(d.signature)}")
        if not found:
            return f"no definition of {name!r} in the shareable files"
        shown = found[:MAX_MATCHES]
        return f"{len(found)} definitions:\n" + "\n".join(shown) + "\n"


def _text_arg(args: Mapping[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadCall(f"{key} must be a non-empty string")
    return value.strip()


def _line_arg(args: Mapping[str, Any], key: str, default: int) -> int:
    value = args.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadCall(f"{key} must be a line number")
    try:
        number = int(value)
    except ValueError:
        raise BadCall(f"{key} must be a line number") from None
    if number < 1:
        raise BadCall(f"{key} must be 1 or more")
    return number


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[:MAX_LINE] + "…"
