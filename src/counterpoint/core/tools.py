"""Read-only tools a model may call to look further than its context: what they are, how far.

Four tools (`TOOLS`): `read_file`, `search`, `list_files`, `find_symbol`. They are run by
`workspace/lookup.py` (the one place that touches the repository for them, with the
never-sent rules applied to every result) and looped by `workflow/tool_loop.py`. This module
is pure: the tools' descriptions and JSON schemas (what the providers send as Anthropic tools
or OpenAI functions), a call and its result, the per-step bounds (`ToolBudget`: calls, bytes
per result, bytes per step, each said in the result when it bites), and the plain-text
protocol for OpenAI-compatible servers without tool support (a fenced `tool` block in the
model's text, answered in the next user message).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "TOOLS",
    "TOOL_NAMES",
    "ToolBounds",
    "ToolBudget",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "call_summary",
    "result_headline",
    "parse_text_calls",
    "text_protocol_instruction",
    "text_results_message",
]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]
    """JSON schema of the arguments (an object)."""


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required,
            "additionalProperties": False}


TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "read_file",
        "Read lines of a file of the repository (1-based, inclusive). Files that may not be "
        "shared (secrets, ignored or excluded files) are refused.",
        _object({"path": {"type": "string", "description": "repository-relative path"},
                 "start_line": {"type": "integer", "minimum": 1},
                 "end_line": {"type": "integer", "minimum": 1}}, ["path"]),
    ),
    ToolSpec(
        "search",
        "Search the shareable files of the repository for a regular expression (git grep, "
        "extended syntax); answers path:line:text lines.",
        _object({"pattern": {"type": "string"}}, ["pattern"]),
    ),
    ToolSpec(
        "list_files",
        "List the shareable files of the repository matching a glob (gitignore syntax: "
        "'*.py' at any depth, 'src/**' under a folder).",
        _object({"glob": {"type": "string"}}, []),
    ),
    ToolSpec(
        "find_symbol",
        "Where a class, function, method or constant is defined: path, lines and signature.",
        _object({"name": {"type": "string"}}, ["name"]),
    ),
)
TOOL_NAMES = tuple(t.name for t in TOOLS)


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "arguments": dict(self.arguments)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        args = data.get("arguments")
        return cls(str(data.get("id", "")), str(data.get("name", "")),
                   dict(args) if isinstance(args, Mapping) else {})


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str
    text: str
    truncated: bool = False
    refused: bool = False
    """The call was not run (unknown tool, bad arguments, a rule, the step's bounds)."""

    def to_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "name": self.name, "text": self.text,
                "truncated": self.truncated, "refused": self.refused}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolResult:
        return cls(str(data.get("call_id", "")), str(data.get("name", "")),
                   str(data.get("text", "")), bool(data.get("truncated")), bool(data.get("refused")))


def call_summary(call: ToolCall) -> str:
    """One line naming a call: `read_file(src/app.py, 10-40)`."""
    args = call.arguments
    if call.name == "read_file":
        lines = ""
        if "start_line" in args or "end_line" in args:
            lines = f", {args.get('start_line', 1)}-{args.get('end_line', 'end')}"
        shown = f"{args.get('path', '')}{lines}"
    else:
        shown = ", ".join(str(v) for v in args.values())
    return f"{call.name}({shown})"


def result_headline(text: str, width: int = 100) -> str:
    """A result trimmed to one line for a pane or a progress line: its first line, and how
    many more there are."""
    lines = text.splitlines() or [""]
    head = lines[0] if len(lines[0]) <= width else lines[0][: width - 1] + "…"
    more = len(lines) - 1
    return f"{head} (+{more} lines)" if more else head


# --- bounds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolBounds:
    """Per step (one model's answer to one request, with all its tool turns)."""

    max_calls: int = 12
    max_result_bytes: int = 12_000
    max_step_bytes: int = 48_000


MIN_RESULT_BYTES = 256
"""Below this much left of the step's bytes, a call is refused rather than cut to nothing."""


