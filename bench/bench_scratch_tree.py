"""Benchmark: a scratch tree of a 5,000-file repository (target <= 0.3 s).

A committed repository of 5,000 files (50 folders, ~1 KB each), a few dirty and untracked
files, and a proposal touching three files: `ScratchTrees.create` (temporary index, `add -A`,
the proposal's blobs, `write-tree`, `checkout-index`) timed over several runs, and its
removal apart (it runs off the critical path, in a worker thread). Also the tree id alone,
which is what a cached baseline costs.
Run: .venv/bin/python bench/bench_scratch_tree.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import git, isolated_home

FILES = 5000
RUNS = 7


def build(root: Path) -> Path:
    repo = root / "repo"
    for i in range(FILES):
        path = repo / f"pkg{i % 50}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"value_{n} = {i * n}\n" for n in range(60)))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "init")
    git(repo, "gc", "-q")  # objects packed, as in a real repository
    for i in range(5):
        (repo / f"pkg{i}" / f"mod{i}.py").write_text("dirty = True\n")
        (repo / f"untracked{i}.py").write_text("new = True\n")
    return repo


def main() -> None:
    isolated_home()
    with tempfile.TemporaryDirectory() as tmp:
        repo = build(Path(tmp))
        measure(repo, None, "in memory (the default: XDG_RUNTIME_DIR or /dev/shm)")
        measure(repo, Path(tmp) / "on-disk", f"on disk ({tmp})")


def measure(repo: Path, base: Path | None, where: str) -> None:
    from counterpoint.workspace.scratch import ScratchTrees

    trees = ScratchTrees(repo, base)
    proposal = {"pkg1/mod1.py": "changed = 1\n", "pkg2/mod2.py": None, "new/thing.py": "x = 1\n"}
    trees.create(proposal).close()  # warm the page cache and git's stat cache
    made, removed, ids = [], [], []
    for _ in range(RUNS):
        started = time.perf_counter()
        tree = trees.create(proposal)
        made.append(time.perf_counter() - started)
        started = time.perf_counter()
        tree.close()
        removed.append(time.perf_counter() - started)
        started = time.perf_counter()
        trees.tree_id()
        ids.append(time.perf_counter() - started)
    median = statistics.median(made)
    print(f"{where}:")
    print(f"scratch tree of {FILES} files: median {median:.3f} s, best {min(made):.3f} s, "
          f"worst {max(made):.3f} s over {RUNS} runs (target <= 0.3 s: {'ok' if median <= 0.3 else 'MISSED'})")
    print(f"removal (off the critical path): median {statistics.median(removed):.3f} s")
    print(f"tree id only (a cached baseline): median {statistics.median(ids):.3f} s")


if __name__ == "__main__":
    main()
