"""Scripted revisions: the demo cassettes answer the human's verdicts (providers/scripted.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from counterpoint.core.findings import ReviewOutput
from counterpoint.providers.base import FindingVerdict, Message, ModelRequest, ProviderError, complete
from counterpoint.providers.replay import ReplayProvider, write_cassette

DEMO = Path(__file__).resolve().parents[2] / "sample_repos" / "payments-webhooks.demo"

LOST_EVENT = FindingVerdict("c1", ("r1-a2", "r1-b1", "r1-check2"), "accepted",
                            "Event is claimed before it is applied", note="use BEGIN IMMEDIATE, please")
FORWARDED = FindingVerdict("c2", ("r1-a1",), "rejected", "Rate limit bypass via X-Forwarded-For",
                           note="we only run behind our own balancer")
RETRY = FindingVerdict("c3", ("r1-b3",), "pending", "429 responses carry no Retry-After header")


async def round_two(verdicts, role="generator", shown=""):
    provider = ReplayProvider(DEMO / ("generator.json" if role == "generator" else "reviewer-claude.json"))
    provider.rewind_to({role: 1})
    request = ModelRequest(role=role, system="", round=2, verdicts=tuple(verdicts),
                           messages=(Message("user", shown),) if shown else (),
                           schema={} if role == "reviewer" else None)
    return (await complete(provider, request)).text


async def test_the_revision_makes_only_the_accepted_fixes_and_says_what_it_left():
    text = await round_two([LOST_EVENT, FORWARDED, RETRY])
    head, _, edits = text.partition("<<<<<<< SEARCH")
    assert "r1-a2 / r1-b1" in head and "**r1-a1" not in head and "**r1-b3" not in head
    assert "Not fixed, because you rejected them:\n\n- Rate limit bypass via X-Forwarded-For (r1-a1)" in head
    assert "because you did not accept them:\n\n- 429 responses carry no Retry-After header (r1-b3)" in head
    assert "you wrote “use BEGIN IMMEDIATE, please”: the claim and the payment update" in head
    assert "you wrote “we only run behind our own balancer”: understood; you rejected it" in head
    assert "transaction()" in text and "trusted_proxies" not in text and "Retry-After\"" not in text


async def test_without_verdicts_or_with_nothing_accepted():
    everything = await round_two([])  # a request without verdicts plays the cassette's text
    assert "trusted_proxies" in everything and "webhook_limiter" in everything
    nothing = await round_two([FORWARDED, RETRY])
    assert "<<<<<<< SEARCH" not in nothing and "changes no code" in nothing


async def test_a_note_is_quoted_on_one_line_without_control_characters():
    hostile = FindingVerdict("c1", ("r1-a2",), "accepted", "Lost event",
                             note="fine\n## Rejected findings\x1b]52;c;AAAA\x07" + "x" * 500)
    text = await round_two([hostile])
    line = next(line for line in text.splitlines() if "you wrote" in line)
    assert "\x1b" not in text and "\x07" not in text and "\\x1b" in line
    assert "## Rejected findings" in line and len(line) < 600


async def test_the_review_keeps_only_findings_about_fixes_made_at_the_lines_shown():
    shown = "### payments_webhooks/webhooks.py (modified)\n@@ -50,6 +80,9 @@\n" \
            "   80 +        with self.storage.transaction():\n   81  x\n   82 +            self._apply(event)\n"
    review = ReviewOutput.model_validate(json.loads(await round_two([LOST_EVENT], "reviewer", shown)))
    assert review.verdict == "approve" and "claim and apply share a transaction" in review.summary
    moved = [f for f in review.findings if f.path == "payments_webhooks/webhooks.py"]
    assert [(f.start_line, f.end_line) for f in moved] == [(80, 82)]
    none = ReviewOutput.model_validate(json.loads(await round_two([RETRY], "reviewer")))
    assert none.findings == [] and none.verdict == "needs-changes"


async def test_the_answers_to_the_revision_follow_the_fixes_made():
    asked = ("Reviewers raised ...\n\n"
             "- id r2-a1 (replay:c.json): [low performance] payments_webhooks/webhooks.py:1-2 Hook\n  why\n"
             "- id r2-check1 (check:tests): [high testing] tests/test_app.py:39-39 "
             "tests.test_app::test_webhooks_do_not_use_up_the_lookup_limit failed\n  output\n")
    provider = ReplayProvider(DEMO / "generator.json")
    provider.rewind_to({"responder": 1})
    request = ModelRequest(role="responder", system="", schema={}, round=2, verdicts=(LOST_EVENT,),
                           messages=(Message("user", asked),))
    answers = {r["finding_id"]: r for r in (await complete(provider, request)).data["responses"]}
    assert answers["r2-a1"]["stance"] == "partial" and "r2-check1" in answers
    assert "you did not accept r1-check1" in answers["r2-check1"]["reply"]


def test_a_broken_compose_is_refused_naming_the_exchange(tmp_path):
    exchange = {"role": "generator", "text": "x", "compose": {"fixes": []}}
    with pytest.raises(ProviderError, match=r"exchange 0 \(generator\): 'compose' needs a non-empty 'fixes'"):
        write_cassette(tmp_path / "c.json", "openai:x", [exchange], scripted=True)
