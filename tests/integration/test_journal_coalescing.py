"""A long model answer is journaled in a few coalesced delta lines, not one per token, and
the session folded from that journal holds exactly the streamed text."""

from __future__ import annotations

import json

from support.fake_models import cp, journal_files
from counterpoint.core.journal import FLUSH_CHARS, read_journal
from counterpoint.core.session import Session
from tests.support.cassettes import cassette, exchange, review

LINE = "word " * 12 + "\n"


def test_a_long_answer_is_a_few_journal_lines_and_rebuilds_exactly(git_repo, tmp_path,
                                                                   counterpoint_home):
    text = "I explain at length.\n\n" + LINE * 8000  # ~490 KB: ~120,000 stream pieces
    gen = cassette(tmp_path / "gen.json", "openai:gpt-5.5", [exchange("generator", text)])
    rev = cassette(tmp_path / "rev.json", "anthropic:claude-opus-5-5",
                   [exchange("reviewer", data=review(verdict="approve"))])
    proc = cp("run", "Explain", "--generator", gen, "--reviewer", rev, "--headless",
              cwd=git_repo)
    assert proc.returncode in (0, 1), proc.stderr
    (journal,) = journal_files(counterpoint_home)
    events = read_journal(journal).events
    deltas = [e for e in events if e.event == "delta" and e.step == "generate"]
    assert 1 <= len(deltas) <= len(text) // FLUSH_CHARS + 40, len(deltas)
    # the text twice (the deltas, then the proposal), not ~25 times as one line per token
    assert journal.stat().st_size < 2.2 * len(text) + 20_000
    session = Session.from_events(events)
    assert session.round(1).text("generate", "openai:gpt-5.5") == text
    assert session.round(1).proposal.text == text


def test_a_long_answer_reaches_the_listeners_as_a_few_deltas(git_repo, tmp_path, counterpoint_home):
    """`--json` prints every event the orchestrator emits: a long answer is a few hundred
    delta events (the stream batched as it arrives), not one per token, and they join up
    to exactly the model's text."""
    text = "I explain at length.\n\n" + LINE * 8000  # ~120,000 stream pieces
    gen = cassette(tmp_path / "gen.json", "openai:gpt-5.5", [exchange("generator", text)])
    rev = cassette(tmp_path / "rev.json", "anthropic:claude-opus-5-5",
                   [exchange("reviewer", data=review(verdict="approve"))])
    proc = cp("run", "Explain", "--generator", gen, "--reviewer", rev, "--headless", "--json",
              cwd=git_repo)
    assert proc.returncode in (0, 1), proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    deltas = [e["text"] for e in events if e.get("event") == "delta" and e["step"] == "generate"]
    assert "".join(deltas) == text
    assert 1 <= len(deltas) <= 1000, len(deltas)
