"""Checks: the repository's own tests and analysers, run on a proposal in a sandbox.

`CheckRunner.evaluate(files)` materialises the working tree plus `files` in a scratch tree,
runs every configured check there (sandboxed, see `sandbox.py`) and the same checks on the
base state (the working tree as it is; cached by git tree id, in memory and on disk), and
returns one `CheckOutcome` per check: the failures the proposal brought (new) apart from
those that were already there (preexisting). `failure_findings` turns new failures into
findings of reviewer `check:NAME`, placed on the proposal's code when the traceback passes
through a file the proposal changed.

A check's report: a command naming `{report}` writes it there; a pytest command with format
junit gets `--junitxml` added; otherwise the report is the command's output.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shlex
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from counterpoint.core.alignment import CHECK_REVIEWER_PREFIX
from counterpoint.core.check_results import CheckFailure, ReportError, parse_report, trim
from counterpoint.core.findings import Finding, Severity
from counterpoint.paths import home
from counterpoint.workflow.sandbox import Sandbox, run_command
from counterpoint.workspace.scratch import ScratchTree, ScratchTrees, sweep_stale

DEFAULT_TIMEOUT_S = 300.0
RATIONALE_LIMIT = 1500
"""Characters of failure output a finding's rationale keeps (it goes back to the models)."""


@dataclass(frozen=True)
class CheckSpec:
    """One `[[checks]]` entry (the config's `CheckSettings` has the same fields)."""

    name: str
    command: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    format: str | None = None

    @property
    def reviewer(self) -> str:
        return CHECK_REVIEWER_PREFIX + self.name

    @property
    def report_format(self) -> str:
        if self.format:
            return self.format
        if _is_pytest(self.command):
            return "junit"
        return "sarif" if "sarif" in self.command.lower() else "text"


def _is_pytest(command: str) -> bool:
    return bool(re.search(r"(^|[\s/])(py\.test|pytest)(\s|$)", command))


def spec_of(settings: Any) -> CheckSpec:
    """A CheckSpec from any object with the config's fields."""
    return CheckSpec(
        name=settings.name,
        command=settings.command,
        timeout_s=float(getattr(settings, "timeout_s", None) or DEFAULT_TIMEOUT_S),
        format=getattr(settings, "format", None),
    )


# -- candidates ---------------------------------------------------------------------------
def detect_candidates(root: Path) -> list[CheckSpec]:
    """Checks a repository looks like it has, to offer when none is configured."""
    found: list[CheckSpec] = []
    pyproject = _toml(root / "pyproject.toml")
    pytest_cfg = "pytest" in (pyproject.get("tool") or {}) or any(
        (root / name).is_file() for name in ("pytest.ini", "conftest.py", "tox.ini")
    )
    if pytest_cfg or (root / "tests").is_dir() or (root / "test").is_dir():
        found.append(CheckSpec("tests", "python -m pytest -q", format="junit"))
    scripts = _json(root / "package.json").get("scripts")
    if isinstance(scripts, dict) and _real_npm_test(scripts.get("test")):
        found.append(CheckSpec("npm-test", "npm test --silent", format="text"))
    if (root / "go.mod").is_file():
        found.append(CheckSpec("go-test", "go test ./...", format="text"))
    if (root / "Cargo.toml").is_file():
        found.append(CheckSpec("cargo-test", "cargo test --offline", format="text"))
    makefile = root / "Makefile"
    if makefile.is_file() and _has_make_target(_read(makefile), "test"):
        found.append(CheckSpec("make-test", "make test", format="text"))
    return found


NPM_PLACEHOLDER = "no test specified"
"""What `npm init` writes as the test script (`echo "Error: no test specified" && exit 1`)."""


def _real_npm_test(script: Any) -> bool:
    """A test script that runs tests: not missing, blank, or npm init's failing placeholder."""
    return isinstance(script, str) and bool(script.strip()) and NPM_PLACEHOLDER not in script


