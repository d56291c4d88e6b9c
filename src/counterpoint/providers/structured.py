"""Structured output helpers shared by the real providers.

Models are asked for one JSON object matching a schema (`findings.review_schema()` or
`response_schema()`). Whatever mechanism was used (forced tool, `output_config`,
`response_format`, or a fenced block in plain text), the answer ends up here: extracted and
checked against the schema by `core.model_json` (repaired locally when it can be), so the
repair round-trip is spent only on answers no local repair makes valid.
"""

from __future__ import annotations

import json
import re
from typing import Any

from counterpoint.core.model_json import JSONNotFound, extract_json, schema_errors

__all__ = [
    "SCHEMA_FENCE",
    "BadOutput",
    "fenced_instruction",
    "minimal_instance",
    "parse_structured",
    "repair_instruction",
    "schema_errors",
    "tool_name",
]

SCHEMA_FENCE = "json-schema"
"""Fence language used to show the schema in the fenced-mode instruction (the fake model
server reads it back to answer sensibly)."""


def tool_name(schema_name: str | None) -> str:
    """A tool / json_schema name both APIs accept (`^[A-Za-z0-9_-]{1,64}$`)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "_", schema_name or "")[:64]
    return name or "answer"


class BadOutput(ValueError):
    """The structured answer could not be parsed or does not match the schema."""


def fenced_instruction(schema: dict[str, Any], schema_name: str | None) -> str:
    """The instruction for servers without a structured-output mechanism."""
    name = schema_name or "answer"
    return (
        f"Answer with exactly one fenced ```json block containing the {name} as a single JSON "
        "object that matches this JSON schema (every property is required; no other "
        "properties are allowed). Do not put anything after the block.\n"
        f"```{SCHEMA_FENCE}\n{json.dumps(schema, separators=(',', ':'))}\n```"
    )


def repair_instruction(error: str) -> str:
    """The follow-up message of the one repair request after a bad structured answer."""
    return (
        f"Your previous answer could not be used: {error}. Reply again with the corrected "
        "JSON object only, matching the required schema exactly."
    )


def parse_structured(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Extract, parse and validate a structured answer; raise `BadOutput` saying why not."""
    try:
        data = extract_json(text, schema)
    except JSONNotFound as exc:
        raise BadOutput(str(exc)) from None
    errors = schema_errors(data, schema)
    if errors:
        shown = "; ".join(errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise BadOutput(f"the JSON does not match the schema: {shown}{more}")
    return data


def minimal_instance(schema: dict[str, Any]) -> Any:
    """The smallest value that satisfies `schema` (used by the fake model server)."""
    if "anyOf" in schema:
        return minimal_instance(schema["anyOf"][0])
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {key: minimal_instance(props.get(key, {})) for key in schema.get("required", props)}
    return {"array": [], "string": "ok", "integer": 0, "number": 0, "boolean": False}.get(
        str(kind)
    )
