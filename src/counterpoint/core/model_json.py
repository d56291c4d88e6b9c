"""The one JSON extractor for model answers, and the small schema checker it validates with.

A model asked for one JSON object may wrap it in prose, a ```json fence, a `<think>` block,
or a later "for example" block, and may write JSON5-ish text: trailing commas, comments,
single quotes, Python's True/None, smart quotes, raw newlines in strings, or stop mid-object.
`extract_json` finds the answer locally before anyone spends a repair round-trip:

1. candidates, in order: the whole text, each fenced json block (then untagged, jsonc, json5
   blocks), then the first complete object starting at each `{` (`raw_decode`, so prose with
   braces after it does not matter). Reasoning in `<think>…</think>` is left out, unless
   nothing is found without it;
2. each candidate strictly (control characters allowed inside strings), then, only if no
   strict candidate validates, repaired by `json_repair` (a library made for this);
3. with a schema, the first candidate that validates wins (the answer over a later example);
   else the one with the fewest schema errors (the caller reports them); without a schema,
   the first value.

The checker covers the subset of JSON Schema the answer schemas use (type, enum, properties,
required, additionalProperties: false, items, anyOf); it is not a general validator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import json_repair

__all__ = ["JSONNotFound", "extract_json", "find_json", "schema_errors"]


class JSONNotFound(ValueError):
    """No usable JSON in a model's answer (the message says why)."""


_FENCE = re.compile(r"^[ \t]*```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)\n?[ \t]*```", re.DOTALL | re.MULTILINE)
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?(?:</\1>|\Z)", re.DOTALL | re.IGNORECASE)
_THINK_END = re.compile(r"</(?:think|thinking|reasoning)>", re.IGNORECASE)
_DECODER = json.JSONDecoder(strict=False)
_MAX_STARTS = 40
"""How many `{` positions are tried with raw_decode (an answer has few top-level objects)."""
_MAX_REPAIR = 1_000_000
"""Longest candidate handed to the repairer (it is pure Python; a huge answer is not JSON)."""


def _without_reasoning(text: str) -> str:
    text = _THINK.sub("", text)
    ends = list(_THINK_END.finditer(text))  # a closing tag whose opening the server dropped
    return text[ends[-1].end() :] if ends else text


def _fenced(text: str) -> list[str]:
    blocks = [(lang.lower(), body) for lang, body in _FENCE.findall(text)]
    tagged = [body for lang, body in blocks if lang == "json"]
    return tagged + [body for lang, body in blocks if lang in ("", "jsonc", "json5")]


def _strict(text: str) -> Iterator[Any]:
    """Values parsed strictly: the whole text, fenced blocks, raw objects at each `{`."""
    for whole in [text, *_fenced(text)]:
        try:
            value = _DECODER.decode(whole.strip())
        except ValueError:
            continue
        yield value
    pos, tried = text.find("{"), 0
    while pos != -1 and tried < _MAX_STARTS:
        tried += 1
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        yield value
        pos = text.find("{", end)


def _repaired(text: str) -> Iterator[Any]:
    """Values the repairer makes of the fenced blocks and of the text from its first `{`."""
    starts = [text.find(c) for c in "{["]
    start = min((s for s in starts if s != -1), default=-1)
    pieces = _fenced(text) + ([text[start:]] if start != -1 else [])
    for piece in pieces:
        if len(piece) > _MAX_REPAIR:
            continue
        try:
            value = json_repair.loads(piece, skip_json_loads=True)
        except Exception:  # the repairer's own failure is one more unusable candidate
            continue
        # Several top-level values come back as a list; an object among them is the answer.
        for item in value if isinstance(value, list) and piece.lstrip()[:1] == "{" else [value]:
            if isinstance(item, (dict, list)) and item:
                yield item


def _first_error(text: str) -> str:
    try:
        _DECODER.decode(text.strip())
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return "no JSON value found"


def extract_json(text: str, schema: dict[str, Any] | None = None) -> Any:
    """The JSON answer in `text` (see the module docstring); `JSONNotFound` says why not."""
    if not text.strip():
        raise JSONNotFound("the answer was empty")
    sources = [_without_reasoning(text)]
    if sources[0] != text:
        sources.append(text)
    for source in sources:
        closest: list[tuple[int, Any]] = []  # (error count, value) of the best invalid one
        for values in (_strict(source), _repaired(source)):
            for value in values:
                errors = 0 if schema is None else len(schema_errors(value, schema))
                if not errors:
                    return value
                if not closest or errors < closest[0][0]:
                    closest = [(errors, value)]
        if closest:
            return closest[0][1]
    raise JSONNotFound(f"the answer is not valid JSON ({_first_error(text)})")


def find_json(text: str, schema: dict[str, Any] | None = None) -> Any | None:
    """Like `extract_json`, but None when there is no JSON at all."""
    try:
        return extract_json(text, schema)
    except JSONNotFound:
        return None


# --------------------------------------------------------------------------------------------
# The schema checker
# --------------------------------------------------------------------------------------------

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
