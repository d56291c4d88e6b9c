"""What is sent to models: secrets and excludes never, the budget kept, output stable."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from counterpoint.core.context import (
    REASON_BINARY,
    REASON_BUDGET,
    REASON_EXCLUDED,
    REASON_SECRET_CONTENT,
    REASON_SECRET_NAME,
    ContextRules,
    build_context,
    estimate_tokens,
    is_secret_path,
    looks_secret,
    map_budget_tokens,
    matches_glob,
    repo_map,
    select_files,
)

FAKE_OPENAI = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0" * 2
FAKE_ANTHROPIC = "sk-ant-api03-" + "x" * 40
PRIVATE_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


def test_secret_paths():
    secret = [
        ".env", "app/.env", ".env.local", ".env.production", "certs/server.pem", "tls.key",
        "id_rsa", "home/.ssh/id_rsa.pub", "id_ed25519", "store.p12", "store.pfx", ".npmrc",
        ".pypirc", ".netrc", "credentials.json", "config/client_secret.json", "SECRETS.yaml",
        ".aws/config", "deploy/.ssh/known_hosts", "release.keystore", "prod.tfvars",
        "terraform.tfstate", ".git-credentials", "Credentials",
    ]
    for path in secret:
        assert is_secret_path(path), path
    safe = [
        "app.py", "src/environment.py", "docs/keys.md", "keyboard.py", "README.md",
        ".env.example", "src/.envrc.md", "tests/test_app.py", "monkey.py", "pem.py",
    ]
    for path in safe:
        assert not is_secret_path(path), path


def test_secret_content():
    for text in (
        PRIVATE_KEY,
        "-----BEGIN RSA PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----",
        f'OPENAI_API_KEY = "{FAKE_OPENAI}"',
        f"key={FAKE_ANTHROPIC}",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYab",
        "token: ghp_" + "a" * 36,
        "slack = 'xoxb-1234567890-abcdefghij'",
        "stripe = 'sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "'",
        "rk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",  # at the very start of a file
        "AKIAIOSFODNN7EXAMPLE",
        "github_pat_" + "a" * 22,
        "AIza" + "b" * 35,
        "x" * 5000 + "\nkey = ghp_" + "a" * 36,  # deep in a large file
    ):
        assert looks_secret(text), text
    for text in (
        "def add(a, b):\n    return a + b\n",
        'api_key = os.environ["OPENAI_API_KEY"]',
        "the task-based approach: risk-analysis",
        "key = 'sk-your-key-here'",
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
        # the tokens' shapes inside longer words are not tokens (a word boundary before them)
        "XAKIAIOSFODNN7EXAMPLE",
        "task-" + "a" * 30,
        "-sk-" + "a" * 30,
        "aghp_" + "a" * 36,
        "_github_pat_" + "a" * 22,
        "ork_live_" + "c" * 20,
        "k_live_" + "c" * 20,
        "xAIza" + "b" * 35,
    ):
        assert not looks_secret(text), text


def test_glob_matching():
    assert matches_glob("*.lock", "poetry.lock")
    assert matches_glob("*.lock", "web/package.lock")
    assert not matches_glob("*.lock", "lockfile.py")
    assert matches_glob("node_modules", "web/node_modules/x/index.js")
    assert matches_glob("vendor/", "vendor/lib/a.go")
    assert not matches_glob("vendor/", "src/vendor.go")
    assert matches_glob("docs/**/*.md", "docs/a.md")
    assert matches_glob("docs/**/*.md", "docs/x/y/a.md")
    assert not matches_glob("docs/**/*.md", "src/docs/a.md")
    assert matches_glob("src/generated", "src/generated/a.py")
    assert matches_glob("/build", "build/out.js")
    assert matches_glob("**/*", "a/b/c.txt")
    assert matches_glob("src/*.py", "src/a.py") and not matches_glob("src/*.py", "src/x/a.py")


def test_build_context_drops_secrets_excludes_and_binaries():
    files = {
        "app.py": "def add(a, b):\n    return a + b\n",
        ".env": "OPENAI_API_KEY=whatever\n",
        "deploy/id_rsa": PRIVATE_KEY,
        "server.key": "irrelevant",
        "settings.py": f'API_KEY = "{FAKE_OPENAI}"\n',
        "poetry.lock": "[[package]]\n",
        "logo.png": "\x89PNG\x00\x00",
        "notes.md": "nothing secret\n",
    }
    rules = ContextRules(exclude=("*.lock",))
    bundle = build_context(
        "Fix add in app.py; also read .env", files, sorted(files), rules
    )
    assert bundle.included == ("app.py", "notes.md")
    assert bundle.omitted == {
        ".env": REASON_SECRET_NAME,
        "deploy/id_rsa": REASON_SECRET_NAME,
        "server.key": REASON_SECRET_NAME,
        "settings.py": REASON_SECRET_CONTENT,
        "poetry.lock": REASON_EXCLUDED,
        "logo.png": REASON_BINARY,
    }
    text = "".join(bundle.blocks)
    for needle in ("OPENAI_API_KEY=whatever", "PRIVATE KEY", FAKE_OPENAI, "[[package]]", "PNG"):
        assert needle not in text
    # Secret and excluded names are not even in the map.
    for name in (".env", "id_rsa", "server.key", "poetry.lock"):
        assert name not in bundle.blocks[0]
    assert "settings.py" in bundle.blocks[0]  # its name is harmless, only its content is not
    assert bundle.blocks[-1] == "## Task\n\nFix add in app.py; also read .env\n"
    assert "### app.py\n```python\ndef add(a, b):\n    return a + b\n```\n" in bundle.blocks[1]


def test_touched_or_named_secret_is_reported_even_if_not_given():
    bundle = build_context(
        "rotate the key in config/.env.production",
        {"app.py": "x = 1\n"},
        ["app.py", "config/.env.production"],
        ContextRules(),
        touched=["certs/new.pem"],
    )
    assert bundle.omitted == {
        "certs/new.pem": REASON_SECRET_NAME,
        "config/.env.production": REASON_SECRET_NAME,
    }


def test_named_dotfile_secret_is_reported():
    bundle = build_context("print .env please", {}, ["app.py", ".env"], ContextRules())
    assert bundle.omitted == {".env": REASON_SECRET_NAME}
    assert bundle.included == ()
    assert len(bundle.blocks) == 2  # map and task, no empty files block


def test_select_files_skips_touched_paths_that_do_not_exist_yet():
    chosen = select_files("add a module", ["app.py"], ContextRules(), touched=["new.py", "app.py"])
    assert chosen == ["app.py"]


def test_budget_is_respected_and_named_files_win():
    rules = ContextRules(budget_tokens=4000)
    files = {f"pkg/mod{i:02}.py": f"# module {i}\n" + "x = 1\n" * 300 for i in range(20)}
    task = "Refactor pkg/mod17.py and the helpers in mod03.py"
    bundle = build_context(task, files, sorted(files), rules)
    assert bundle.tokens <= rules.budget_tokens
    assert sum(estimate_tokens(block) for block in bundle.blocks) <= rules.budget_tokens
    assert "pkg/mod17.py" in bundle.included and "pkg/mod03.py" in bundle.included
    assert 2 <= len(bundle.included) < 20
    assert set(bundle.included) | set(bundle.omitted) == set(files)
    assert set(bundle.omitted.values()) == {REASON_BUDGET}


def test_plan_tokens_are_reserved_and_plan_names_count():
    files = {"a.py": "a = 1\n" * 200, "b.py": "b = 1\n" * 200}
    rules = ContextRules(budget_tokens=1100)
    plan = "Step 1: change b.py\n" + "detail " * 400
    bundle = build_context("tidy up", files, sorted(files), rules, plan=plan)
    assert bundle.tokens + estimate_tokens(plan) <= rules.budget_tokens
    assert bundle.included == ("b.py",)
    assert all(plan not in block for block in bundle.blocks)


def test_deterministic_regardless_of_input_order():
    paths = [f"src/pkg{i % 7}/file{i}.py" for i in range(200)] + ["README.md", ".env"]
    files = {p: f"# {p}\nvalue = {len(p)}\n" for p in paths[:40]}
    rules = ContextRules(exclude=("*9.py",), budget_tokens=3000)
    first = build_context("fix src/pkg3/file10.py", files, paths, rules, touched=["README.md"])
    for seed in range(5):
        shuffled_paths = paths[:]
        random.Random(seed).shuffle(shuffled_paths)
        items = list(files.items())
        random.Random(seed).shuffle(items)
        again = build_context(
            "fix src/pkg3/file10.py", dict(items), shuffled_paths, rules, touched=["README.md"]
        )
        assert again == first
        assert "".join(again.blocks).encode() == "".join(first.blocks).encode()


def test_fence_longer_than_backticks_in_content():
    content = "Example:\n````\n```python\nx\n```\n````\n"
    bundle = build_context("edit README.md", {"README.md": content}, ["README.md"], ContextRules())
    assert "### README.md\n`````markdown\n" + content + "`````\n" in bundle.blocks[1]


def test_repo_map_small_is_full_tree():
    text = repo_map(["b.py", "src/a/x.py", "src/a/y.py", "src/b.py", ".ssh/id_rsa"], ContextRules())
    assert text == "4 files:\nsrc/\n  a/\n    x.py\n    y.py\n  b.py\nb.py\n"


def test_repo_map_collapses_large_trees_within_its_share():
    rules = ContextRules(budget_tokens=8000)
    paths = [f"pkg{a}/sub{b}/deep{c}/module_{d}.py" for a in range(8) for b in range(8)
             for c in range(4) for d in range(10)]
    text = repo_map(paths, rules)
    assert estimate_tokens(text) <= map_budget_tokens(rules)
    assert text.startswith(f"{len(paths)} files:\n")
    assert "pkg0/" in text and "pkg7/" in text  # every top-level directory is still named
    assert " files)" in text  # collapsed directories say how many files they hold


def test_repo_map_truncates_when_even_collapsed_too_long():
    rules = ContextRules(budget_tokens=1000)
    paths = [f"dir_with_a_long_name_{i:04}/f.py" for i in range(3000)]
    text = repo_map(paths, rules)
    assert len(text) <= map_budget_tokens(rules) * 4
    assert text.endswith("… (map truncated)\n")


def test_select_files_ranks_mentions_then_touched_then_tests_and_words():
    paths = [
        "src/shop/webhooks.py", "src/shop/models.py", "src/shop/__init__.py",
        "src/shop/rate_limit.py", "src/other/far.py", "tests/test_webhooks.py",
        "tests/test_far.py", "src/shop/.env", "docs/guide.md", "src/billing/invoice.py",
    ]
    chosen = select_files(
        "In webhooks.py add rate limiting per client, see shop.models",
        paths,
        ContextRules(),
        touched=["src/billing/invoice.py"],
    )
    assert chosen[:2] == ["src/shop/models.py", "src/shop/webhooks.py"]  # module, file name
    assert chosen[2] == "src/billing/invoice.py"  # edited by the proposal
    assert set(chosen[3:5]) == {"tests/test_webhooks.py", "src/shop/rate_limit.py"}  # test, words
    assert "src/shop/.env" not in chosen
    assert "src/other/far.py" not in chosen and "docs/guide.md" not in chosen


def test_select_files_with_sizes_keeps_budget_and_sends_small_repos_whole():
    paths = [f"m{i}.py" for i in range(10)]
    small = {p: 100 for p in paths}
    assert select_files("anything", paths, ContextRules(), sizes=small) == sorted(paths)
    big = {p: 40_000 for p in paths}
    chosen = select_files("fix m3.py and m7.py", paths, ContextRules(budget_tokens=30_000),
                          sizes=big)
    assert chosen == ["m3.py", "m7.py"]


def test_select_files_never_returns_excluded_or_secret():
    paths = ["app.py", "app.lock", "secrets.py", "id_ed25519"]
    chosen = select_files("app.py app.lock secrets.py id_ed25519", paths,
                          ContextRules(exclude=("*.lock",)), touched=["id_ed25519"],
                          sizes={p: 10 for p in paths})
    assert chosen == ["app.py"]


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(
        st.sampled_from(["a.py", ".env", "id_rsa", "x.pem", "b.lock", "c.md", "secret.txt",
                         "d.py", "credentials.ini", "e.txt"]),
        min_size=1, max_size=10, unique=True,
    ),
    dirs=st.lists(st.sampled_from(["", "src/", ".ssh/", "pkg/.aws/", "lib/"]), min_size=10,
                  max_size=10),
    contents=st.lists(st.sampled_from(["x = 1\n", PRIVATE_KEY, FAKE_ANTHROPIC, "z" * 3000]),
                      min_size=10, max_size=10),
    budget=st.integers(min_value=1000, max_value=6000),
)
def test_property_nothing_secret_or_excluded_and_budget_kept(names, dirs, contents, budget):
    files = {d + n: c for d, n, c in zip(dirs, names, contents)}
    rules = ContextRules(exclude=("*.lock",), budget_tokens=budget)
    bundle = build_context("change a.py " + " ".join(files), files, sorted(files), rules)
    text = "".join(bundle.blocks)
    assert "PRIVATE KEY" not in text and FAKE_ANTHROPIC not in text
    for path in bundle.included:
        assert not is_secret_path(path) and not path.endswith(".lock")
    assert set(bundle.included).isdisjoint(bundle.omitted)
    assert set(bundle.included) | set(bundle.omitted) == set(files)
    task_and_map = estimate_tokens(bundle.blocks[0]) + estimate_tokens(bundle.blocks[-1])
    if task_and_map <= budget:
        assert bundle.tokens <= budget


def test_symlink_is_judged_by_its_target():
    from counterpoint.core.context import allowed_paths, rule_reason

    rules = ContextRules(exclude=("vendor/",))
    assert rule_reason("guide.md", rules, target="config/secrets.yaml") == REASON_SECRET_NAME
    assert rule_reason("guide.md", rules, target="vendor/lib.py") == REASON_EXCLUDED
    assert rule_reason("guide.md", rules, target="docs/guide.md") is None
    targets = {"guide.md": "config/secrets.yaml", "link.py": "src/real.py"}
    paths = ["guide.md", "link.py", "src/real.py"]
    assert allowed_paths(paths, rules, targets) == ["link.py", "src/real.py"]
    files = {"guide.md": "harmless looking text\n", "link.py": "x = 1\n"}
    bundle = build_context("read guide.md", files, paths, rules, targets=targets)
    assert bundle.omitted == {"guide.md": REASON_SECRET_NAME}
    assert "guide.md" not in "".join(bundle.blocks[:-1])


def test_globs_have_gitignore_semantics():
    rules = ContextRules(exclude=("docs/", "!docs/api.md", "*.min.js"))
    assert select_files("x", ["docs/a.md", "docs/api.md", "web/app.min.js", "a.py"], rules,
                        sizes={"docs/a.md": 1, "docs/api.md": 1, "web/app.min.js": 1, "a.py": 1}
                        ) == ["a.py", "docs/api.md"]
    assert matches_glob("**/*", "top.py")
    assert matches_glob("build/**", "build/x/y.o") and not matches_glob("build/**", "src/build.py")
