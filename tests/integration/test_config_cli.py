"""`counterpoint config` and a run, as a user types them, in a repository whose own
`.counterpoint.toml` chooses a provider URL and defines checks."""

from tests.integration.test_cli import cp

REPO_CONFIG = (
    '[roles]\nreviewers = ["box:m"]\n'
    '[providers.box]\nbase_url = "http://127.0.0.1:9/v1"\n'
    '[[checks]]\nname = "tests"\ncommand = "python -m pytest -q"\n'
)


def test_run_refuses_a_repository_url_until_allowed(git_repo, tmp_path):
    (git_repo / ".counterpoint.toml").write_text(REPO_CONFIG)
    run = cp("run", "Validate add", "--generator", "replay:none.json", "--headless",
             cwd=git_repo)
    assert run.returncode == 2
    assert "providers.box.base_url: a repository's .counterpoint.toml may not choose" in run.stderr
    assert "counterpoint config --allow-urls" in run.stderr and "Traceback" not in run.stderr

    shown = cp("config", cwd=git_repo)
    assert shown.returncode == 0, shown.stderr
    assert "(NOT ALLOWED: counterpoint config --allow-urls)" in shown.stdout
    assert "provider URLs     NOT ALLOWED (box)" in shown.stdout
    assert "checks            off (run with --checks" in shown.stdout

    allowed = cp("config", "--allow-urls", "--allow-checks", cwd=git_repo)
    assert allowed.returncode == 0, allowed.stderr
    assert f"allowed for {git_repo}: providers.box.base_url = http://127.0.0.1:9/v1" in (
        allowed.stdout)
    assert "checks            on (your consent of " in allowed.stdout
    run = cp("run", "Validate add", "--generator", "replay:none.json", "--headless",
             cwd=git_repo)
    assert "may not choose" not in run.stderr  # past the settings (the cassette is missing)

    revoked = cp("config", "--revoke", cwd=git_repo)
    assert revoked.stdout.startswith(f"forgot what you allowed for {git_repo}\n")
    assert "NOT ALLOWED" in revoked.stdout


def test_consent_outside_a_repository_is_a_usage_error(tmp_path):
    proc = cp("config", "--allow-checks", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == "counterpoint: not in a git repository: consent is given per repository\n"