_MAKE_RULE = re.compile(r"^(?P<targets>[^\s#:=][^#:=\n]*?)[ \t]*::?(?![=:])", re.M)
"""A rule line (`test:`, `all test: deps`, `test::`), not an assignment (`test := x`, `test ::= x`,
`test ?= x`, `test = x`) and not a recipe line (those start with a tab)."""


def _has_make_target(makefile: str, target: str) -> bool:
    return any(target in m["targets"].split() for m in _MAKE_RULE.finditer(makefile))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _toml(path: Path) -> dict[str, Any]:
    """The file's table, or {} when it is missing or unreadable (invalid, or nested so deep
    that the parser runs out of stack): detection then goes by the other signs."""
    try:
        return tomllib.loads(_read(path)) if path.is_file() else {}
    except (tomllib.TOMLDecodeError, RecursionError):
        return {}


def _json(path: Path) -> dict[str, Any]:
    """As `_toml`, for a JSON object."""
    try:
        data = json.loads(_read(path)) if path.is_file() else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


# -- one run ------------------------------------------------------------------------------
@dataclass
class CheckRun:
    """One check on one tree."""

    name: str
    status: str
    """passed | failed | error | timeout (of the run itself, before any baseline)."""
    failures: list[CheckFailure] = field(default_factory=list)
    exit_code: int | None = None
    seconds: float = 0.0
    output: str = ""
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckRun:
        failures = [CheckFailure(**{**f, "frames": [tuple(x) for x in f["frames"]]}) for f in data["failures"]]
        return cls(**{**data, "failures": failures})


@dataclass
class CheckOutcome:
    """A check on the proposal compared with the same check on the base."""

    name: str
    status: str
    """passed (nothing new failed) | failed | error | timeout."""
    new: list[CheckFailure]
    preexisting: list[CheckFailure]
    seconds: float
    output: str
    sandboxed: bool
    message: str | None = None

    def result(self) -> dict[str, Any]:
        """The shape of one `checks_ready` result (PRODUCT.md)."""
        return {
            "name": self.name,
            "status": self.status,
            "new_failures": len(self.new),
            "preexisting_failures": len(self.preexisting),
            "seconds": round(self.seconds, 2),
        }


def _exit_failure(spec: CheckSpec, code: int | None, output: str, why: str) -> CheckFailure:
    tail = trim(output, RATIONALE_LIMIT)
    return CheckFailure(
        key=f"exit:{code}",
        title=f"{spec.name}: {why}",
        message=why,
        detail=tail,
    )


async def run_check(
    spec: CheckSpec,
    tree: ScratchTree,
    sandbox: Sandbox,
    on_output: Callable[[str], None] | None = None,
) -> CheckRun:
    fmt = spec.report_format
    written: Path | None = tree.tmp / f"report-{spec.name}"
    assert written is not None
    inside = shlex.quote(f"/tmp/{written.name}" if sandbox.sandboxed else str(written))
    command = spec.command
    if "{report}" in command:
        command = command.replace("{report}", inside)
    elif fmt == "junit" and _is_pytest(command):
        command += f" --junitxml={inside} -o junit_family=xunit1"
    else:
        written = None  # the report is the command's output
    result = await run_command(
        command,
        sandbox=sandbox,
        root=tree.root,
        tmp=tree.tmp,
        timeout_s=spec.timeout_s,
        on_output=on_output,
    )
    run = CheckRun(spec.name, "passed", exit_code=result.exit_code, seconds=result.seconds, output=result.output)
    if result.timed_out:
        run.status = "timeout"
        run.problem = f"{spec.name} ran longer than {spec.timeout_s:g} s and was stopped"
        run.failures = [_exit_failure(spec, None, result.output, run.problem)]
        run.failures[0].key = "timeout"
        return run
    text = result.output
    if written is not None:
        try:
            text = written.read_text(encoding="utf-8", errors="replace") if written.is_file() else ""
        except OSError:
            text = ""
    try:
        run.failures = parse_report(fmt, text) if text.strip() else []
    except ReportError as exc:
        run.problem = str(exc)
    for failure in run.failures:
        _relative(failure, tree.root)
    if run.failures:
        run.status = "failed"
    elif result.exit_code != 0:
        run.status = "error"
        why = run.problem or f"exited with status {result.exit_code} and reported no failure"
        run.problem = why
        run.failures = [_exit_failure(spec, result.exit_code, result.output, why)]
    return run


