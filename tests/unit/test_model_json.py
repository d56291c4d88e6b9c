"""The one JSON extractor for model answers (core.model_json), on a corpus of messy answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from counterpoint.core.findings import response_schema, review_schema
from counterpoint.core.model_json import JSONNotFound, extract_json, find_json, schema_errors

CORPUS = json.loads((Path(__file__).parents[1] / "data" / "messy_json_answers.json").read_text("utf-8"))
SCHEMAS = {"review": review_schema(), "response": response_schema()}


@pytest.mark.parametrize("case", CORPUS["cases"], ids=[c["name"] for c in CORPUS["cases"]])
def test_messy_answers_are_recovered_locally(case):
    schema = SCHEMAS[case["schema"]]
    data = extract_json(case["text"], schema)
    if not case["local"]:
        # Cut inside the last finding: the answer is the object as far as it goes (the caller
        # drops the incomplete finding with a reason, or spends the repair round-trip).
        assert data["summary"] == case["expect_summary"]
        assert schema_errors(data, schema)
        return
    assert schema_errors(data, schema) == []
    if case["expect_summary"] is not None:
        assert data["summary"] == case["expect_summary"]


def test_the_answer_wins_over_a_later_example_and_a_draft_in_reasoning():
    answer = '{"responses": [{"finding_id": "f", "stance": "agree", "reply": "done"}]}'
    text = f"<think>{{\"responses\": []}}</think>\n```json\n{answer}\n```\nE.g.:\n```json\n{{\"responses\": [...]}}\n```"
    assert extract_json(text, response_schema()) == json.loads(answer)
    # Without a schema the first complete value wins (the answer, not the example after it).
    assert extract_json('{"a": 1}\nlater: {"a": 2}') == {"a": 1}


def test_strict_values_come_before_repaired_ones():
    # Repair is spent only when no candidate parses as it is.
    assert extract_json('{"a": 1,}\n```json\n{"a": 2}\n```') == {"a": 2}
    assert extract_json("{'a': 1}") == {"a": 1}


def test_no_json_is_an_error_with_a_reason():
    with pytest.raises(JSONNotFound, match="not valid JSON"):
        extract_json("no json here")
    with pytest.raises(JSONNotFound, match="empty"):
        extract_json("   ")
    assert find_json("I cannot review this.") is None
    assert find_json("") is None


def test_plain_values_and_whole_text_first():
    assert extract_json("5") == 5
    assert extract_json('  {"a": "```json\\n{}\\n```"}  ') == {"a": "```json\n{}\n```"}
