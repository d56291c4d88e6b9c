"""What is sent to models about the repository: a map, some files, the task.

Pure: it takes path lists and file contents (the caller reads git), and returns text. The
caller passes only paths git tracks or that are untracked but not ignored; the never-sent
rules (`core/secrets.py`) still drop secret-looking files and the user's `context.exclude`
globs, and the bundle keeps within the token budget. The map is `core/repo_map.py`, the
choice of files `core/retrieval.py`; this module assembles the blocks and re-exports the
names the rest of Counterpoint imports from here.

The output is deterministic (same inputs, byte-identical blocks): the blocks are the cached
prompt prefix of every request of a session, so any wobble would cost a cache miss.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from counterpoint.core.excerpt import excerpt
from counterpoint.core.index import RepoIndex, blob_id, build_index
from counterpoint.core.index.parse import terms_of
from counterpoint.core.repo_map import (
    MAP_SHARE,
    MIN_MAP_TOKENS,
    SIGNATURE_FILES,
    map_budget_tokens,
    repo_map,
    symbol_map,
)
from counterpoint.core.retrieval import (
    MAX_UNSIZED_FILES,
    REASON_CENTRAL,
    REASON_FORCED,
    REASON_GRAPH,
    REASON_RECENT,
    REASON_TEST,
    _mention_rank,
    file_cost,
    rank,
    select_files,
)
from counterpoint.core.secrets import (
    REASON_BINARY,
    REASON_BUDGET,
    REASON_EXCLUDED,
    REASON_NOT_INCLUDED,
    REASON_SECRET_CONTENT,
    REASON_SECRET_NAME,
    ContextRules,
    allowed_paths,
    is_secret_path,
    looks_secret,
    matches_glob,
    rule_reason,
)
from counterpoint.core.tokens import estimate_tokens, tokens_of_chars

__all__ = [
    "MAP_SHARE",
    "MAX_UNSIZED_FILES",
    "MIN_MAP_TOKENS",
    "REASON_BINARY",
    "REASON_BUDGET",
    "REASON_EXCLUDED",
    "REASON_NOT_INCLUDED",
    "REASON_SECRET_CONTENT",
    "REASON_SECRET_NAME",
    "ContextBundle",
    "ContextRules",
    "allowed_paths",
    "never_sent_reason",
    "build_context",
    "estimate_tokens",
    "is_secret_path",
    "looks_secret",
    "map_budget_tokens",
    "matches_glob",
    "assemble",
    "more_files",
    "rank",
    "repo_map",
    "rule_reason",
    "select_files",
]


@dataclass(frozen=True)
class SentFile:
    path: str
    tokens: int
    reason: str
    """Why it was chosen (named in the task, defines X, tests Y, added by you…)."""
    partial: bool = False
    """Sent as its relevant definitions only."""


@dataclass(frozen=True)
class ContextBundle:
    blocks: tuple[str, ...]
    """In order: repository map, file contents (when any), task. The caller appends the plan."""
    included: tuple[str, ...]
    omitted: dict[str, str] = field(default_factory=dict)
    """path -> why it was not sent."""
    tokens: int = 0
    """Estimated tokens of all blocks."""
    files: tuple[SentFile, ...] = ()
    """What was sent, in the order sent."""
    map_files: tuple[str, ...] = ()
    """The files the map names."""
    budget: int = 0


def _file_section(path: str, content: str, note: str = "") -> str:
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    body = content if content.endswith("\n") or not content else content + "\n"
    title = f"{path} ({note})" if note else path
    return f"### {title}\n{fence}{_language(path)}\n{body}{fence}\n"


_LANGUAGES = {
    "py": "python", "js": "javascript", "ts": "typescript", "tsx": "tsx", "jsx": "jsx",
    "rs": "rust", "go": "go", "rb": "ruby", "java": "java", "kt": "kotlin", "c": "c",
    "h": "c", "cpp": "cpp", "hpp": "cpp", "cs": "csharp", "sh": "bash", "md": "markdown",
    "toml": "toml", "yaml": "yaml", "yml": "yaml", "json": "json", "html": "html",
    "css": "css", "sql": "sql", "swift": "swift", "php": "php",
}


def _language(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return ""
    return _LANGUAGES.get(name.rsplit(".", 1)[-1].lower(), "")


WHOLE_SHARE = 6
"""A file bigger than 1/WHOLE_SHARE of the files' budget is sent in part."""
PART_SHARE = 12
"""A file sent in part takes at most 1/PART_SHARE of the files' budget: on a repository of
big files (pydantic's are 100-160 kB) a few excerpts would otherwise take it all, and the
models can read further with their tools; breadth finds the file a task is about."""
WHOLE_ALWAYS = 2000
"""A file of up to this many tokens is sent whole whenever it fits."""
MIN_LEFT = 64
"""Below this many tokens left, no more files are tried."""
REASON_DROPPED = "dropped by you"


