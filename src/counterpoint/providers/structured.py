"""Structured output helpers shared by the real providers.

Models are asked for one JSON object matching a schema (`findings.review_schema()` or
`response_schema()`). Whatever mechanism was used (forced tool, `output_config`,
`response_format`, or a fenced block in plain text), the answer ends up here: extracted,
parsed, and checked against the schema. The checker covers the subset of JSON Schema those
schemas use (type, enum, properties, required, additionalProperties: false, items, anyOf);
it is not a general validator, and jsonschema stays a test-only dependency.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)\n?[ \t]*```", re.DOTALL)

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


def last_fenced_json(text: str) -> str | None:
    """The body of the last fenced block tagged json (or untagged), if any."""
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    for wanted in (("json",), ("", "jsonc", "json5")):
        for lang, body in reversed(blocks):
            if lang in wanted:
                return body
    return None


def extract_json(text: str, *, fenced: bool = False) -> Any:
    """Parse a JSON answer out of `text`.

    Tries, in order: the whole text, the last fenced json block, the span from the first `{`
    to the last `}`. With `fenced=True` the fenced block is tried first (the model was asked
    for one and may have put prose around it).
    """
    candidates: list[str] = []
    block = last_fenced_json(text)
    stripped = text.strip()
    if fenced and block is not None:
        candidates.append(block)
    candidates.append(stripped)
    if not fenced and block is not None:
        candidates.append(block)
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    if not stripped:
        raise BadOutput("the answer was empty")
    error = ""
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            error = error or f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    raise BadOutput(f"the answer is not valid JSON ({error})")


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _type_ok(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(name, (object,)))


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every mismatch between `value` and `schema`, as readable `path: problem` lines."""
    if "anyOf" in schema:
        options = [schema_errors(value, option, path) for option in schema["anyOf"]]
        if any(not errors for errors in options):
            return []
        return [f"{path}: does not match any allowed form ({'; '.join(options[0])})"]
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_type_ok(value, name) for name in names):
            return [f"{path}: expected {' or '.join(names)}, got {_json_type(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v) for v in schema["enum"])
        return [f"{path}: {json.dumps(value)} is not one of {allowed}"]
    if isinstance(value, dict):
        return _object_errors(value, schema, path)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        errors: list[str] = []
        for index, item in enumerate(value):
            errors.extend(schema_errors(item, schema["items"], f"{path}[{index}]"))
        return errors
    return []


def _object_errors(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    """Wrong values first (the most specific problems), then unexpected and missing keys."""
    errors: list[str] = []
    properties: dict[str, Any] = schema.get("properties", {})
    for key, item in value.items():
        if key in properties:
            errors.extend(schema_errors(item, properties[key], f"{path}.{key}"))
    for key in value:
        if key not in properties and schema.get("additionalProperties") is False:
            errors.append(f"{path}: unexpected property {key!r}")
    for key in schema.get("required", []):
        if key not in value:
            errors.append(f"{path}: missing required property {key!r}")
    return errors


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _type_ok(value, name):
            return name
    return type(value).__name__


def parse_structured(text: str, schema: dict[str, Any], *, fenced: bool = False) -> dict[str, Any]:
    """Extract, parse and validate a structured answer; raise `BadOutput` saying why not."""
    data = extract_json(text, fenced=fenced)
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
