"""Credentials written into a provider's base URL (`http://user:pass@host/?key=...`) never
appear in an error message, on stderr or stdout, or in the session journal."""

from __future__ import annotations

import pytest
from fakes import failure

from counterpoint import cli
from counterpoint.providers.openai_provider import OpenAIProvider
from support.fake_models import (
    TASK,
    dead_url,
    events,
    fake_env,
    journal_files,
    script_round,
    session_args,
    write_config,
)
from tests.integration.test_providers_openai import text_request

USER, PASSWORD, QUERY_KEY = "alice-user", "pa55-w0rd-SECRET", "q-key-SECRET-42"
SECRETS = (USER, PASSWORD, QUERY_KEY)


def with_credentials(url: str, query: bool = True) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{USER}:{PASSWORD}@{rest}" + (f"?key={QUERY_KEY}&x=1" if query else "")


def assert_clean(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked: {text[:300]}"


@pytest.mark.parametrize("fault", ["500", "refuse"])
async def test_provider_errors_never_show_url_credentials(model_server, fault):
    url = dead_url() + "/v1" if fault == "refuse" else model_server.openai_base_url
    if fault == "500":
        model_server.script({"fault": "500", "error_message": f"bad request to {with_credentials(url)}"})
    # (a query string would break the SDK's routing on the fake server: the 500 echoes it)
    base = with_credentials(url, query=fault == "refuse")
    made = OpenAIProvider("gpt-test-1", api_key="sk-test-0123456789", base_url=base,
                          timeout=0.5, connect_timeout=0.5, max_retries=0, max_retry_after=1,
                          backoff=0.01)
    try:
        err = await failure(made, text_request())
    finally:
        await made.aclose()
    assert_clean(err.message, str(err), repr(made))
    assert "127.0.0.1" in err.message or "500" in err.message


def test_the_journal_and_output_hold_no_url_credentials(
    model_server, git_repo, tmp_path, monkeypatch, capsys, counterpoint_home
):
    generator, reviewers = "openai:gpt-5.5", ["anthropic:claude-opus-5-5", "openai:gpt-5.5-mini"]
    script_round(model_server, generator, reviewers)
    env = fake_env(model_server, openai_url=with_credentials(dead_url() + "/v1"),
                   config=write_config(tmp_path / "cp.toml", timeout=1))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(git_repo)
    code = cli.main(["run", TASK, *session_args(generator, reviewers), "--headless", "--json"])
    out, err = capsys.readouterr()
    assert code == 1, err
    (failed,) = [e for e in events(out) if e["event"] == "step_failed"]
    assert failed["kind"] == "connection" and "could not connect" in failed["message"]
    (journal,) = journal_files(counterpoint_home)
    assert_clean(out, err, journal.read_text())
