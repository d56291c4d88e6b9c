"""The context of a task in a working tree: index the shareable files, choose, assemble.

The one place where the workspace (git, the files on disk) meets the pure context code:
`list_files` (symlinks to ignored files already left out), the never-sent rules applied to
each path and to a symlink's target, blob ids for the index cache (under the platform cache
dir, or COUNTERPOINT_HOME/cache), then `core.context.assemble`. Used by a session's first
request and by `counterpoint context`, so both show and send the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from counterpoint.core.context import (
    ContextBundle,
    ContextRules,
    SentFile,
    allowed_paths,
    assemble,
    more_files,
)
from counterpoint.core.index import RepoIndex, build_index
from counterpoint.core.index.store import repo_key
from counterpoint.paths import cache_dir
from counterpoint.workspace import Workspace, WorkspaceError

REASON_NOT_LISTED = "not a file git lists here (ignored, missing or outside the repository)"


def index_workspace(
    workspace: Workspace, rules: ContextRules, announce: Callable[[int], None] | None = None
) -> tuple[list[str], dict[str, str], RepoIndex]:
    """(listed paths, symlink targets, the index of the shareable ones); `announce` as in
    `build_index` (told how many files a first index parses)."""
    paths = workspace.list_files()
    targets = workspace.link_targets(paths)
    shareable = allowed_paths(paths, rules, targets)
    blobs = workspace.blob_ids(shareable, targets)
    index = build_index(
        blobs,
        workspace.read_listed,
        cache_dir=cache_dir() / "index",
        cache_key=repo_key(str(workspace.root)),
        announce=announce,
    )
    return paths, targets, index


def gather_context(
    workspace: Workspace,
    task: str,
    rules: ContextRules,
    *,
    plan: str | None = None,
    forced: Sequence[str] = (),
    dropped: Sequence[str] = (),
    announce: Callable[[int], None] | None = None,
) -> ContextBundle:
    """What a model is sent for `task`: the map, the chosen files (or parts), the task.

    `forced` and `dropped` are the human's choices (`--file`, `--no-file`, the task
    screen): a forced file is sent first when the rules allow it, a dropped one never.
    `announce` is told how many files a first index of the repository parses.
    """
    paths, targets, index = index_workspace(workspace, rules, announce)
    listed = set(paths)
    usable: list[str] = []
    refused: dict[str, str] = {}
    for path in forced:
        try:
            rel = workspace.safe_path(path)
        except WorkspaceError as exc:
            refused[path] = str(exc)
            continue
        if rel in listed:
            usable.append(rel)
        else:
            refused[rel] = REASON_NOT_LISTED
    bundle = assemble(
        task,
        index,
        workspace.read_listed,
        paths,
        rules,
        plan=plan,
        targets=targets,
        forced=usable,
        dropped=[p for p in dropped if p in listed],
        recent=workspace.recent_files(),
    )
    if refused:
        from dataclasses import replace

        bundle = replace(bundle, omitted=dict(sorted({**bundle.omitted, **refused}.items())))
    return bundle


def gather_more(
    workspace: Workspace, text: str, rules: ContextRules, *, already: Sequence[str], heading: str
) -> tuple[str, tuple[SentFile, ...]]:
    """The files `text` (the plan, a round's accepted findings) is about that were not sent
    yet (`already`), as a block for a later message (`core.context.more_files`)."""
    paths, targets, index = index_workspace(workspace, rules)
    return more_files(text, index, workspace.read_listed, paths, rules,
                      already=already, heading=heading, targets=targets)


def context_report(bundle: ContextBundle) -> dict[str, Any]:
    """The `counterpoint context --json` object (PRODUCT.md, "Context")."""
    return {
        "files": [
            {"path": f.path, "tokens": f.tokens, "reason": f.reason, "partial": f.partial}
            for f in bundle.files
        ],
        "map_files": [p for p in bundle.map_files if p not in {f.path for f in bundle.files}],
        "tokens": bundle.tokens,
        "budget": bundle.budget,
        "omitted": dict(bundle.omitted),
    }
