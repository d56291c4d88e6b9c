"""Shared by the benchmarks that drive real SDKs: the fake model server and a scratch repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the fake server lives in tests/fakes
    sys.path.insert(0, str(ROOT))

ANTHROPIC_KEY = "sk-ant-bench-not-a-real-key-000000"
OPENAI_KEY = "sk-proj-bench-not-a-real-key-000000"


def fake_server():
    """A started fake model server (tests/fakes); call .stop() when done."""
    from tests.fakes.model_server import ModelServer

    return ModelServer().start()


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def scratch_repo(source: Path | None = None) -> Path:
    """A committed git repository in a temp dir: a copy of `source`, or one small file."""
    root = Path(tempfile.mkdtemp(prefix="cp-bench-"))
    repo = root / "repo"
    if source is not None:
        shutil.copytree(source, repo)
    else:
        repo.mkdir()
        (repo / "app.py").write_text("def add(a, b):\n    return a + b\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.email=b@example.com", "-c", "user.name=bench", "add", "-A")
    git(repo, "-c", "user.email=b@example.com", "-c", "user.name=bench", "commit", "-qm", "init")
    return repo


def isolated_home() -> Path:
    """A throwaway COUNTERPOINT_HOME (journals) for this process."""
    home = Path(tempfile.mkdtemp(prefix="cp-bench-home-"))
    os.environ["COUNTERPOINT_HOME"] = str(home)
    os.environ["COUNTERPOINT_CONFIG"] = str(home / "none.toml")
    return home


def make_factory(server):
    """spec -> a real SDK provider pointed at the fake server."""
    from counterpoint.providers.anthropic_provider import AnthropicProvider
    from counterpoint.providers.openai_provider import OpenAIProvider

    def make(spec: str, *_: object):
        api, _, model = spec.partition(":")
        if api == "anthropic":
            return AnthropicProvider(model, api_key=ANTHROPIC_KEY,
                                     base_url=server.anthropic_base_url, max_retries=0)
        return OpenAIProvider(model, api_key=OPENAI_KEY, base_url=server.openai_base_url,
                              max_retries=0)

    return make
