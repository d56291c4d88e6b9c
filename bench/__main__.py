"""Run every bench/bench_*.py `main()` in turn: `python -m bench` (or `make bench`).

`python -m bench NAME ...` runs only the named ones (e.g. `python -m bench startup`).
A benchmark that fails is reported and the others still run; the exit code is 1 if any did.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"bench.{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Textual finds an App's CSS path through its module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    wanted = {name.removeprefix("bench_").removesuffix(".py") for name in argv}
    paths = sorted(HERE.glob("bench_*.py"))
    if wanted:
        paths = [p for p in paths if p.stem.removeprefix("bench_") in wanted]
        if not paths:
            print(f"no benchmark named {', '.join(sorted(wanted))}", file=sys.stderr)
            return 2
    failed = []
    for path in paths:
        print(f"== {path.stem}", flush=True)
        started = time.perf_counter()
        try:
            _load(path).main()
        except Exception:  # one broken benchmark must not hide the others' numbers
            traceback.print_exc()
            failed.append(path.stem)
        print(f"== {path.stem}: {time.perf_counter() - started:.1f} s\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