def _cut(text: str, limit: int) -> str:
    """The longest prefix of whole lines within `limit` UTF-8 bytes (or bytes, when one line
    is longer)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    head = data[:limit].decode("utf-8", errors="ignore")
    end = head.rfind("\n")
    return head[: end + 1] if end > 0 else head


class ToolBudget:
    """What is left of one step's bounds; `answer` turns a raw result into what is sent."""

    def __init__(self, bounds: ToolBounds | None = None) -> None:
        self.bounds = bounds or ToolBounds()
        self.calls = 0
        self.bytes = 0

    @property
    def spent(self) -> bool:
        return (self.calls >= self.bounds.max_calls
                or self.bounds.max_step_bytes - self.bytes < MIN_RESULT_BYTES)

    def refusal(self) -> str | None:
        """Why the next call may not run, or None."""
        if self.calls >= self.bounds.max_calls:
            return (f"refused: this step's limit of {self.bounds.max_calls} tool calls is "
                    "reached; answer with what you have")
        if self.bounds.max_step_bytes - self.bytes < MIN_RESULT_BYTES:
            return (f"refused: this step's limit of {self.bounds.max_step_bytes} bytes of tool "
                    "results is reached; answer with what you have")
        return None

    def answer(self, call: ToolCall, text: str, *, refused: bool = False) -> ToolResult:
        """Count the call and cut `text` to the bounds (whole lines when it can), saying so
        in a short note after the cut."""
        self.calls += 1
        limit = min(self.bounds.max_result_bytes, self.bounds.max_step_bytes - self.bytes)
        size = len(text.encode("utf-8"))
        truncated = size > limit
        if truncated:
            kept = _cut(text, max(limit, 0))
            text = kept + (f"\n[truncated: {len(kept.encode('utf-8'))} of {size} bytes shown (at "
                           f"most {self.bounds.max_result_bytes} per result, "
                           f"{self.bounds.max_step_bytes} per step); ask for less]")
        self.bytes += len(text.encode("utf-8"))
        return ToolResult(call.id, call.name, text, truncated=truncated, refused=refused)


# --- the plain-text protocol --------------------------------------------------------------

_TOOL_BLOCK = re.compile(r"^[ \t]*(`{3,})[ \t]*tool[ \t]*\n(.*?)\n[ \t]*\1[ \t]*$", re.M | re.S)


def text_protocol_instruction(tools: tuple[ToolSpec, ...] = TOOLS) -> str:
    """The system text that offers the tools to a model without native tool support."""
    lines = [
        "You may look at the repository before you answer, with read-only tools. To call "
        "tools, write one fenced block per call and end your message there:",
        "```tool",
        '{"name": "read_file", "arguments": {"path": "src/app.py", "start_line": 1, "end_line": 80}}',
        "```",
        "The results come in the next message. When you know enough, answer without a tool "
        "block. The tools:",
    ]
    for spec in tools:
        args = ", ".join(spec.parameters.get("properties", {}))
        lines.append(f"- {spec.name}({args}): {spec.description}")
    return "\n".join(lines)


def parse_text_calls(text: str) -> list[ToolCall]:
    """The tool calls written as fenced `tool` blocks in a whole answer (in order).

    A block that is not a JSON object with a string `name` is still a call (so the model
    hears what was wrong), named `invalid`.
    """
    calls: list[ToolCall] = []
    for n, match in enumerate(_TOOL_BLOCK.finditer(text), start=1):
        call_id = f"text-{n}"
        try:
            data = json.loads(match.group(2))
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            calls.append(ToolCall(call_id, "invalid", {"block": match.group(2)[:200]}))
            continue
        args = data.get("arguments", {})
        calls.append(ToolCall(call_id, data["name"], args if isinstance(args, dict) else {}))
    return calls


def _fenced(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") or not text else text + "\n"
    return f"{fence}\n{body}{fence}"


def text_results_message(calls: list[ToolCall], results: list[ToolResult]) -> str:
    """The user message that answers a text-protocol turn."""
    parts = ["Results of your tool calls:"]
    for call, result in zip(calls, results):
        parts.append(f"#### {call_summary(call)}\n{_fenced(result.text)}")
    return "\n\n".join(parts)
