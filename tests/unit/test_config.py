"""Settings: layering, strict validation with clear messages, describe, writing."""

import tomllib

import pytest

from counterpoint.config import (
    ConfigError,
    describe,
    dotted,
    load_settings,
    parse_dotted,
    save_user_setting,
    user_config_path,
)
from counterpoint.core.context import ContextRules
from counterpoint.core.pricing import DEFAULT_PRICES, Price


@pytest.fixture(autouse=True)
def user_dir(tmp_path, monkeypatch):
    """Keep the user's real config out of every test (platformdirs honours XDG)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "counterpoint"


def user_file(text):
    path = user_config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def repo_file(repo, text):
    repo.mkdir(exist_ok=True)
    path = repo / ".counterpoint.toml"
    path.write_text(text)
    return path


def env_file(tmp_path, monkeypatch, text, name="env.toml"):
    path = tmp_path / name
    path.write_text(text)
    monkeypatch.setenv("COUNTERPOINT_CONFIG", str(path))
    return path


def error_of(tmp_path, monkeypatch, text):
    path = env_file(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError) as info:
        load_settings()
    return path, str(info.value)


# --- defaults and layering -------------------------------------------------------------------


def test_defaults_without_any_file(user_dir):
    assert user_config_path() == user_dir / "config.toml"
    settings = load_settings()
    assert settings.generator is None and settings.reviewers == () and settings.planner is None
    assert settings.context == ContextRules()
    assert settings.prices == DEFAULT_PRICES
    anthropic = settings.providers["anthropic"]
    assert (anthropic.kind, anthropic.api_key_env, anthropic.base_url) == (
        "anthropic", "ANTHROPIC_API_KEY", None)
    assert settings.providers["openai"].api_key_env == "OPENAI_API_KEY"
    assert settings.providers["ollama"].base_url == "http://127.0.0.1:11434/v1"
    assert settings.sources["roles.generator"] == "default"


def test_missing_env_file_is_an_empty_layer(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTERPOINT_CONFIG", str(tmp_path / "does-not-exist.toml"))
    assert load_settings().generator is None


def test_unreadable_env_file_is_an_error(tmp_path, monkeypatch):
    directory = tmp_path / "a-directory.toml"
    directory.mkdir()
    monkeypatch.setenv("COUNTERPOINT_CONFIG", str(directory))
    with pytest.raises(ConfigError, match="a-directory.toml: cannot read"):
        load_settings()


def test_layers_override_in_order_and_record_sources(tmp_path, monkeypatch):
    user = user_file(
        '[roles]\ngenerator = "openai:gpt-5.5"\nreviewers = ["anthropic:claude-opus-5-5"]\n'
        '[ui]\ntheme = "counterpoint-light"\n[context]\nbudget_tokens = 30000\n'
    )
    repo = tmp_path / "repo"
    repo_cfg = repo_file(repo, '[roles]\nreviewers = ["openai:gpt-5.5-mini", "ollama:qwen3"]\n'
                               '[context]\nexclude = ["*.lock"]\n')
    env = env_file(tmp_path, monkeypatch, '[context]\nbudget_tokens = 90000\n')
    settings = load_settings(repo)
    assert settings.generator == "openai:gpt-5.5"
    assert settings.reviewers == ("openai:gpt-5.5-mini", "ollama:qwen3")
    assert settings.theme == "counterpoint-light"
    assert settings.context == ContextRules(exclude=("*.lock",), budget_tokens=90000)
    assert settings.sources["roles.generator"] == str(user)
    assert settings.sources["roles.reviewers"] == str(repo_cfg)
    assert settings.sources["context.budget_tokens"] == str(env)
    assert settings.sources["context.include"] == "default"
    assert [label for label, _, _ in settings.files] == ["user", "repo", "COUNTERPOINT_CONFIG"]
    assert all(exists for _, _, exists in settings.files)


def test_without_repo_root_the_repo_file_is_not_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repo_file(tmp_path, '[roles]\ngenerator = "openai:gpt-5.5"\n')
    assert load_settings().generator is None
    assert load_settings(tmp_path).generator == "openai:gpt-5.5"


def test_empty_planner_means_none(tmp_path, monkeypatch):
    user_file('[roles]\nplanner = "openai:gpt-5.5"\n')
    env_file(tmp_path, monkeypatch, '[roles]\nplanner = ""\n')
    assert load_settings().planner is None


def test_named_provider_and_price_override(tmp_path, monkeypatch):
    path = env_file(
        tmp_path,
        monkeypatch,
        '[roles]\nreviewers = ["box:llama4"]\n'
        '[providers.box]\nbase_url = "http://127.0.0.1:9999/v1"\ntimeout = 120\n'
        'max_retries = 0\n'
        '[prices."openai:gpt-5.5"]\noutput = 12.5\n'
        '[prices."box:llama4"]\ninput = 0.1\noutput = 0.2\n',
    )
    settings = load_settings()
    box = settings.providers["box"]
    assert (box.kind, box.base_url, box.api_key_env, box.timeout, box.max_retries) == (
        "openai", "http://127.0.0.1:9999/v1", None, 120.0, 0)
    base = DEFAULT_PRICES["openai:gpt-5.5"]
    assert settings.prices["openai:gpt-5.5"] == Price(base.input, 12.5, base.cached_input)
    assert settings.prices["box:llama4"] == Price(0.1, 0.2, 0.1)
    assert settings.sources['prices."openai:gpt-5.5".output'] == str(path)
    assert settings.sources['prices."openai:gpt-5.5".input'] == "default"
    assert settings.sources["providers.box.base_url"] == str(path)


def test_builtin_base_url_from_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:7000/v1")
    settings = load_settings()
    assert settings.providers["openai"].base_url == "http://127.0.0.1:7000/v1"
    assert settings.sources["providers.openai.base_url"] == "env"


# --- errors ----------------------------------------------------------------------------------


def test_syntax_error_names_file_and_line(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, '[roles]\ngenerator = "x:y"\nreviewers = [\n')
    assert message.startswith(f"{path}: line 3, column 1: invalid TOML")
    path, message = error_of(tmp_path, monkeypatch, '[roles]\n\ngenerator "openai:gpt-5.5"\n')
    assert message.startswith(f"{path}: line 3, column")


def test_unknown_top_level_and_nested_keys(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, '[rolez]\ngenerator = "openai:gpt-5.5"\n')
    assert message.startswith(f"{path}: rolez: unknown key")
    assert "roles" in message
    path, message = error_of(tmp_path, monkeypatch, '[roles]\nreviewer = ["openai:gpt-5.5"]\n')
    assert message == (
        f"{path}: roles.reviewer: unknown key (expected one of: generator, reviewers, planner)"
    )
    path, message = error_of(tmp_path, monkeypatch, '[providers.openai]\ntimout = 3\n')
    assert message.startswith(f"{path}: providers.openai.timout: unknown key")


def test_wrong_types(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, "[roles]\nreviewers = 3\n")
    assert message == (
        f"{path}: roles.reviewers: expected a list of model specs like 'openai:gpt-5.5', got 3"
    )
    cases = {
        "[providers.openai]\ntimeout = \"fast\"\n": ("providers.openai.timeout", "a number"),
        "[providers.openai]\nmax_retries = 1.5\n": ("providers.openai.max_retries", "an integer"),
        "[providers.openai]\nmax_retries = true\n": ("providers.openai.max_retries", "an integer"),
        "[context]\nbudget_tokens = -5\n": ("context.budget_tokens", "an integer >= 1000"),
        "[context]\nexclude = [1]\n": ("context.exclude", "a list of glob patterns"),
        "[ui]\ntheme = 7\n": ("ui.theme", "a theme name"),
        '[prices."openai:gpt-5.5"]\ninput = "cheap"\n': (
            'prices."openai:gpt-5.5".input', "a number"),
        "[providers.x]\nkind = \"gemini\"\nbase_url = \"http://h\"\n": (
            "providers.x.kind", '"openai" or "anthropic"'),
        "[providers.x]\nbase_url = \"ftp://h\"\n": ("providers.x.base_url", "an http://"),
        "roles = 1\n": ("roles", "a table"),
    }
    for text, (key, expected) in cases.items():
        path, message = error_of(tmp_path, monkeypatch, text)
        assert message.startswith(f"{path}: {key}: expected {expected}"), message
        assert ", got " in message


def test_malformed_spec(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, '[roles]\ngenerator = "gpt-5.5"\n')
    assert message == (
        f"{path}: roles.generator: expected a model spec like 'openai:gpt-5.5' (or \"\"),"
        " got 'gpt-5.5'"
    )
    path, message = error_of(tmp_path, monkeypatch, '[roles]\nreviewers = ["openai:", "x"]\n')
    assert message.startswith(f"{path}: roles.reviewers: expected a list of model specs")
    assert "got 'openai:'" in message


def test_unknown_provider_in_role(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, '[roles]\nreviewers = ["foo:bar"]\n')
    assert message.startswith(f"{path}: roles.reviewers: unknown provider 'foo' in 'foo:bar'")
    assert "anthropic, llamacpp, lmstudio, ollama, openai, replay, vllm" in message
    assert "[providers.foo]" in message


def test_provider_defined_in_another_layer_is_known(tmp_path, monkeypatch):
    user_file('[providers.foo]\nbase_url = "http://127.0.0.1:1/v1"\n')
    env_file(tmp_path, monkeypatch, '[roles]\nreviewers = ["foo:bar"]\n')
    assert load_settings().reviewers == ("foo:bar",)


def test_new_provider_needs_base_url_and_matching_structured(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, '[providers.foo]\ntimeout = 5\n')
    assert message.startswith(f"{path}: providers.foo.base_url: expected the server's URL")
    path, message = error_of(
        tmp_path, monkeypatch, '[providers.anthropic]\nstructured = "json_schema"\n')
    assert message == (
        f"{path}: providers.anthropic.structured: expected \"tool\" or \"output_config\""
        " for a provider of kind 'anthropic', got 'json_schema'"
    )
    path, message = error_of(tmp_path, monkeypatch, '[providers.openai]\nkind = "anthropic"\n')
    assert message.startswith(f"{path}: providers.openai.kind: expected 'openai'")
    path, message = error_of(tmp_path, monkeypatch, '[providers.replay]\nbase_url = "http://h"\n')
    assert "reserved" in message and message.startswith(f"{path}: providers.replay")


def test_price_for_unknown_model_needs_input_and_output(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, '[prices."openai:new"]\ninput = 1.0\n')
    assert message.startswith(f'{path}: prices."openai:new".output: expected a price')
    path, message = error_of(tmp_path, monkeypatch, '[prices.nospec]\ninput = 1.0\n')
    assert message.startswith(f"{path}: prices.nospec: expected a model spec")


def test_repository_file_cannot_choose_where_keys_go(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    path = repo_file(repo, '[providers.openai]\nbase_url = "https://collector.example/v1"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(repo)
    assert str(info.value).startswith(f"{path}: providers.openai.base_url: a repository's")
    path = repo_file(
        repo, '[providers.x]\nbase_url = "http://h/v1"\napi_key_env = "OPENAI_API_KEY"\n')
    with pytest.raises(ConfigError, match="providers.x.api_key_env: a repository's"):
        load_settings(repo)
    # Even a keyless server needs the user's consent (tests/unit/test_config_consent.py);
    # the user's own choice needs none.
    repo_file(repo, '[providers.ollama]\nbase_url = "http://127.0.0.1:11500/v1"\n')
    with pytest.raises(ConfigError, match="providers.ollama.base_url: a repository's"):
        load_settings(repo)
    repo_file(repo, "")
    user_file('[providers.openai]\nbase_url = "http://127.0.0.1:7/v1"\n')
    assert load_settings(repo).providers["openai"].base_url == "http://127.0.0.1:7/v1"


# --- describe --------------------------------------------------------------------------------


def test_describe_shows_sources_and_never_key_values(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET")
    monkeypatch.setenv("GW_KEY", "gw-SECRET-value")
    path = env_file(
        tmp_path,
        monkeypatch,
        '[roles]\ngenerator = "openai:gpt-5.5"\nreviewers = ["gw:m", "anthropic:claude-opus-5-5"]\n'
        '[providers.gw]\nbase_url = "https://user:pw-SECRET@gw.example/v1?key=SECRET"\n'
        'api_key_env = "GW_KEY"\n',
    )
    text = describe(load_settings())
    assert "SECRET" not in text and "pw-" not in text
    assert 'roles.generator = "openai:gpt-5.5"' in text
    generator_line = next(line for line in text.splitlines() if line.startswith("roles.generator"))
    assert generator_line.endswith(f"# {path}")
    assert "OPENAI_API_KEY (set)" in text
    assert "ANTHROPIC_API_KEY (NOT SET)" in text
    assert "GW_KEY (set)" in text
    assert "https://***@gw.example/v1?…" in text
    assert f"  COUNTERPOINT_CONFIG {path}\n" in text  # the files consulted come first
    assert "no price for gw:m" in text
    assert 'prices."openai:gpt-5.5" = input 1.25' in text


# --- writing ---------------------------------------------------------------------------------


def test_dotted_keys_round_trip():
    key = ("prices", "openai:gpt-5.5", "input")
    assert dotted(key) == 'prices."openai:gpt-5.5".input'
    assert parse_dotted(dotted(key)) == key
    assert parse_dotted("ui.theme") == ("ui", "theme")
    with pytest.raises(ConfigError):
        parse_dotted("ui..theme")


def test_save_user_setting_keeps_other_keys(user_dir):
    user_file('[roles]\ngenerator = "openai:gpt-5.5"\n[providers.box]\n'
              'base_url = "http://127.0.0.1:1/v1"\n')
    written = save_user_setting("ui.theme", "counterpoint-light")
    assert written == user_dir / "config.toml"
    doc = tomllib.loads(written.read_text())
    assert doc["roles"] == {"generator": "openai:gpt-5.5"}
    assert doc["providers"]["box"]["base_url"] == "http://127.0.0.1:1/v1"
    settings = load_settings()
    assert settings.theme == "counterpoint-light"
    assert settings.generator == "openai:gpt-5.5"
    save_user_setting("ui.theme", "counterpoint-dark")
    save_user_setting('prices."ollama:big".input', 0.0)
    save_user_setting('prices."ollama:big".output', 0.0)
    save_user_setting("roles.reviewers", ("anthropic:claude-opus-5-5",))
    settings = load_settings()
    assert settings.theme == "counterpoint-dark"
    assert settings.prices["ollama:big"] == Price(0.0, 0.0, 0.0)
    assert settings.reviewers == ("anthropic:claude-opus-5-5",)


def test_save_user_setting_creates_file_and_rejects_bad_values(user_dir):
    assert not (user_dir / "config.toml").exists()
    save_user_setting("ui.theme", "x")
    assert tomllib.loads((user_dir / "config.toml").read_text()) == {"ui": {"theme": "x"}}
    before = (user_dir / "config.toml").read_text()
    with pytest.raises(ConfigError, match="ui.colour: unknown key"):
        save_user_setting("ui.colour", "red")
    with pytest.raises(ConfigError, match="roles.generator: expected a model spec"):
        save_user_setting("roles.generator", "nocolon")
    assert (user_dir / "config.toml").read_text() == before
    assert list(user_dir.iterdir()) == [user_dir / "config.toml"]


# --- hostile files: clear messages, never a traceback ----------------------------------------


def test_deep_nesting_and_huge_numbers_are_config_errors(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert message == f"{path}: invalid TOML: arrays or tables nested too deeply"
    path, message = error_of(tmp_path, monkeypatch, "[ui]\ntheme = " + "[" * 300 + "]" * 300)
    assert message.startswith(f"{path}: ui.theme: expected a theme name") and len(message) < 300
    path, message = error_of(tmp_path, monkeypatch, "[context]\nbudget_tokens = " + "9" * 5000)
    assert message.startswith(f"{path}: invalid TOML: ")
    cases = {
        "[context]\nbudget_tokens = 12345678901234567890\n": (
            "context.budget_tokens", "an integer <= 2_000_000, got 12345678901234567890"),
        "[providers.openai]\ntimeout = 1e300\n": ("providers.openai.timeout", "a number <= "),
        "[providers.openai]\nmax_retries = 99999999999\n": (
            "providers.openai.max_retries", "an integer <= 20"),
        '[prices."openai:gpt-5.5"]\ninput = 1e30\n': ('prices."openai:gpt-5.5".input', "a number <="),
        '[[checks]]\nname = "t"\ncommand = "pytest"\ntimeout_s = 1e12\n': (
            "checks[0].timeout_s", "a number <= 86_400"),
    }
    for text, (key, expected) in cases.items():
        path, message = error_of(tmp_path, monkeypatch, text)
        assert message.startswith(f"{path}: {key}: expected {expected}"), message


def test_huge_values_are_shortened_in_messages(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, f'[ui]\ntheme = {"1" * 400}\n')
    assert message.startswith(f"{path}: ui.theme: expected a theme name")
    assert len(message) < len(str(path)) + 200 and message.endswith("…")


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    path, message = error_of(tmp_path, monkeypatch, "# " + "x" * (1 << 20) + "\n")
    assert message == f"{path}: larger than 1 MiB; not a settings file"


def test_bad_config_exits_2_with_the_message(tmp_path, monkeypatch, capsys):
    from counterpoint.cli import main

    env_file(tmp_path, monkeypatch, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["config"]) == 2
    assert "nested too deeply" in capsys.readouterr().err


# --- [[checks]] ------------------------------------------------------------------------------


def test_checks_in_every_layer_merge_by_name(tmp_path, monkeypatch):
    user = user_file('[[checks]]\nname = "lint"\ncommand = "ruff check ."\nformat = "sarif"\n'
                     '[[checks]]\nname = "tests"\ncommand = "pytest -x"\n')
    repo = tmp_path / "repo"
    repo_cfg = repo_file(repo, '[[checks]]\nname = "tests"\ncommand = "python -m pytest -q"\n'
                               'timeout_s = 120\nformat = "junit"\n')
    env = env_file(tmp_path, monkeypatch, '[[checks]]\nname = "types"\ncommand = "mypy"\n')
    settings = load_settings(repo)
    assert [(c.name, c.command, c.timeout_s, c.format) for c in settings.checks] == [
        ("lint", "ruff check .", 300.0, "sarif"),
        ("tests", "python -m pytest -q", 120.0, "junit"),
        ("types", "mypy", 300.0, None),
    ]
    assert settings.sources["checks.lint"] == str(user)
    assert settings.sources["checks.tests"] == str(repo_cfg)
    assert settings.sources["checks.types"] == str(env)
    assert "checks.tests = \"python -m pytest -q\", timeout_s 120, format junit" in describe(
        settings)


def test_bad_checks(tmp_path, monkeypatch):
    cases = {
        'checks = "pytest"\n': "checks: expected an array of tables ([[checks]]), got 'pytest'",
        '[[checks]]\ncommand = "pytest"\n': "checks[0].name: expected a check name like 'tests'",
        '[[checks]]\nname = "t"\n': "checks[0].command: expected a command line like",
        '[[checks]]\nname = "t"\ncommand = ""\n': "checks[0].command: expected a command line",
        '[[checks]]\nname = "a b"\ncommand = "x"\n': "checks[0].name: expected a check name of",
        '[[checks]]\nname = "t"\ncommand = "x"\nformat = "xml"\n': (
            "checks[0].format: expected \"junit\", \"sarif\" or \"text\", got 'xml'"),
        '[[checks]]\nname = "t"\ncommand = "x"\nenabled = true\n': (
            "checks[0].enabled: unknown key (expected one of: name, command, timeout_s, format)"),
        '[[checks]]\nname = "t"\ncommand = "x"\n[[checks]]\nname = "t"\ncommand = "y"\n': (
            "checks.t: expected a name no other check in this file uses, got 't'"),
    }
    for text, expected in cases.items():
        path, message = error_of(tmp_path, monkeypatch, text)
        assert message.startswith(f"{path}: {expected}"), message


def test_every_key_is_documented_and_strict():
    from counterpoint.config import models

    tables = [value for value in vars(models).values()
              if isinstance(value, type) and issubclass(value, models.Table)
              and value is not models.Table]
    assert len(tables) == 8
    # the docstring under each field, read from the source (pydantic is not asked to: it
    # would read the source on every start)
    import ast
    import inspect

    documented: dict[str, set[str]] = {}
    for node in ast.parse(inspect.getsource(models)).body:
        if isinstance(node, ast.ClassDef):
            body = node.body
            documented[node.name] = {
                field.target.id for field, after in zip(body, body[1:])
                if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str) and after.value.value.strip()
            }
    for table in tables:
        assert table.model_config["extra"] == "forbid"
        for name in table.model_fields:
            assert name in documented[table.__name__], f"{table.__name__}.{name} has no docstring"


def test_repository_file_that_is_not_a_regular_file(tmp_path):
    import os

    repo = tmp_path / "repo"
    repo.mkdir()
    os.mkfifo(repo / ".counterpoint.toml")  # reading it would block forever
    with pytest.raises(ConfigError) as info:
        load_settings(repo)
    assert str(info.value) == f"{repo / '.counterpoint.toml'}: cannot read: not a regular file"
