"""Check reports → failures → findings, the baseline comparison, and the join with models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from counterpoint.core.alignment import align, join_checks
from counterpoint.core.check_results import ReportError, parse_junit, parse_pytest_text, parse_sarif
from counterpoint.core.findings import Finding
from counterpoint.workflow.checks import CheckRun, CheckSpec, compare, detect_candidates, failure_findings

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="2" tests="3">
<testcase classname="tests.test_hooks" name="test_ok" time="0.001"/>
<testcase classname="tests.test_hooks.TestReplay" name="test_twice" time="0.002">
<failure message="AssertionError: assert 200 == 409">def test_twice(self):
&gt;       assert post(body).status == 409
E       AssertionError: assert 200 == 409

tests/test_hooks.py:41: AssertionError</failure></testcase>
<testcase classname="tests.test_hooks" name="test_sign" time="0.002">
<failure message="KeyError: 'sig'">tests/test_hooks.py:12: in test_sign
    verify(req)
app/hooks.py:57: in verify
    return headers["sig"]
E   KeyError: 'sig'</failure></testcase>
</testsuite></testsuites>"""

PYTEST_TEXT = """\
..F
=================================== FAILURES ===================================
__________________________________ test_div ___________________________________

    def test_div():
>       assert div(4, 2) == 2

tests/test_m.py:5:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
pkg/__init__.py:4: in div
    return a // 0
E   ZeroDivisionError: integer division or modulo by zero
=========================== short test summary info ============================
FAILED tests/test_m.py::test_div - ZeroDivisionError: integer division or modulo by zero
1 failed, 2 passed in 0.03s
"""

SARIF = {
    "version": "2.1.0",
    "runs": [{
        "tool": {"driver": {"name": "ruff"}},
        "results": [
            {"ruleId": "F821", "level": "error", "message": {"text": "Undefined name `x`"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/hooks.py"},
                                                 "region": {"startLine": 9, "endLine": 9}}}]},
            {"ruleId": "E501", "level": "note", "message": {"text": "suppressed"},
             "suppressions": [{"kind": "inSource"}]},
        ],
    }],
}


def test_junit_failures_with_test_ids_messages_and_tracebacks() -> None:
    failures = parse_junit(JUNIT)
    assert [f.key for f in failures] == [
        "tests.test_hooks.TestReplay::test_twice",
        "tests.test_hooks::test_sign",
    ]
    twice, sign = failures
    assert twice.path == "tests/test_hooks.py" and twice.line == 41
    assert twice.message == "AssertionError: assert 200 == 409"
    assert sign.frames == [("tests/test_hooks.py", 12), ("app/hooks.py", 57)]


def test_junit_that_is_not_xml_or_is_a_bomb_is_refused() -> None:
    with pytest.raises(ReportError):
        parse_junit("<testsuite><testcase")
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><testsuite>&b;</testsuite>'
    with pytest.raises(ReportError):
        parse_junit(bomb)


def test_pytest_text_summary_placed_by_its_traceback() -> None:
    (failure,) = parse_pytest_text(PYTEST_TEXT)
    assert failure.key == "tests/test_m.py::test_div"
    assert failure.message.startswith("ZeroDivisionError")
    assert failure.path == "tests/test_m.py" and failure.line == 5
    assert failure.frames[-1] == ("pkg/__init__.py", 4)


def test_sarif_results_with_locations_and_suppressed_ones_left_out() -> None:
    (failure,) = parse_sarif(json.dumps(SARIF))
    assert (failure.path, failure.line, failure.end_line, failure.rule) == ("app/hooks.py", 9, 9, "F821")
    assert failure.message == "Undefined name `x`"
    with pytest.raises(ReportError):
        parse_sarif("[]")


def test_only_new_failures_are_charged() -> None:
    spec = CheckSpec("tests", "pytest")
    failures = parse_junit(JUNIT)
    base = CheckRun("tests", "failed", failures=[failures[0]])
    proposal = CheckRun("tests", "failed", failures=failures)
    outcome = compare(spec, proposal, base, sandboxed=True)
    assert outcome.status == "failed"
    assert [f.key for f in outcome.new] == ["tests.test_hooks::test_sign"]
    assert [f.key for f in outcome.preexisting] == ["tests.test_hooks.TestReplay::test_twice"]
    assert outcome.result() == {"name": "tests", "status": "failed", "new_failures": 1,
                                "preexisting_failures": 1, "seconds": 0.0}
    same = compare(spec, CheckRun("tests", "failed", failures=[failures[0]]), base, sandboxed=True)
    assert same.status == "passed" and len(same.preexisting) == 1


