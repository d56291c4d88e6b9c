"""The structured-output helpers: extraction, the small schema checker, redaction."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from counterpoint.core.findings import response_schema, review_schema
from counterpoint.providers.sdk_support import redact, retry_after_seconds
from counterpoint.providers.structured import (
    BadOutput,
    minimal_instance,
    parse_structured,
    schema_errors,
)

FINDING = {
    "path": "a.py", "start_line": 1, "end_line": 3, "severity": "low", "category": "docs",
    "title": "t", "rationale": "r", "suggestion": None, "confidence": 0.5,
}


def test_parse_structured_repairs_locally_before_any_round_trip():
    text = "Review:\n```json\n{'summary': 's', 'verdict': 'approve', 'findings': [],}\n```\nThanks {x}"
    assert parse_structured(text, review_schema()) == {"summary": "s", "verdict": "approve", "findings": []}
    with pytest.raises(BadOutput, match="not valid JSON"):
        parse_structured("no json here", review_schema())
    with pytest.raises(BadOutput, match="empty"):
        parse_structured("   ", review_schema())


def test_schema_errors_name_the_path_and_problem():
    schema = review_schema()
    good = {"summary": "s", "verdict": "approve", "findings": [FINDING]}
    assert schema_errors(good, schema) == []
    bad = {"summary": 1, "verdict": "maybe", "findings": [{**FINDING, "extra": 1, "start_line": 1.5}],
           "x": 0}
    errors = schema_errors(bad, schema)
    assert "$.summary: expected string, got integer" in errors
    assert any(e.startswith("$.verdict: \"maybe\" is not one of") for e in errors)
    assert "$.findings[0].start_line: expected integer, got number" in errors
    assert "$.findings[0]: unexpected property 'extra'" in errors
    assert "$: unexpected property 'x'" in errors
    assert schema_errors({"responses": [{}]}, response_schema())[0].startswith("$.responses[0]: missing")
    assert schema_errors(True, {"type": "integer"}) == ["$: expected integer, got boolean"]


def test_parse_structured_raises_with_reason():
    with pytest.raises(BadOutput, match="missing required property 'findings'"):
        parse_structured('{"summary": "s", "verdict": "approve"}', review_schema())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["summary", "verdict", "findings", "path", "start_line", "severity", "confidence", "x"]),
        inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(json_values, st.builds(
    lambda f: {"summary": "s", "verdict": "approve", "findings": [f]},
    st.fixed_dictionaries({k: st.sampled_from([v, None, 1, "x", 0.5]) for k, v in FINDING.items()}))))
def test_checker_agrees_with_jsonschema(value):
    schema = review_schema()
    valid = jsonschema.Draft202012Validator(schema).is_valid(value)
    assert (schema_errors(value, schema) == []) == valid


def test_minimal_instances_are_valid():
    for schema in (review_schema(), response_schema()):
        jsonschema.validate(minimal_instance(schema), schema)


def test_redaction():
    key = "my-very-secret-key-123"
    assert "my-very-secret" not in redact(f"bad key {key}", key)
    assert redact("Authorization: Bearer abc.def", None) == "Authorization: Bearer [redacted]"
    assert "sk-ant-api03-abcdefgh" not in redact("key sk-ant-api03-abcdefghijk", None)


def test_retry_after_parsing():
    assert retry_after_seconds({"retry-after": "3"}) == 3
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert retry_after_seconds({}) is None
