"""Scripted revisions: a cassette's answer to the human's verdicts, composed at replay.

A hand-written cassette (the demo's) cannot know in advance which findings the human will
accept. An exchange may therefore carry `compose` instead of relying on its fixed `text`:
the fixes it knows, each tied to the findings it answers, and the replay provider builds the
answer from the verdicts of the round being revised (`ModelRequest.verdicts`):

- a generator's revision holds exactly the fixes of the accepted findings (their
  explanations and edit blocks, in cassette order), says which findings it left alone
  because they were rejected or not accepted, and answers each note of the human;
- a reviewer's review of that revision keeps only the findings about fixes that were made,
  with their lines found again in the numbered diff the reviewer is shown;
- the generator's answer to the revision's findings answers those about fixes it made, and
  a failure of a check that a fix not made would have mended (found by its title).

Without verdicts (a first round, a request built by hand) the exchange's `text` plays.
The format is described in docs/cassettes.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from counterpoint.core.prompts import asked_findings, numbered_lines
from counterpoint.core.safe_text import visible

from .base import FindingVerdict, ModelRequest

NOTE_LIMIT = 200
"""Characters of a human's note quoted back in a scripted answer."""

GENERATOR_SAID = ("fixed", "rejected", "pending", "notes", "nothing", "note_rejected", "note_pending")
REVIEWER_SAID = ("summary", "remaining", "nothing")


class ComposeError(ValueError):
    """A `compose` object that cannot be played; the message says where and why."""


# -- validation ---------------------------------------------------------------------------


def check_compose(role: str, compose: Any) -> None:
    """Raise ComposeError naming the first problem of an exchange's `compose` object."""
    if not isinstance(compose, dict):
        raise ComposeError("'compose' must be an object")
    fixes = compose.get("fixes")
    if not isinstance(fixes, list) or not fixes:
        raise ComposeError("'compose' needs a non-empty 'fixes' list")
    names = set()
    for n, fix in enumerate(fixes):
        if not isinstance(fix, dict) or not isinstance(fix.get("name"), str):
            raise ComposeError(f"compose fix {n} needs a 'name'")
        findings = fix.get("findings")
        if not isinstance(findings, list) or not findings or not all(isinstance(f, str) for f in findings):
            raise ComposeError(f"compose fix {fix['name']!r} needs 'findings', a list of finding ids")
        names.add(fix["name"])
    if role == "generator":
        _check_strings(compose, ("head",), "compose")
        for fix in fixes:
            _check_strings(fix, ("explain", "note"), f"compose fix {fix['name']!r}")
        edits = compose.get("edits")
        if not isinstance(edits, list):
            raise ComposeError("'compose' needs an 'edits' list")
        for n, edit in enumerate(edits):
            if not isinstance(edit, dict) or edit.get("fix") not in names:
                raise ComposeError(f"compose edit {n} must name one of the fixes")
            _check_strings(edit, ("text",), f"compose edit {n}")
        _check_strings(compose.get("said"), GENERATOR_SAID, "compose 'said'")
    elif role == "responder":
        for key in ("responses", "failing"):
            items = compose.get(key)
            if not isinstance(items, list):
                raise ComposeError(f"'compose' needs a {key!r} list")
            for n, item in enumerate(items):
                if not isinstance(item, dict) or item.get("fix") not in names:
                    raise ComposeError(f"compose {key} {n} must name one of the fixes")
                _check_strings(item, ("finding_id" if key == "responses" else "title", "stance", "reply"),
                               f"compose {key} {n}")
    elif role == "reviewer":
        _check_strings(compose, ("verdict",), "compose")
        for fix in fixes:
            _check_strings(fix, ("said",), f"compose fix {fix['name']!r}")
        findings = compose.get("findings")
        if not isinstance(findings, list):
            raise ComposeError("'compose' needs a 'findings' list")
        for n, item in enumerate(findings):
            if not isinstance(item, dict) or item.get("fix") not in names:
                raise ComposeError(f"compose finding {n} must name one of the fixes")
            anchors = item.get("anchors")
            if not (isinstance(anchors, list) and len(anchors) == 2 and all(isinstance(a, str) for a in anchors)):
                raise ComposeError(f"compose finding {n} needs 'anchors': [first line text, last line text]")
        _check_strings(compose.get("said"), REVIEWER_SAID, "compose 'said'")
    else:
        raise ComposeError(f"'compose' is for generator, reviewer and responder exchanges, not {role}")


