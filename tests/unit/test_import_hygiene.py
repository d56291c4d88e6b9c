"""The headless layers never load Textual (or Rich), and no SDK is imported before use."""

import subprocess
import sys

import pytest

HEADLESS = [
    "counterpoint.core.findings", "counterpoint.core.events", "counterpoint.core.edits",
    "counterpoint.core.changeset", "counterpoint.core.alignment", "counterpoint.core.journal",
    "counterpoint.core.session", "counterpoint.core.prompts", "counterpoint.core.pricing",
    "counterpoint.core.context", "counterpoint.workspace", "counterpoint.workflow.orchestrator",
    "counterpoint.workflow.demo", "counterpoint.workflow.sessions", "counterpoint.providers.base",
    "counterpoint.providers.replay", "counterpoint.providers.registry",
    "counterpoint.providers.anthropic_provider", "counterpoint.providers.openai_provider",
    "counterpoint.export", "counterpoint.headless", "counterpoint.config", "counterpoint.cli",
]


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_load_textual_or_sdks(module):
    mods = loaded_after(f"import {module}")
    assert "textual" not in mods, f"{module} loads textual"
    assert "rich" not in mods, f"{module} loads rich"
    assert "anthropic" not in mods and "openai" not in mods, f"{module} loads an SDK"


def test_core_does_not_touch_git_or_network():
    mods = loaded_after("import counterpoint.core.session, counterpoint.core.alignment, "
                        "counterpoint.core.context, counterpoint.core.journal")
    for name in ("git", "httpx2", "socket_server", "urllib.request"):
        assert name not in mods


def test_the_index_parsing_workers_do_not_import_numpy():
    # each worker of a cold index imports the index package: numpy (for the corpus) would
    # cost each one ~60 ms before it parses anything
    assert "numpy" not in loaded_after("import counterpoint.core.index")


def test_the_settings_do_not_import_the_retrieval_code():
    # the TUI loads the settings before its first frame: numpy and the index are not needed
    # for them (ContextRules lives in core.secrets)
    loaded = loaded_after("import counterpoint.config")
    assert "numpy" not in loaded and "counterpoint.core.retrieval" not in loaded
