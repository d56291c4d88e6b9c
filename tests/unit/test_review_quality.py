"""The reviewer quality gate's judgement (core/review_quality.py): empty, names no file, too
short for the change; a review with findings or a change with no changed line is never weak."""

from __future__ import annotations

import pytest

from counterpoint.core import prompts
from counterpoint.core.changeset import ChangeSet
from counterpoint.core.review_quality import judge_review, names_a_file, words_wanted


def change(lines: int, path: str = "src/pay/webhooks.py") -> ChangeSet:
    """A new file of `lines` lines: that many changed lines."""
    return ChangeSet.from_contents({path: None}, {path: "".join(f"x = {i}\n" for i in range(lines))})


def test_an_empty_review_is_weak():
    quality = judge_review("  ", 0, change(5))
    assert quality.weak and quality.reason is not None and "empty" in quality.reason


def test_a_summary_that_names_no_file_is_weak_however_long():
    summary = "Looks good to me, nice and clean, I would ship this change as it stands today."
    quality = judge_review(summary, 0, change(5))
    assert quality.weak and "names no file" in (quality.reason or "")


@pytest.mark.parametrize("summary", [
    "webhooks.py looks right.",
    "src/pay/webhooks.py looks right.",
    "`WEBHOOKS.PY` looks right",
    "Checked (webhooks.py): fine",
])
def test_naming_a_file_by_path_or_base_name_is_enough_for_a_small_change(summary):
    assert not judge_review(summary, 0, change(49)).weak


def test_a_longer_name_holding_the_file_name_does_not_count():
    assert not names_a_file("mywebhooks.py and webhooks.pyc are fine", ["webhooks.py"])
    assert not names_a_file("webhooks.py-old is fine", ["webhooks.py"])
    assert names_a_file("see webhooks.py.", ["webhooks.py"])


def test_words_wanted_grow_with_the_change_and_stop_at_thirty():
    assert [words_wanted(n) for n in (0, 49, 50, 120, 299, 300, 5000)] == [0, 0, 5, 12, 29, 30, 30]


def test_a_short_summary_of_a_large_change_is_weak():
    quality = judge_review("webhooks.py is fine.", 0, change(400))
    assert quality.weak
    assert quality.reason == (
        "no findings, and a 3-word summary for 400 changed lines (at least 30 words wanted)"
    )
    enough = "webhooks.py: " + " ".join(["checked"] * 29)
    assert not judge_review(enough, 0, change(400)).weak


def test_a_review_with_a_finding_is_not_judged():
    assert not judge_review("", 1, change(400)).weak


def test_nothing_changed_nothing_to_review():
    empty = ChangeSet.from_contents({}, {})
    assert not judge_review("", 0, empty).weak


def test_the_firmer_instruction_names_every_file_and_asks_for_findings_or_a_reason_per_file():
    text = prompts.firmer_review_message("empty: no findings and no summary", ["a.py", "lib/b.py"])
    assert "empty: no findings and no summary" in text
    assert "- a.py\n- lib/b.py\n" in text
    assert "For every file listed" in text and "justify" in text