def never_sent_reason(path: str, rules: ContextRules, targets: Mapping[str, str], content: str | None) -> str | None:
    reason = rule_reason(path, rules, targets.get(path))
    if reason is None and content is not None and "\x00" in content:
        reason = REASON_BINARY
    if reason is None and content is not None and looks_secret(content):
        reason = REASON_SECRET_CONTENT
    return reason


def assemble(
    task: str,
    index: RepoIndex,
    read: Callable[[str], str | None],
    all_paths: Sequence[str],
    rules: ContextRules,
    *,
    plan: str | None = None,
    touched: Sequence[str] = (),
    targets: Mapping[str, str] | None = None,
    forced: Sequence[str] = (),
    dropped: Sequence[str] = (),
    recent: Mapping[str, float] | None = None,
) -> ContextBundle:
    """The stable context blocks for a session: map, file contents, task.

    Files are taken in order of relevance (`retrieval.rank`; the human's `forced` ones
    first, `dropped` ones never) while the budget lasts; a file too big for what is left is
    sent as its relevant definitions (`excerpt.py`). Each is checked again before it is
    sent (secret name or content, excludes, binary). The plan is not a block (the caller
    appends it) but its tokens are reserved and what it names counts as mentioned.
    `omitted` names every file that was given, named or dropped but not sent, with the
    reason. `targets` maps symlinks to where they lead: a link is judged by its target too.
    """
    targets = targets or {}
    allowed = allowed_paths(all_paths, rules, targets)
    text = task if plan is None else f"{task}\n{plan}"
    task_block = "## Task\n\n" + task.strip() + "\n"
    listing = 16 + sum(len(p) + 1 for p in allowed) // 4
    map_tokens = min(map_budget_tokens(rules), listing)  # a small repository needs less
    left = rules.budget_tokens - map_tokens - estimate_tokens(task_block) - estimate_tokens(plan or "") - 16
    files_budget = max(left, 0)
    ranked = rank(text, index, [p for p in allowed if p in index.entries or p in touched],
                  touched=touched, recent=recent)
    scores = {r.path: r for r in ranked}
    dropped_set = set(dropped)
    omitted: dict[str, str] = {p: REASON_DROPPED for p in dropped_set}
    order = [p for p in dict.fromkeys([*forced, *(r.path for r in ranked)]) if p not in dropped_set]
    readable = [p for p in order if p in index.sizes]
    whole_fits = sum(file_cost(p, index.sizes[p]) for p in readable) <= left
    pack = _Packing(index, read, rules, targets, text, left,
                    whole_cap=max(files_budget // WHOLE_SHARE, WHOLE_ALWAYS),
                    part_cap=max(files_budget // PART_SHARE, WHOLE_ALWAYS),
                    whole_fits=whole_fits, omitted=omitted)
    for path in order:
        forced_here = path in forced
        ranked_here = scores.get(path)
        if not forced_here and not whole_fits and (ranked_here is None or ranked_here.score <= 0):
            continue
        if pack.left < MIN_LEFT:
            if forced_here or path in touched:
                omitted[path] = REASON_BUDGET
            continue
        why = REASON_FORCED if forced_here else (ranked_here.reason if ranked_here else "")
        pack.offer(path, why, forced=forced_here,
                   readable=path in index.entries or forced_here or path in touched)
    sent, sections, left = pack.sent, pack.sections, pack.left
    # Named in the task but not sendable (e.g. ".env"): say so, so the UI can show it.
    low = text.lower()
    for path in sorted(set(all_paths) - set(allowed)):
        if path.rsplit("/", 1)[-1].lower() not in low:  # cheap pre-filter for big repos
            continue
        reason = rule_reason(path, rules, targets.get(path))
        if reason is not None and _mention_rank(path, low, frozenset()) is not None:
            omitted[path] = reason
    for path in touched:
        if path not in index.entries and path not in omitted:
            reason = rule_reason(path, rules, targets.get(path))
            if reason is not None:
                omitted[path] = reason
    whole = {f.path for f in sent if not f.partial}
    rest = [r.path for r in ranked if r.path not in whole] + sorted(
        p for p in allowed if p not in scores and p not in whole
    )
    signatures = {p: [d.signature for d in index.entries[p].definitions]
                  for p in rest[:SIGNATURE_FILES] if p in index.entries and p not in dropped_set}
    map_text, map_files = symbol_map(rest, signatures, map_tokens + max(0, left - 16), len(allowed))
    map_block = "## Repository map\n\n" + map_text
    blocks = [map_block]
    if sections:
        blocks.append("## Files\n\n" + "\n".join(sections))
    blocks.append(task_block)
    return ContextBundle(
        blocks=tuple(blocks),
        included=tuple(sorted(f.path for f in sent)),
        omitted=dict(sorted(omitted.items())),
        tokens=sum(estimate_tokens(b) for b in blocks),
        files=tuple(sent),
        map_files=map_files,
        budget=rules.budget_tokens,
    )


class _Packing:
    """Files offered in order of relevance, taken while the budget lasts: whole when they
    fit within `whole_cap` (any size when everything fits, or the human asked), else as
    their relevant definitions within `part_cap` (`excerpt.py`). Each is checked again
    before it is sent (secret name or content, excludes, binary)."""

    def __init__(self, index: RepoIndex, read: Callable[[str], str | None], rules: ContextRules,
                 targets: Mapping[str, str], text: str, left: int, *, whole_cap: int,
                 part_cap: int, whole_fits: bool = False,
                 omitted: dict[str, str] | None = None) -> None:
        self.index, self.read, self.rules, self.targets = index, read, rules, targets
        self.terms = set(terms_of(Counter(_WORDS.findall(text))))
        self.symbols = set(_WORDS.findall(text))
        self.left, self.whole_cap, self.part_cap, self.whole_fits = left, whole_cap, part_cap, whole_fits
        self.omitted = omitted if omitted is not None else {}
        self.sent: list[SentFile] = []
        self.sections: list[str] = []

    def offer(self, path: str, why: str, *, forced: bool = False, readable: bool = True) -> None:
        reason = rule_reason(path, self.rules, self.targets.get(path))
        if reason is not None:
            self.omitted[path] = reason
            return
        if readable and not self._may_fit(path, forced):
            self.omitted[path] = REASON_BUDGET  # known from the index, without reading it
            return
        content = self.read(path) if readable else None
        if content is None:
            return
        reason = never_sent_reason(path, self.rules, self.targets, content)
        if reason is not None:
            self.omitted[path] = reason
            return
        room = self._whole_room(forced)
        if estimate_tokens(content) < room:  # else the whole file cannot fit: not worth framing
            section = _file_section(path, content)
            cost = estimate_tokens(section) + 1
            if cost <= room:
                self._take(path, section, cost, why, partial=False)
                return
        entry = self.index.entries.get(path)
        part = excerpt(content, entry, self.terms, self.symbols, self._part_room()) if entry else None
        if part is None:
            self.omitted[path] = REASON_BUDGET
            return
        body, shown = part
        section = _file_section(path, body, note=f"part: {shown} of {content.count(chr(10)) + 1} lines")
        self._take(path, section, estimate_tokens(section) + 1, why, partial=True)

    def _may_fit(self, path: str, forced: bool) -> bool:
        """Whether the file can be sent whole or in part in what is left, by the index's
        size and head of it (near the end of the budget most files cannot: on a
        5,000-file repository, reading them only to find that took a tenth of a second)."""
        size, entry = self.index.sizes.get(path), self.index.entries.get(path)
        if size is None or entry is None or not entry.head_chars:
            return True
        return tokens_of_chars(size) < self._whole_room(forced) or entry.head_chars <= self._part_room() * 4

    def _whole_room(self, forced: bool) -> int:
        """Tokens a file sent whole may take."""
        return self.left if self.whole_fits or forced else min(self.left, self.whole_cap)

    def _part_room(self) -> int:
        """Tokens a file's excerpt may take (less its section's frame)."""
        return min(self.left, self.part_cap) - 40

    def _take(self, path: str, section: str, cost: int, why: str, *, partial: bool) -> None:
        self.sections.append(section)
        self.sent.append(SentFile(path, cost, why, partial=partial))
        self.left -= cost


MORE_SHARE = 10
"""Files chosen for a plan or for accepted findings take at most 1/MORE_SHARE of the budget."""
MORE_FILES_HEADING = "## More files for this"
_WEAK_REASONS = frozenset({"", REASON_CENTRAL, REASON_RECENT, REASON_GRAPH})
_TESTS = REASON_TEST.format("")
"""A test is added only when the text is about it, not for testing a file it names."""


def more_files(
    text: str,
    index: RepoIndex,
    read: Callable[[str], str | None],
    all_paths: Sequence[str],
    rules: ContextRules,
    *,
    already: Collection[str],
    heading: str,
    targets: Mapping[str, str] | None = None,
) -> tuple[str, tuple[SentFile, ...]]:
    """The files `text` (a plan, the findings the human accepted) is about that the context
    did not send (`already`), as a block for a later message: the cached prefix stays byte
    for byte what it was. Only files the text names, or whose symbols or words it uses;
    within 1/MORE_SHARE of the budget. ("", ()) when there is nothing to add."""
    targets = targets or {}
    allowed = allowed_paths(all_paths, rules, targets)
    skip = set(already)
    ranked = rank(text, index, [p for p in allowed if p in index.entries and p not in skip])
    budget = rules.budget_tokens // MORE_SHARE
    pack = _Packing(index, read, rules, targets, text, budget,
                    whole_cap=budget // 2, part_cap=budget // 3)
    for r in ranked:
        if r.score <= 0 or r.reason in _WEAK_REASONS or r.reason.startswith(_TESTS) or pack.left < MIN_LEFT:
            continue
        pack.offer(r.path, r.reason)
        if len(pack.sent) >= MORE_FILES_MAX:
            break
    if not pack.sent:
        return "", ()
    return f"{MORE_FILES_HEADING} {heading}\n\n" + "\n".join(pack.sections), tuple(pack.sent)


MORE_FILES_MAX = 4
"""At most this many files are added for a plan or a round's findings."""


_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def build_context(
    task: str,
    files: Mapping[str, str],
    all_paths: Sequence[str],
    rules: ContextRules,
    *,
    plan: str | None = None,
    touched: Sequence[str] = (),
    targets: Mapping[str, str] | None = None,
) -> ContextBundle:
    """`assemble` over the contents the caller read: only `files` may be sent.

    An index is built in memory from them (nothing cached); every other path is only named.
    """
    targets = targets or {}
    shareable = {p: c for p, c in files.items() if rule_reason(p, rules, targets.get(p)) is None}
    index = build_index({p: blob_id(c) for p, c in shareable.items()}, shareable.get)
    bundle = assemble(task, index, files.get, sorted(set(all_paths) | set(files)), rules,
                      plan=plan, touched=touched, targets=targets)
    omitted = dict(bundle.omitted)
    for path in files:
        if path not in bundle.included and path not in omitted:
            reason = never_sent_reason(path, rules, targets, files[path])
            omitted[path] = reason or REASON_BUDGET
    return replace(bundle, omitted=dict(sorted(omitted.items())))
