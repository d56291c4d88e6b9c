"""The tool loop: the model asks, the tool runs, the result goes back, the model goes on.

`with_tools(provider, request, tools, on_tool)` streams like `Provider.stream` (text deltas
of every turn, then one `Completion`), but offers the read-only tools of `core/tools.py`
first: natively (`ModelRequest.tools`: Anthropic tool use, OpenAI function calling) or, for
an OpenAI-compatible server configured without tool support (`provider.tool_protocol ==
"text"`), as the plain-text protocol (a fenced `tool` block in the answer, parsed once when
the answer is complete, the results in the next user message). Every call runs through
`workspace.lookup.RepoLookup` (the never-sent rules) within the step's `ToolBudget`; past
the bounds calls are refused with a reason, and a model that keeps calling fails the step.
The final `Completion` carries the usage of every request of the step.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

from counterpoint.core.context import ContextRules
from counterpoint.core.tools import (
    TOOLS,
    ToolBounds,
    ToolBudget,
    ToolCall,
    ToolResult,
    parse_text_calls,
    text_protocol_instruction,
    text_results_message,
)
from counterpoint.providers.base import (
    Completion,
    Message,
    ModelRequest,
    Provider,
    ProviderError,
    StreamItem,
    TextDelta,
    Usage,
    incomplete_stream,
)
from counterpoint.workflow.context import index_workspace
from counterpoint.workspace import Workspace
from counterpoint.workspace.lookup import RepoLookup

OnTool = Callable[[ToolCall, ToolResult, int], None]
"""Called with each call, its result and the turn (1: the step's first request)."""

EXTRA_TURNS = 2
"""Answers a model may still give with tool calls once its calls are spent (each refused)."""


@dataclass
class ToolSession:
    """What one step may use: the repository lookup and the bounds."""

    lookup: RepoLookup
    bounds: ToolBounds = field(default_factory=ToolBounds)

    @classmethod
    def of(cls, workspace: Workspace, rules: ContextRules, bounds: ToolBounds) -> ToolSession:
        """A step's tools on `workspace`: a fresh listing, the index built when first asked."""
        lookup = RepoLookup(workspace, rules, index=lambda: index_workspace(workspace, rules)[2])
        return cls(lookup, bounds)


def protocol_of(provider: Provider, role: str = "generator") -> str:
    """"native" (the provider sends tools on its wire format) or "text"; a cassette says
    how its exchanges of `role` were recorded."""
    recorded = getattr(provider, "tool_protocol_for", None)
    if callable(recorded):
        return str(recorded(role))
    return str(getattr(provider, "tool_protocol", "native"))


def offered(provider: Provider, request: ModelRequest) -> ModelRequest:
    """`request` with the tools offered the way `provider` takes them."""
    if protocol_of(provider, request.role) == "text":
        instruction = text_protocol_instruction()
        system = f"{request.system}\n\n{instruction}" if request.system else instruction
        return replace(request, system=system, tools=())
    return replace(request, tools=TOOLS)


async def with_tools(
    provider: Provider, request: ModelRequest, tools: ToolSession, on_tool: OnTool
) -> AsyncIterator[StreamItem]:
    text_mode = protocol_of(provider, request.role) == "text"
    asked = offered(provider, request)
    budget = ToolBudget(tools.bounds)
    usage = Usage()
    turns = 0
    while True:
        done: Completion | None = None
        async for item in provider.stream(asked):
            if isinstance(item, TextDelta):
                yield item
            else:
                done = item
        if done is None:
            raise incomplete_stream(provider.provider, provider.model)
        usage = usage + done.usage
        calls = list(parse_text_calls(done.text) if text_mode else done.tool_calls)
        if not calls:
            yield replace(done, usage=usage, tool_calls=())
            return
        turns += 1
        if turns > tools.bounds.max_calls + EXTRA_TURNS:
            raise ProviderError(
                provider=provider.provider, model=provider.model, kind="bad-output",
                message=f"the model kept calling tools past this step's bounds "
                        f"({tools.bounds.max_calls} calls)",
                retryable=False, partial_text=done.text,
            )
        results = []
        for call in calls:
            refusal = budget.refusal()
            if refusal is not None:
                result = ToolResult(call.id, call.name, refusal, refused=True)
                budget.calls += 1
            else:
                text, refused = tools.lookup.run(call)
                result = budget.answer(call, text, refused=refused)
            on_tool(call, result, turns)
            results.append(result)
        separator = "\n\n"
        yield TextDelta(separator)
        if text_mode:
            turn = (Message("assistant", done.text),
                    Message("user", text_results_message(calls, results)))
        else:
            turn = (Message("assistant", done.text, tool_calls=tuple(calls)),
                    Message("user", "", tool_results=tuple(results)))
        asked = replace(asked, messages=asked.messages + turn)
