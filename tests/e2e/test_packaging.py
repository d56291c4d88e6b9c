"""A wheel built from the repo carries the sample repos and themes, so `counterpoint demo`
works from any directory after `pip install`."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_carries_sample_repos_and_themes_and_the_demo_runs_from_it(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("counterpoint-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "counterpoint/_data/sample_repos/payments-webhooks.demo/demo.json" in names
    assert any(n.startswith("counterpoint/_data/sample_repos/payments-webhooks/tests/") for n in names)
    assert "counterpoint/_data/themes/counterpoint-dark.toml" in names
    assert not any("__pycache__" in n for n in names)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
         "from counterpoint.cli import main; sys.exit(main(['demo', '--headless', '--json']))",
         str(site)],
        cwd=elsewhere, capture_output=True, text=True, timeout=180, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["rounds"] == 2 and summary["clusters"]
    check = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
         "import counterpoint.paths as p; print(p.bundled('themes'))", str(site)],
        cwd=elsewhere, capture_output=True, text=True, env=env,
    )
    assert check.stdout.strip().startswith(str(site))
