"""Copies the top-level `sample_repos/` and `themes/` into the wheel as `counterpoint/_data/`,
so `counterpoint demo` works from any directory after `pip install`."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("sample_repos", "themes")


class BuildWithData(build_py):
    def run(self):
        super().run()
        for name in BUNDLED:
            source = ROOT / name
            if not source.is_dir():
                continue
            target = Path(self.build_lib) / "counterpoint" / "_data" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                source,
                target,
                ignore=shutil.ignore_patterns(
                    "__pycache__", "*.pyc", ".pytest_cache", ".git", ".venv"
                ),
            )


setup(cmdclass={"build_py": BuildWithData})