def _relative(failure: CheckFailure, root: Path) -> None:
    """Paths inside the scratch tree become repo-relative (it is gone once the run ends)."""
    prefix = str(root).rstrip("/") + "/"
    if failure.path and failure.path.startswith(prefix):
        failure.path = failure.path[len(prefix) :]
    failure.frames = [(p[len(prefix) :] if p.startswith(prefix) else p, n) for p, n in failure.frames]


# -- baseline and comparison ---------------------------------------------------------------
def compare(spec: CheckSpec, proposal: CheckRun, base: CheckRun | None, sandboxed: bool) -> CheckOutcome:
    before = {f.key for f in base.failures} if base else set()
    new = [f for f in proposal.failures if f.key not in before]
    old = [f for f in proposal.failures if f.key in before]
    if proposal.status == "timeout" and not (base and base.status == "timeout"):
        status = "timeout"
    elif proposal.status == "error" and new:
        status = "error"
    else:
        status = "failed" if new else "passed"
    return CheckOutcome(
        name=spec.name,
        status=status,
        new=new if status != "passed" else [],
        preexisting=old,
        seconds=proposal.seconds,
        output=proposal.output,
        sandboxed=sandboxed,
        message=proposal.problem if status in ("error", "timeout") else None,
    )


def _spec_key(spec: CheckSpec) -> str:
    return hashlib.sha1(json.dumps(asdict(spec), sort_keys=True).encode()).hexdigest()[:12]


class CheckRunner:
    """Runs one repository's checks on proposals, with the base state's runs cached."""

    def __init__(
        self,
        repo_root: Path,
        specs: Sequence[CheckSpec],
        sandbox: Sandbox,
        *,
        cache_dir: Path | None = None,
    ) -> None:
        self.specs = list(specs)
        self.sandbox = sandbox
        self.trees = ScratchTrees(repo_root)
        self.cache_dir = cache_dir or home() / "checks"
        self._base: dict[tuple[str, str], CheckRun] = {}
        self._base_running: dict[str, asyncio.Task[dict[str, CheckRun]]] = {}
        self._done: dict[tuple[str, str], list[CheckOutcome]] = {}
        """Outcomes by (proposal tree, base tree): the apply gate on a whole proposal that
        was just checked is not run twice."""
        sweep_stale()

    def _cached(self, tree_id: str, spec: CheckSpec) -> CheckRun | None:
        key = (tree_id, _spec_key(spec))
        if key in self._base:
            return self._base[key]
        path = self.cache_dir / f"{tree_id}-{key[1]}.json"
        try:
            run = CheckRun.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None
        self._base[key] = run
        return run

    def _store(self, tree_id: str, spec: CheckSpec, run: CheckRun) -> None:
        if run.status == "timeout":
            return  # a slow machine is not a property of the tree
        key = (tree_id, _spec_key(spec))
        self._base[key] = run
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            path = self.cache_dir / f"{tree_id}-{key[1]}.json"
            path.write_text(json.dumps({**run.to_json(), "output": ""}), encoding="utf-8")
        except OSError:
            pass

    async def _run_all(
        self, files: Mapping[str, str | None] | None, on_output: Callable[[str, str], None] | None
    ) -> tuple[str, dict[str, CheckRun]]:
        tree = await asyncio.to_thread(self.trees.create, files)
        try:
            runs: dict[str, CheckRun] = {}
            for spec in self.specs:

                def out(text: str, name: str = spec.name) -> None:
                    if on_output is not None:
                        on_output(name, text)

                runs[spec.name] = await run_check(spec, tree, self.sandbox, out)
            return tree.tree_id, runs
        finally:
            await asyncio.shield(asyncio.to_thread(tree.close))

    async def baseline(self) -> dict[str, CheckRun]:
        """Every check on the working tree as it is (cached by tree id)."""
        tree_id = await asyncio.to_thread(self.trees.tree_id)
        cached = {s.name: self._cached(tree_id, s) for s in self.specs}
        if all(run is not None for run in cached.values()):
            return {k: v for k, v in cached.items() if v is not None}
        task = self._base_running.get(tree_id)
        if task is None:
            task = asyncio.ensure_future(self._baseline_now(tree_id))
            self._base_running[tree_id] = task
            task.add_done_callback(lambda _t: self._base_running.pop(tree_id, None))
        return await asyncio.shield(task)

    async def _baseline_now(self, tree_id: str) -> dict[str, CheckRun]:
        built_id, runs = await self._run_all(None, None)
        for spec in self.specs:
            self._store(built_id, spec, runs[spec.name])
        return runs

    async def evaluate(
        self,
        files: Mapping[str, str | None],
        on_output: Callable[[str, str], None] | None = None,
    ) -> list[CheckOutcome]:
        """Every check on the working tree plus `files`, compared with the base state."""
        key = await asyncio.gather(
            asyncio.to_thread(self.trees.tree_id, files), asyncio.to_thread(self.trees.tree_id)
        )
        if (key[0], key[1]) in self._done:
            return self._done[(key[0], key[1])]
        base_task = asyncio.ensure_future(self.baseline())
        try:
            _, runs = await self._run_all(files, on_output)
            base = await base_task
        finally:
            if not base_task.done():
                base_task.cancel()
        outcomes = [
            compare(spec, runs[spec.name], base.get(spec.name), self.sandbox.sandboxed)
            for spec in self.specs
        ]
        if not any(o.status == "timeout" for o in outcomes):
            self._done[(key[0], key[1])] = outcomes
        return outcomes


