"""Benchmark: does the context hold the files a task is about?

Tasks come from a repository's git history: a commit's subject and body are the task, the
non-test source files it modified are the answer, and the context is chosen at the parent
commit, in a scratch clone (the repository itself is never touched). Reported: recall of the
answer files in the sent content (whole or in part) and in the content or the map, tokens
sent, index time cold (empty cache) and warm (same tree again), and the selection time: the
median over the tasks (each at its own commit, so the whole-repository corpus is built again)
and warm (the first task's tree again, everything cached, as `counterpoint context` twice).

    .venv/bin/python bench/bench_context.py                  # Counterpoint's own history
    .venv/bin/python bench/bench_context.py --repo PATH [--tasks 20] [--budget 60000]
    .venv/bin/python bench/bench_context.py --repo PATH --src OLD/src   # another version

`--src` runs the counterpoint package found there (e.g. `git archive` of an older commit):
versions before the index have no `gather_context`, so the bench drives their
`select_files` + `build_context` the way their orchestrator did, and counts a file as in
their map when its name is in the map block.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = frozenset(
    "py pyi js jsx mjs cjs ts tsx go rs java kt rb php c h cc cpp hpp cs swift scala".split()
)
_TRAILER = re.compile(r"^(?:[A-Z][\w-]+-by|Co-authored-by|Change-Id|Reviewed-on|Fixes|Closes):.*$",
                      re.MULTILINE | re.IGNORECASE)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True, errors="replace").stdout


def _is_test(path: str) -> bool:
    low = path.lower()
    parts = low.split("/")
    name = parts[-1]
    return (any(p in ("test", "tests", "testing", "__tests__", "spec") for p in parts[:-1])
            or name.startswith("test_") or name.split(".")[0].endswith(("_test", "_tests"))
            or ".test." in name or ".spec." in name or name == "conftest.py")


def tasks_of(repo: Path, count: int, max_answer: int = 4, scan: int = 600) -> list[dict]:
    """The most recent commits that modify 1..max_answer non-test source files."""
    out = _git(repo, "log", "--no-merges", f"-n{scan}", "--format=%x00%H%x01%P%x01%B",
               "--name-status", "--no-renames")
    tasks = []
    for record in out.split("\x00")[1:]:
        head, _, rest = record.partition("\x01")
        parents, _, body_and_files = rest.partition("\x01")
        if len(parents.split()) != 1:
            continue
        lines = body_and_files.rstrip("\n").split("\n")
        files: list[str] = []
        while lines and re.match(r"^[AMDT]\t", lines[-1]):
            status, path = lines.pop().split("\t", 1)
            if status == "M":
                files.append(path)
        message = _TRAILER.sub("", "\n".join(lines)).strip()
        answer = sorted(p for p in files if p.rsplit(".", 1)[-1] in CODE and not _is_test(p))
        if not answer or len(answer) > max_answer or len(message) < 12:
            continue
        tasks.append({"commit": head, "parent": parents.strip(), "task": message, "answer": answer})
        if len(tasks) >= count:
            break
    return tasks


def _map_names(bundle, answer: list[str]) -> set[str]:
    names = getattr(bundle, "map_files", None)
    if names is not None and names:
        return set(names)
    text = bundle.blocks[0]
    return {p for p in answer if re.search(r"(?m)^\s*" + re.escape(p.rsplit("/", 1)[-1]) + r"$", text)}


def _old_context(ws, task: str, rules):
    """How the orchestrator before the index chose and assembled the context."""
    from counterpoint.core.context import build_context, select_files

    all_paths = ws.list_files()
    chosen = select_files(task, all_paths, rules)
    files = {}
    for path in chosen:
        try:
            text = ws.read_text(path)
        except Exception:
            continue
        if text is not None:
            files[path] = text
    return build_context(task, files, all_paths, rules)


def run(repo: Path, count: int, budget: int) -> dict:
    from counterpoint.core.context import ContextRules
    from counterpoint.workspace import Workspace

    try:
        from counterpoint.workflow.context import gather_context, index_workspace
    except ImportError:
        gather_context = index_workspace = None
    rules = ContextRules(budget_tokens=budget)
    tasks = tasks_of(repo, count)
    scratch = Path(tempfile.mkdtemp(prefix="cp-bench-context-"))
    os.environ["COUNTERPOINT_HOME"] = str(scratch / "home")  # an empty index cache
    clone = scratch / "clone"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(repo), str(clone)],
                   check=True)
    rows = []
    cold = warm = again = None
    try:
        for number, t in enumerate(tasks):
            _git(clone, "checkout", "-q", "--force", "--detach", t["parent"])
            _git(clone, "clean", "-qfdx")
            ws = Workspace.open(clone)
            if index_workspace is not None:
                started = time.perf_counter()
                index_workspace(ws, rules)
                took = time.perf_counter() - started
                if number == 0:
                    cold = took
                    started = time.perf_counter()
                    index_workspace(ws, rules)
                    warm = time.perf_counter() - started
            started = time.perf_counter()
            if gather_context is not None:
                bundle = gather_context(ws, t["task"], rules)
            else:
                bundle = _old_context(ws, t["task"], rules)
            seconds = time.perf_counter() - started
            if number == 0 and gather_context is not None:  # the same tree again: all cached
                started = time.perf_counter()
                gather_context(ws, t["task"], rules)
                again = time.perf_counter() - started
            sent = {f.path for f in getattr(bundle, "files", ())} or set(bundle.included)
            in_map = _map_names(bundle, t["answer"])
            rows.append({
                "commit": t["commit"][:10],
                "answer": t["answer"],
                "content": sum(p in sent for p in t["answer"]) / len(t["answer"]),
                "either": sum(p in sent or p in in_map for p in t["answer"]) / len(t["answer"]),
                "tokens": bundle.tokens,
                "files": len(sent),
                "seconds": seconds,
            })
        files = len(_git(clone, "ls-files").splitlines())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def mean(key: str) -> float:
        return statistics.fmean(r[key] for r in rows) if rows else 0.0

    return {
        "repo": repo.parent.name if repo.name in ("repo", ".git") else repo.name,
        "files": files,
        "tasks": len(rows),
        "recall_content": round(mean("content"), 3),
        "recall_content_or_map": round(mean("either"), 3),
        "tokens_mean": round(mean("tokens")),
        "tokens_max": max((r["tokens"] for r in rows), default=0),
        "budget": budget,
        "index_cold_s": None if cold is None else round(cold, 2),
        "index_warm_s": None if warm is None else round(warm, 2),
        "selection_s_median": round(statistics.median(r["seconds"] for r in rows), 3) if rows else 0,
        "selection_warm_s": None if again is None else round(again, 3),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--budget", type=int, default=60000)
    parser.add_argument("--src", type=Path, help="run the counterpoint package under this src/")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--verbose", action="store_true", help="one line per task")
    args = parser.parse_args(argv if argv is not None else [])
    if args.src is not None:
        sys.path.insert(0, str(args.src.resolve()))
    elif str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    result = run(args.repo.resolve(), args.tasks, args.budget)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if args.verbose:
        for r in result["rows"]:
            print(f"  {r['commit']} content {r['content']:.2f} either {r['either']:.2f} "
                  f"{r['tokens']:6d} tok {r['files']:3d} files {r['seconds']:.2f}s {' '.join(r['answer'])}")
    print(f"{result['repo']} ({result['files']} files, {result['tasks']} tasks): "
          f"recall in content {result['recall_content']:.2f}, in content or map "
          f"{result['recall_content_or_map']:.2f}; tokens mean {result['tokens_mean']} "
          f"(max {result['tokens_max']} of {result['budget']}); index cold "
          f"{result['index_cold_s']} s, warm {result['index_warm_s']} s; selection "
          f"{result['selection_s_median']} s (median, each task on its own tree), "
          f"{result['selection_warm_s']} s warm (the same tree again)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
