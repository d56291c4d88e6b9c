"""How an edit block names its file: the lines before its SEARCH marker (see `core.edits`).

Also the marker and fence lines both modules read, and `resolve_path`, which maps a basename
or a mangled name to the one known file it stands for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from counterpoint.core.pathnames import to_posix

__all__ = ["Header", "find_header", "resolve_path"]


SEARCH_RE = re.compile(r"^(\s*)<{5,9} ?SEARCH>?\s*$", re.IGNORECASE)
DIVIDER_RE = re.compile(r"^\s*={5,9}\s*$")
REPLACE_RE = re.compile(r"^\s*>{5,9} ?REPLACE<?\s*$", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,}|<(?:source|code|pre|codeblock|sourcecode)>)\s*([^`]*)$")
CLOSING_FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,}|</(?:source|code|pre|codeblock|sourcecode)>)\s*$")
"""Fences: backticks, tildes, and the tags aider uses when the code holds backticks."""
_LABEL_RE = re.compile(r"^(?:file ?name|file ?path|file|path)\s*[:=]\s*", re.IGNORECASE)
_ATTR_RE = re.compile(r"""\b(?:title|file|filename|path)=["']?([^"'\s]+)""")
_TICKED_RE = re.compile(r"`([^`\s]+)`")
_WORD_RE = re.compile(r"^[\w-]+$")
_LIST_RE = re.compile(r"^(?:[-*+]|\d+[.)])\s+")
_DECORATION = "*`_\"'"
_BARE_NAMES = frozenset(
    {"Makefile", "Dockerfile", "Containerfile", "Gemfile", "Rakefile", "Procfile"}
    | {"Jenkinsfile", "Vagrantfile", "Justfile", "LICENSE", "README", "CODEOWNERS"}
)
LOOKBACK = 6
"""How many recent lines may hold a block's path and fences."""


def _is_marker(line: str) -> bool:
    return bool(SEARCH_RE.match(line) or DIVIDER_RE.match(line) or REPLACE_RE.match(line))


def _fence(line: str) -> tuple[str, str | None, str | None] | None:
    """(fence chars, language, path on the fence line) when the line opens or closes a fence."""
    m = _FENCE_RE.match(line)
    if not m:
        return None
    info = m.group(2).strip()
    if not info:
        return m.group(1), None, None
    word, _, rest = info.partition(" ")
    path: str | None = None
    language: str | None = word
    if ":" in word:  # ```python:app/x.py
        language, _, path = word.partition(":")
    elif (attr := _ATTR_RE.search(info)) is not None:
        path = attr.group(1)
    elif rest.strip() and _looks_like_path(rest.strip()):  # ```python app/x.py
        path = rest.strip()
    elif "/" in word:  # ```app/x.py
        language, path = None, word
    return m.group(1), (language or None), (path or None)


def _looks_like_path(s: str) -> bool:
    if not s or any(ch.isspace() for ch in s) or s.endswith((".", ",", ";", "!", "?", ":")):
        return False
    name = to_posix(s).rsplit("/", 1)[-1]
    dotfile = name.startswith(".") and name[1:2].isalnum()  # .env, .gitignore
    return "/" in to_posix(s) or "." in name.strip(".") or dotfile or name in _BARE_NAMES


def _undecorate(s: str) -> tuple[str, bool]:
    """`s` without Markdown heading, list, emphasis and quote decoration; whether it was ticked."""
    quoted = False
    s = _LIST_RE.sub("", s.strip().lstrip("#").strip())
    while True:
        before = s
        s = s.rstrip(":").strip()
        if s.startswith("**") and "**" in s[2:]:  # **File:** `x`  /  **x**
            head, _, tail = s[2:].partition("**")
            s = (head + tail).strip()
        if len(s) >= 2 and s[0] == s[-1] and s[0] in _DECORATION:
            quoted = quoted or s[0] == "`"
            s = s[1:-1].strip()
        s = _LABEL_RE.sub("", s)
        if s == before:
            return s, quoted


def _path_from_line(line: str, known: tuple[str, ...] = (), strict: bool = False) -> str | None:
    """The file path on a line like ``app/x.py``, `` `app/x.py` ``, ``File: app/x.py``
    (or a word that names one of the `known` files, like ``file1_py``). `strict` takes no
    bare word (a line of code such as ``pass`` is not a file)."""
    if not line.strip() or _fence(line) or _is_marker(line):
        return None
    s, quoted = _undecorate(line)
    if quoted and _looks_like_path(s.replace(" ", "_")):
        return s  # a ticked name is a name, even with a space in it
    if _looks_like_path(s) or (known and s and " " not in s and resolve_path(s, known) != s):
        return s
    stripped = line.strip()
    if not strict and _WORD_RE.match(s) and not stripped.endswith(":"):
        return s  # a file without an extension (id_rsa); "Next:" is prose
    # A sentence ending in a colon that names one path: "Update `app/x.py`:".
    if stripped.endswith(":"):
        ticked = [t for t in _TICKED_RE.findall(stripped) if _looks_like_path(t)]
        if len(ticked) == 1:
            return ticked[0]
    return None


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve_path(path: str, known_paths: Iterable[str]) -> str:
    """`path`, or the one known file it abbreviates (basename) or mangles (``file1_py``)."""
    known = list(known_paths)
    if path in known:
        return path
    clean = to_posix(path)
    while clean.startswith("./"):
        clean = clean[2:]
    matches = [p for p in known if p == clean or p.endswith("/" + clean)]
    if len(matches) == 1:
        return matches[0]
    wanted = _normalised(clean)
    for pool in (known, [p.rsplit("/", 1)[-1] for p in known]):
        hits = [i for i, p in enumerate(pool) if _normalised(p) == wanted]
        if len(hits) == 1:
            return known[hits[0]]
    return path



@dataclass
class Header:
    path: str | None
    language: str | None
    fence: str | None
    used: int
    """How many of the looked-at lines (counted from the end) the header took."""


def find_header(lines: list[str], known: tuple[str, ...], *, in_block: bool = False) -> Header:
    """The path and fence of a block whose SEARCH marker follows `lines` (most recent last).

    Takes, from the end: an opening fence (the block's), a path line, or a path in a fence of
    its own (``fence, path, closing fence``) above the block's fence; blank lines between.
    `in_block`: the lines are the text of an unclosed block, so only a path next to a fence
    counts (a line of code is not a header).
    """
    path: str | None = None
    language: str | None = None
    fence: str | None = None
    fence_path: str | None = None
    used = 0
    i = len(lines) - 1
    while i >= 0 and len(lines) - i <= LOOKBACK:
        line = lines[i]
        if not line.strip():
            i -= 1
            continue
        found = _fence(line)
        if found is not None:
            if fence is None:
                fence, language, fence_path = found
                used = len(lines) - i
                i -= 1
                if path is None:
                    continue
            elif path is None and found[1] is None:
                # ```lang / path / ``` / ```lang / SEARCH: the path in a fence of its own.
                j = i - 1
                if j >= 1 and (own := _path_from_line(lines[j], known, in_block)) and _fence(lines[j - 1]):
                    path, used = own, len(lines) - (j - 1)
            break
        candidate = None if path is not None else _path_from_line(line, known, in_block)
        if candidate is None:
            break
        path, used = candidate, len(lines) - i
        i -= 1
        if fence is not None:
            break  # path above the fence: nothing more to look for
    if in_block and fence is None:
        return Header(None, None, None, 0)
    return Header(path or fence_path, language, fence, used)