# -- findings -----------------------------------------------------------------------------
def place(
    failure: CheckFailure, changed: Mapping[str, str | None]
) -> tuple[str | None, int | None, int | None]:
    """Where a failure belongs: the innermost traceback frame in a file the proposal
    changed, else the failure's own location."""
    for path, line in reversed(failure.frames):
        rel = path.removeprefix("./")
        if rel in changed:
            return rel, line, line
    if failure.path:
        return failure.path.removeprefix("./"), failure.line, failure.end_line or failure.line
    return None, None, None


SARIF_SEVERITY: dict[str, Severity] = {"error": "high", "warning": "medium", "note": "low", "none": "info"}


def failure_findings(
    round_no: int,
    outcomes: Sequence[CheckOutcome],
    changed: Mapping[str, str | None],
    *,
    safe_path: Callable[[str], str],
) -> list[Finding]:
    """The new failures as findings of reviewer `check:NAME` (ids r1-check1, r1-check2 …)."""
    findings: list[Finding] = []
    for outcome in outcomes:
        for failure in outcome.new:
            path, start, end = place(failure, changed)
            problem = None
            if path is None:
                problem = "the check named no file"
                path = ""
            else:
                try:
                    path = safe_path(path)
                except Exception as exc:  # UnsafePath: never a path outside the repository
                    problem = str(exc)
                    path = ""
            start = start or 1
            rationale = failure.message
            if failure.detail and failure.detail.strip() != failure.message.strip():
                rationale += "\n\n" + trim(failure.detail, RATIONALE_LIMIT)
            findings.append(
                Finding(
                    id=f"r{round_no}-check{len(findings) + 1}",
                    round=round_no,
                    reviewer=CHECK_REVIEWER_PREFIX + outcome.name,
                    path=path,
                    start_line=start,
                    end_line=max(start, end or start),
                    severity=SARIF_SEVERITY.get(failure.level, "high") if failure.rule else "high",
                    category="correctness",
                    title=failure.title[:200],
                    rationale=rationale,
                    suggestion=None,
                    confidence=1.0,
                    location_problem=problem,
                )
            )
    return findings