def _check_strings(obj: Any, keys: Sequence[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise ComposeError(f"{where} must be an object")
    for key in keys:
        if not isinstance(obj.get(key), str):
            raise ComposeError(f"{where} needs {key!r}, a string")


# -- composing --------------------------------------------------------------------------


def compose(role: str, compose: dict[str, Any], request: ModelRequest) -> str:
    """The text the exchange plays for this request's verdicts."""
    if role == "generator":
        return revision(compose, request.verdicts)
    if role == "responder":
        return responses(compose, request.verdicts, _last_user_text(request))
    return review(compose, request.verdicts, _last_user_text(request))


def made(compose: dict[str, Any], verdicts: Sequence[FindingVerdict]) -> list[dict[str, Any]]:
    """The fixes of the accepted findings, in cassette order."""
    accepted = {f for v in verdicts if v.verdict == "accepted" for f in v.finding_ids}
    return [fix for fix in compose["fixes"] if accepted & set(fix["findings"])]


def revision(compose: dict[str, Any], verdicts: Sequence[FindingVerdict]) -> str:
    """The generator's revision: what it fixed, what it left and why, its answers to notes,
    then the edit blocks of the fixes it made."""
    said = compose["said"]
    fixes = made(compose, verdicts)
    parts = [compose["head"].rstrip()]
    if fixes:
        parts += ["", said["fixed"], ""] + [fix["explain"].rstrip() for fix in fixes]
    else:
        parts += ["", said["nothing"]]
    for verdict, key in (("rejected", "rejected"), ("pending", "pending")):
        left = [v for v in verdicts if v.verdict == verdict]
        if left:
            parts += ["", said[key], ""] + [f"- {_quote(v.title)} ({', '.join(v.finding_ids)})" for v in left]
    noted = [v for v in verdicts if v.note and v.note.strip()]
    if noted:
        parts += ["", said["notes"], ""] + [_answer(v, compose, said) for v in noted]
    text = "\n".join(parts) + "\n"
    names = {fix["name"] for fix in fixes}
    blocks = [edit["text"].strip("\n") for edit in compose["edits"] if edit["fix"] in names]
    if blocks:
        text += "\n" + "\n\n".join(blocks) + "\n"
    return text


def _answer(v: FindingVerdict, compose: dict[str, Any], said: dict[str, str]) -> str:
    fix = next((f for f in compose["fixes"] if set(f["findings"]) & set(v.finding_ids)), None)
    if v.verdict == "accepted" and fix is not None:
        reply = fix["note"].strip()
    elif v.verdict == "rejected":
        reply = said["note_rejected"]
    else:
        reply = said["note_pending"]
    return f"- On “{_quote(v.title)}” you wrote “{_quote(v.note or '')}”: {reply}"


def _quote(text: str) -> str:
    """A human's note or a title, on one line, free of control characters, bounded."""
    flat = visible(" ".join(text.split()), newlines=False)
    return flat if len(flat) <= NOTE_LIMIT else flat[: NOTE_LIMIT - 1] + "…"


def review(compose: dict[str, Any], verdicts: Sequence[FindingVerdict], shown: str) -> str:
    """A reviewer's review of the revision: the fixes made, and its findings about them
    with their lines found in the numbered diff it was `shown`."""
    said = compose["said"]
    fixes = made(compose, verdicts)
    names = {fix["name"] for fix in fixes}
    findings = [_relocated(item, shown) for item in compose["findings"] if item["fix"] in names]
    if fixes:
        summary = said["summary"].format(done=_joined([fix["said"] for fix in fixes]))
        if findings:
            summary += " " + said["remaining"]
        verdict = compose["verdict"]
    else:
        summary, verdict = said["nothing"], "needs-changes"
    return json.dumps({"summary": summary, "verdict": verdict, "findings": findings},
                      indent=2, ensure_ascii=False)


def responses(compose: dict[str, Any], verdicts: Sequence[FindingVerdict], asked: str) -> str:
    """The generator's answers to the revision's findings it is `asked` about: those on the
    fixes it made, and each check failure (matched by title) that a fix it did not make
    would have mended."""
    names = {fix["name"] for fix in made(compose, verdicts)}
    shown = asked_findings(asked)
    out = [{k: item[k] for k in ("finding_id", "stance", "reply")}
           for item in compose["responses"] if item["fix"] in names]
    for item in compose["failing"]:
        if item["fix"] in names:
            continue
        for finding_id, line in shown:
            if item["title"] in line:
                out.append({"finding_id": finding_id, "stance": item["stance"], "reply": item["reply"]})
    return json.dumps({"responses": out}, indent=2, ensure_ascii=False)


def _joined(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def _relocated(item: dict[str, Any], shown: str) -> dict[str, Any]:
    """The finding with its lines where its anchors are in the numbered diff (kept as
    written when the diff does not show them)."""
    out = {k: v for k, v in item.items() if k not in ("fix", "anchors")}
    first, last = item["anchors"]
    lines = numbered_lines(shown, out.get("path", ""))
    starts = [i for i, (_, text) in enumerate(lines) if first in text]
    if len(starts) == 1:
        end = next((k for k in range(starts[0], len(lines)) if last in lines[k][1]), None)
        if end is not None:
            out["start_line"], out["end_line"] = lines[starts[0]][0], lines[end][0]
    return out


def _last_user_text(request: ModelRequest) -> str:
    users = [m.content for m in request.messages if m.role == "user"]
    return users[-1] if users else ""