def test_new_failures_become_findings_placed_on_the_changed_code() -> None:
    outcome = compare(CheckSpec("tests", "pytest"), CheckRun("tests", "failed", failures=parse_junit(JUNIT)), None, True)
    findings = failure_findings(2, [outcome], {"app/hooks.py": "x\n"}, safe_path=lambda p: p)
    assert [f.id for f in findings] == ["r2-check1", "r2-check2"]
    assert all(f.reviewer == "check:tests" for f in findings)
    assert (findings[0].path, findings[0].start_line) == ("tests/test_hooks.py", 41)
    assert (findings[1].path, findings[1].start_line) == ("app/hooks.py", 57)
    assert findings[1].rationale.startswith("KeyError: 'sig'")


def _model_finding(fid: str, reviewer: str, path: str, start: int, end: int, title: str) -> Finding:
    return Finding(id=fid, round=1, reviewer=reviewer, path=path, start_line=start, end_line=end,
                   severity="medium", category="correctness", title=title, rationale=title)


def test_a_check_joining_a_models_finding_confirms_its_cluster() -> None:
    models = [
        _model_finding("r1-a1", "m:a", "app/hooks.py", 55, 58, "Missing signature header raises"),
        _model_finding("r1-b1", "m:b", "app/other.py", 3, 4, "Unrelated naming"),
    ]
    clusters, _ = align(models, ["m:a", "m:b"], 1)
    outcome = compare(CheckSpec("tests", "pytest"), CheckRun("tests", "failed", failures=parse_junit(JUNIT)), None, True)
    checks = failure_findings(1, [outcome], {"app/hooks.py": "x\n"}, safe_path=lambda p: p)
    joined = join_checks(clusters, checks, ["m:a", "m:b"], 1)
    by_reviewers = {tuple(c.reviewers): c for c in joined}
    confirmed = by_reviewers[("check:tests", "m:a")]
    assert confirmed.confirmed and confirmed.agreement == "consensus" and not confirmed.contested
    alone = by_reviewers[("check:tests",)]
    assert not alone.confirmed and alone.path == "tests/test_hooks.py"
    assert not by_reviewers[("m:b",)].confirmed


def test_candidates_detected(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "package.json").write_text('{"scripts": {"test": "jest"}}')
    (tmp_path / "go.mod").write_text("module x\n")
    (tmp_path / "Cargo.toml").write_text("[package]\n")
    (tmp_path / "Makefile").write_text("build:\n\ttrue\ntest: build\n\ttrue\n")
    names = [c.name for c in detect_candidates(tmp_path)]
    assert names == ["tests", "npm-test", "go-test", "cargo-test", "make-test"]
    assert detect_candidates(tmp_path / "tests") == []


def test_candidates_survive_a_pyproject_nested_too_deep_to_parse(tmp_path: Path) -> None:
    depth = 100_000  # tomllib recurses once per level: RecursionError, not a TOMLDecodeError
    (tmp_path / "pyproject.toml").write_text("x = " + "[" * depth + "]" * depth + "\n")
    (tmp_path / "package.json").write_text('{"scripts": ' + "[" * depth + "]" * depth + "}")
    assert detect_candidates(tmp_path) == []
    (tmp_path / "tests").mkdir()  # the other signs still count
    assert [c.name for c in detect_candidates(tmp_path)] == ["tests"]


def test_a_makefile_variable_named_test_is_not_a_test_target(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    for text in ("test := pytest\n", "test ?= pytest\n", "test = pytest\n", "test ::= pytest\n",
                 "test:=pytest\n", "test+=x\n", "\ttest: x\n", "# test: x\n", "x := test: y\n"):
        makefile.write_text("build:\n\ttrue\n" + text)
        assert detect_candidates(tmp_path) == [], text
    for text in ("test:\n\ttrue\n", "test :: build\n", "all test: build\n", "test: export X := 1\n"):
        makefile.write_text("build:\n\ttrue\n" + text)
        assert [c.name for c in detect_candidates(tmp_path)] == ["make-test"], text


def test_npm_init_placeholder_test_script_is_not_offered(tmp_path: Path) -> None:
    package = tmp_path / "package.json"
    for scripts in ('{"test": "echo \\"Error: no test specified\\" && exit 1"}', '{"test": "  "}',
                    '{"test": null}', '{"build": "tsc"}', '["test"]'):
        package.write_text('{"name": "x", "scripts": ' + scripts + "}")
        assert detect_candidates(tmp_path) == [], scripts
    package.write_text('{"scripts": {"test": "vitest run"}}')
    assert [c.name for c in detect_candidates(tmp_path)] == ["npm-test"]
