"""What a check's output says failed: junit XML, SARIF or pytest's text, as `CheckFailure`s.

A check's output comes from code a model wrote, so it is hostile data: XML is parsed with
defusedxml (no entities, no bombs), sizes are bounded, and nothing here trusts a path; the
caller checks every path against the repository.

Each failure has a `key` that stays the same when only line numbers move (the test id, or a
SARIF rule + file + message), so failures on the proposal are compared with the baseline's
by key. `frames` are the traceback's (path, line) pairs, innermost last, so the caller can
place a failure on the proposal's own code rather than on the test that noticed it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

Format = Literal["junit", "sarif", "text"]
FORMATS: tuple[str, ...] = ("junit", "sarif", "text")

MAX_FAILURES = 200
"""More failures than this in one run are summarised by the first ones."""


@dataclass
class CheckFailure:
    key: str
    title: str
    message: str
    """The assertion message or diagnostic (the finding's rationale)."""
    path: str | None = None
    line: int | None = None
    end_line: int | None = None
    detail: str = ""
    """The traceback or longer output, trimmed."""
    frames: list[tuple[str, int]] = field(default_factory=list)
    level: str = "error"
    rule: str | None = None


class ReportError(Exception):
    """The report is not what the format says (the message says what is wrong)."""


_FRAME = re.compile(r"^(?:\s*File \"(?P<py>[^\"\n]+)\", line (?P<pyline>\d+)|(?P<path>[^\s:][^:\n]*\.[A-Za-z0-9]+):(?P<line>\d+)(?::\d+)?:)", re.M)


def frames_in(text: str) -> list[tuple[str, int]]:
    """(path, line) of each traceback frame in `text`: pytest's `path:line:` lines and
    Python's `File "path", line N`."""
    out: list[tuple[str, int]] = []
    for m in _FRAME.finditer(text):
        path = m.group("py") or m.group("path")
        line = m.group("pyline") or m.group("line")
        if path and line:
            out.append((path.strip(), int(line)))
    return out


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def trim(text: str, limit: int = 4000) -> str:
    """The end of `text` (where tracebacks say what failed), within `limit` characters."""
    text = text.strip("\n")
    if len(text) <= limit:
        return text
    return "…\n" + text[-limit:]


# -- junit --------------------------------------------------------------------------------
def parse_junit(data: str) -> list[CheckFailure]:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(data.encode("utf-8"))
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise ReportError(f"the junit report is not valid XML ({exc})") from None
    failures: list[CheckFailure] = []
    for case in root.iter("testcase"):
        for kind in ("failure", "error"):
            node = case.find(kind)
            if node is None:
                continue
            failures.append(_junit_failure(case, node, kind))
            break
        if len(failures) >= MAX_FAILURES:
            break
    return failures


def _junit_failure(case: Any, node: Any, kind: str) -> CheckFailure:
    classname = case.get("classname") or ""
    name = case.get("name") or "?"
    body = node.text or ""
    message = (node.get("message") or "").strip() or _first_line(body) or kind
    frames = frames_in(body)
    path = case.get("file")
    line = _int(case.get("line"))
    if line is not None:
        line += 1  # pytest's xunit1 `line` is 0-based: the test's `def`
    if not path and classname:
        module = classname.split(".")
        while module and module[-1][:1].isupper():  # TestClass parts
            module.pop()
        if module:
            path = "/".join(module) + ".py"
    own = [ln for p, ln in frames if p == path]
    if own:
        line = own[-1]  # the failing line of the test, not its `def`
    test = f"{classname}::{name}" if classname else name
    return CheckFailure(
        key=test,
        title=f"{test} {'failed' if kind == 'failure' else 'errored'}",
        message=message[:2000],
        path=path,
        line=line,
        detail=trim(body),
        frames=frames,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# -- SARIF --------------------------------------------------------------------------------
def parse_sarif(data: str) -> list[CheckFailure]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise ReportError(f"the SARIF report is not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise ReportError("the SARIF report has no runs")
    failures: list[CheckFailure] = []
    for run in doc["runs"]:
        results = run.get("results") if isinstance(run, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict) or result.get("kind") not in (None, "fail"):
                continue
            if result.get("suppressions"):
                continue
            failures.append(_sarif_failure(result))
            if len(failures) >= MAX_FAILURES:
                return failures
    return failures


def _sarif_failure(result: dict[str, Any]) -> CheckFailure:
    rule = str(result.get("ruleId") or result.get("rule", {}).get("id") or "diagnostic")
    message = result.get("message") or {}
    text = str(message.get("text") or message.get("markdown") or rule) if isinstance(message, dict) else rule
    path = line = end = None
    locations = result.get("locations") or []
    if locations and isinstance(locations[0], dict):
        physical = locations[0].get("physicalLocation") or {}
        uri = (physical.get("artifactLocation") or {}).get("uri")
        if isinstance(uri, str):
            path = uri.removeprefix("file://")
        region = physical.get("region") or {}
        line = _int(region.get("startLine"))
        end = _int(region.get("endLine")) or line
    level = str(result.get("level") or "warning")
    return CheckFailure(
        key=f"{rule}\x00{path}\x00{text}",
        title=f"{rule}: {_first_line(text, 120)}",
        message=text[:2000],
        path=path,
        line=line,
        end_line=end,
        level=level,
        rule=rule,
    )


# -- pytest text --------------------------------------------------------------------------
_SUMMARY = re.compile(r"^(?P<kind>FAILED|ERROR) (?P<id>\S+)(?: - (?P<msg>.*))?$", re.M)
_SECTION = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$", re.M)


def parse_pytest_text(output: str) -> list[CheckFailure]:
    """Failures from pytest's short test summary (`FAILED path::test - message`), placed by
    the failure sections' tracebacks."""
    sections: dict[str, str] = {}
    marks = list(_SECTION.finditer(output))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(output)
        sections[m.group("name").strip()] = output[m.end() : end]
    failures: list[CheckFailure] = []
    for m in _SUMMARY.finditer(output):
        test = m.group("id")
        path, _, rest = test.partition("::")
        name = rest.replace("::", ".") if rest else path
        body = sections.get(name) or sections.get(rest.split("::")[-1]) or ""
        frames = frames_in(body)
        own = [ln for p, ln in frames if p == path]
        message = (m.group("msg") or "").strip() or _first_line(body) or m.group("kind").lower()
        failures.append(
            CheckFailure(
                key=test,
                title=f"{test} {'failed' if m.group('kind') == 'FAILED' else 'errored'}",
                message=message[:2000],
                path=path if "." in path else None,
                line=own[-1] if own else None,
                detail=trim(body),
                frames=frames,
            )
        )
        if len(failures) >= MAX_FAILURES:
            break
    return failures


def parse_report(fmt: str, report: str) -> list[CheckFailure]:
    if fmt == "junit":
        return parse_junit(report)
    if fmt == "sarif":
        return parse_sarif(report)
    return parse_pytest_text(report)
