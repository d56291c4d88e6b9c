"""The replay provider: cassette validation, per-role queues, chunking, pacing, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from counterpoint.core.findings import review_schema
from counterpoint.providers.base import (
    Completion,
    ModelRequest,
    Provider,
    ProviderError,
    TextDelta,
    complete,
)
from counterpoint.providers.replay import (
    ReplayProvider,
    load_cassette,
    split_text,
    write_cassette,
)


def cassette(tmp_path: Path, exchanges: list[dict], model: str = "openai:gpt-5.5") -> Path:
    path = tmp_path / "c.json"
    write_cassette(path, model, exchanges, scripted=True)
    return path


def request(role: str = "generator", schema: dict | None = None) -> ModelRequest:
    return ModelRequest(role=role, system="s", schema=schema)  # type: ignore[arg-type]


async def play(provider: ReplayProvider, req: ModelRequest) -> tuple[list[str], Completion]:
    deltas: list[str] = []
    async for item in provider.stream(req):
        if isinstance(item, TextDelta):
            deltas.append(item.text)
        else:
            return deltas, item
    raise AssertionError("no completion")


# -- format -------------------------------------------------------------------------------


def test_write_then_load_round_trips(tmp_path):
    path = cassette(tmp_path, [{"role": "generator", "round": 1, "text": "hi"}])
    data = load_cassette(path)
    assert data["format"] == "counterpoint-cassette" and data["version"] == 1
    assert data["scripted"] is True and data["exchanges"][0]["text"] == "hi"


def test_provider_identity_comes_from_the_cassette(tmp_path):
    provider = ReplayProvider(cassette(tmp_path, [], model="anthropic:claude-opus-5-5"))
    assert (provider.provider, provider.model, provider.spec) == (
        "anthropic",
        "claude-opus-5-5",
        "anthropic:claude-opus-5-5",
    )
    assert isinstance(provider, Provider)


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("not json {", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"format": "other", "version": 1, "model": "a:b", "exchanges": []}', "'format'"),
        ('{"format": "counterpoint-cassette", "version": 9, "model": "a:b", "exchanges": []}', "version 9"),
        ('{"format": "counterpoint-cassette", "version": 1, "exchanges": []}', "'model'"),
        ('{"format": "counterpoint-cassette", "version": 1, "model": "a:b"}', "'exchanges'"),
        (
            '{"format": "counterpoint-cassette", "version": 1, "model": "a:b",'
            ' "exchanges": [{"role": "critic", "text": "x"}]}',
            "role must be one of",
        ),
        (
            '{"format": "counterpoint-cassette", "version": 1, "model": "a:b",'
            ' "exchanges": [{"role": "reviewer"}]}',
            "neither 'text' nor 'chunks'",
        ),
        (
            '{"format": "counterpoint-cassette", "version": 1, "model": "a:b",'
            ' "exchanges": [{"role": "reviewer", "text": "ab", "chunks": ["a", "c"]}]}',
            "do not join up",
        ),
        (
            '{"format": "counterpoint-cassette", "version": 1, "model": "a:b",'
            ' "exchanges": [{"role": "reviewer", "text": "x", "error": {"kind": "nope"}}]}',
            "error kind",
        ),
        (
            '{"format": "counterpoint-cassette", "version": 1, "model": "a:b",'
            ' "exchanges": [{"role": "reviewer", "text": "x", "usage": {"input_tokens": -1}}]}',
            "non-negative",
        ),
        (
            '{"format": "counterpoint-cassette", "version": 1, "model": "a:b",'
            ' "exchanges": [{"role": "reviewer", "text": "x", "txet": "typo"}]}',
            "unknown keys: txet",
        ),
    ],
)
def test_broken_cassettes_fail_on_construction(tmp_path, content, fragment):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(ProviderError) as info:
        ReplayProvider(path)
    err = info.value
    assert err.kind == "cassette" and err.retryable is False
    assert str(path) in err.message and fragment in err.message


def test_missing_file_is_a_cassette_error(tmp_path):
    with pytest.raises(ProviderError, match="cannot read"):
        ReplayProvider(tmp_path / "absent.json")


def test_write_cassette_refuses_invalid_exchanges(tmp_path):
    path = tmp_path / "bad.json"
    with pytest.raises(ProviderError, match="role must be one of"):
        write_cassette(path, "a:b", [{"role": "boss", "text": "x"}], scripted=False)
    assert not path.exists()


# -- queues -------------------------------------------------------------------------------


async def test_each_role_has_its_own_queue_in_file_order(tmp_path):
    provider = ReplayProvider(
        cassette(
            tmp_path,
            [
                {"role": "generator", "text": "gen one"},
                {"role": "responder", "text": "resp one"},
                {"role": "generator", "text": "gen two"},
            ],
        )
    )
    assert provider.remaining("generator") == 2
    assert (await complete(provider, request("responder"))).text == "resp one"
    assert (await complete(provider, request("generator"))).text == "gen one"
    assert (await complete(provider, request("generator"))).text == "gen two"
    assert provider.played == {"planner": 0, "generator": 2, "reviewer": 0, "responder": 1}
    assert provider.remaining("generator") == 0


async def test_exhausted_queue_names_cassette_role_and_count(tmp_path):
    path = cassette(tmp_path, [{"role": "reviewer", "text": "{}"}])
    provider = ReplayProvider(path)
    await complete(provider, request("reviewer"))
    with pytest.raises(ProviderError) as info:
        await complete(provider, request("reviewer"))
    err = info.value
    assert err.kind == "cassette" and not err.retryable
    assert str(path) in err.message and "reviewer" in err.message and "1 of 1 played" in err.message
    with pytest.raises(ProviderError, match="no planner exchange left"):
        await complete(provider, request("planner"))


async def test_rewind_marks_exchanges_as_played(tmp_path):
    provider = ReplayProvider(
        cassette(tmp_path, [{"role": "generator", "text": f"g{i}"} for i in range(3)])
    )
    provider.rewind_to({"generator": 2})
    assert provider.remaining("generator") == 1
    assert (await complete(provider, request())).text == "g2"
    provider.rewind_to({})
    assert (await complete(provider, request())).text == "g0"
    with pytest.raises(ProviderError, match="holds 3 generator"):
        provider.rewind_to({"generator": 4})


# -- streaming ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain words here",
        "def handle(self):\n    return   200\n\n",
        "a_very_long_identifier_without_spaces\tand tabs  ",
        "   leading and trailing   ",
    ],
)
def test_split_text_joins_back_exactly_and_stays_small(text):
    pieces = split_text(text)
    assert "".join(pieces) == text
    assert all(len(piece.strip()) <= 4 for piece in pieces)


async def test_stream_yields_token_like_deltas_then_one_completion(tmp_path):
    text = "Here is the change.\n\n```python\nprint('hello world')\n```\n"
    provider = ReplayProvider(
        cassette(
            tmp_path,
            [
                {
                    "role": "generator",
                    "text": text,
                    "usage": {"input_tokens": 1200, "output_tokens": 40, "cached_input_tokens": 900},
                    "stop_reason": "max_tokens",
                }
            ],
        )
    )
    deltas, done = await play(provider, request())
    assert len(deltas) > 10 and "".join(deltas) == text == done.text
    assert done.usage.input_tokens == 1200 and done.usage.cached_input_tokens == 900
    assert done.stop_reason == "max_tokens" and done.data is None


async def test_explicit_chunks_are_streamed_as_given(tmp_path):
    provider = ReplayProvider(
        cassette(tmp_path, [{"role": "generator", "chunks": ["Hel", "lo, ", "world"]}])
    )
    deltas, done = await play(provider, request())
    assert deltas == ["Hel", "lo, ", "world"] and done.text == "Hello, world"
    assert done.stop_reason == "end_turn"


async def test_schema_request_parses_text_or_uses_data(tmp_path):
    review = {"summary": "ok", "verdict": "approve", "findings": []}
    provider = ReplayProvider(
        cassette(
            tmp_path,
            [
                {"role": "reviewer", "text": json.dumps(review)},
                {"role": "reviewer", "text": "prose", "data": {"summary": "x"}},
                {"role": "reviewer", "text": "Sure:\n```json\n" + json.dumps(review) + "\n```\n"},
                {"role": "reviewer", "text": "I cannot produce JSON today"},
            ],
        )
    )
    schema = review_schema()
    assert (await complete(provider, request("reviewer", schema))).data == review
    assert (await complete(provider, request("reviewer", schema))).data == {"summary": "x"}
    assert (await complete(provider, request("reviewer", schema))).data == review
    with pytest.raises(ProviderError) as info:
        await complete(provider, request("reviewer", schema))
    assert info.value.kind == "bad-output" and info.value.partial_text == "I cannot produce JSON today"


async def test_error_mid_stream_keeps_partial_text_and_counts_as_played(tmp_path):
    provider = ReplayProvider(
        cassette(
            tmp_path,
            [
                {
                    "role": "generator",
                    "chunks": ["one ", "two ", "three ", "four"],
                    "error": {"kind": "overloaded", "message": "Overloaded", "after_chunks": 2},
                },
                {"role": "generator", "text": "second try works"},
            ],
        )
    )
    deltas: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for item in provider.stream(request()):
            deltas.append(item.text)
    err = info.value
    assert deltas == ["one ", "two "]
    assert err.kind == "overloaded" and err.retryable and err.partial_text == "one two "
    assert (err.provider, err.model) == ("openai", "gpt-5.5")
    assert (await complete(provider, request())).text == "second try works"


async def test_error_before_any_chunk(tmp_path):
    provider = ReplayProvider(
        cassette(
            tmp_path,
            [{"role": "reviewer", "text": "", "error": {"kind": "auth", "message": "bad key", "retryable": False, "status": 401}}],
        )
    )
    with pytest.raises(ProviderError) as info:
        await complete(provider, request("reviewer"))
    assert (info.value.kind, info.value.status, info.value.retryable, info.value.partial_text) == (
        "auth",
        401,
        False,
        "",
    )


async def test_speed_zero_never_sleeps(tmp_path):
    text = "word " * 2000
    provider = ReplayProvider(
        cassette(tmp_path, [{"role": "generator", "text": text, "latency_ms": 5000}]), speed=0
    )
    started = time.monotonic()
    _, done = await play(provider, request())
    assert done.text == text
    assert time.monotonic() - started < 1.0


async def test_speed_paces_the_stream_roughly(tmp_path):
    # 40 chunks at 100 tok/s x speed 2 = 200 chunks/s -> ~0.2 s, plus 200 ms / 2 latency.
    chunks = [f"c{i} " for i in range(40)]
    provider = ReplayProvider(
        cassette(tmp_path, [{"role": "generator", "chunks": chunks, "latency_ms": 200}]),
        speed=2,
        tokens_per_second=100,
    )
    started = time.monotonic()
    first_at = None
    async for item in provider.stream(request()):
        if first_at is None:
            first_at = time.monotonic() - started
    total = time.monotonic() - started
    assert 0.08 <= first_at < 0.3
    assert 0.25 <= total < 0.9
