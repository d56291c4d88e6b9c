"""The plain-text tool protocol (servers without native tools) and the tools' wire shapes."""

from __future__ import annotations

from counterpoint.core.tools import (
    TOOL_NAMES,
    ToolCall,
    ToolResult,
    call_summary,
    parse_text_calls,
    text_protocol_instruction,
    text_results_message,
)


def test_fenced_tool_blocks_are_parsed_once_in_order():
    text = (
        "Let me look first.\n```tool\n"
        '{"name": "read_file", "arguments": {"path": "app.py", "start_line": 1, "end_line": 5}}\n'
        "```\nand\n````tool\n"
        '{"name": "search", "arguments": {"pattern": "def add"}}\n````\n'
        "```python\nnot a tool\n```\n```tool\nnot json\n```\n"
    )
    calls = parse_text_calls(text)
    assert [c.name for c in calls] == ["read_file", "search", "invalid"]
    assert calls[0] == ToolCall("text-1", "read_file", {"path": "app.py", "start_line": 1, "end_line": 5})
    assert calls[2].arguments == {"block": "not json"}
    assert parse_text_calls("plain answer, no ```tool``` block here") == []


def test_the_results_message_fences_hostile_results_and_names_each_call():
    call = ToolCall("text-1", "read_file", {"path": "a.md", "start_line": 2, "end_line": 3})
    result = ToolResult("text-1", "read_file", "```\n````\ninside\n")
    message = text_results_message([call], [result])
    assert message.startswith("Results of your tool calls:\n\n#### read_file(a.md, 2-3)\n`````\n")
    assert message.endswith("inside\n`````")
    assert call_summary(ToolCall("x", "search", {"pattern": "foo"})) == "search(foo)"


def test_the_instruction_names_every_tool():
    instruction = text_protocol_instruction()
    for name in TOOL_NAMES:
        assert f"- {name}(" in instruction
    assert "```tool" in instruction
