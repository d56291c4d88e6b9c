"""The scoreboard: which model catches what, in the user's own code, judged by the user.

Computed from saved sessions (their clusters with the human's verdicts, and the usage of each
review step), with honest denominators: a finding left pending counts in its model's
`acceptance` (accepted / raised), because a suggestion nobody acted on was not taken;
`precision` (accepted / decided) is shown beside it with its counts, never alone.

- **reviewers**: per model × role (``reviewer``, or ``check`` for `check:NAME`) × category:
  raised, accepted, rejected, pending, confirmed by a check (clusters a check joined), and per
  model the review cost per accepted finding;
- **generators**: per model × category, its stance on the clusters it answered: disputes the
  human upheld (rejected the cluster) and overruled (accepted it anyway);
- **families**: same-family review (a Claude reviewing a Claude) against cross-family, per
  session and overall: reviews, findings raised, accepted, confirmed;
- **calibration**: reviewers' confidence in buckets against the human's verdicts;
- **reviews**: per reviewer model, its reviews and how many were weak (still too thin after
  the one firmer retry, `core/review_quality.py`), and how many needed that retry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from counterpoint.core.alignment import is_check
from counterpoint.core.session import Session

BUCKETS = (0.2, 0.4, 0.6, 0.8, 1.0)
"""Upper bounds of the confidence buckets (0-0.2, 0.2-0.4, ... 0.8-1.0)."""

_FAMILIES = (
    ("claude", "anthropic"), ("gpt", "openai"), ("o1", "openai"), ("o3", "openai"),
    ("o4", "openai"), ("codex", "openai"), ("gemini", "google"), ("gemma", "google"),
    ("qwen", "qwen"), ("llama", "meta"), ("deepseek", "deepseek"), ("mistral", "mistral"),
    ("codestral", "mistral"), ("grok", "xai"), ("phi", "microsoft"),
)


def family(model: str) -> str:
    """The model family a spec belongs to: ``openai:gpt-5.5`` → openai, an Ollama
    ``ollama:qwen3-coder`` → qwen; else the provider part of the spec."""
    provider, _, name = model.partition(":")
    name = name.rsplit("/", 1)[-1].lower()
    for prefix, fam in _FAMILIES:
        if name.startswith(prefix):
            return fam
    return provider.lower()


@dataclass
class SessionRecord:
    """One saved session as the scoreboard needs it."""

    session: Session
    review_cost: dict[str, float] = field(default_factory=dict)
    """Cost (USD) of each model's review steps in this session."""


@dataclass(frozen=True)
class Filters:
    repo: str | None = None
    """A repository name or absolute path (sessions in that repository only)."""
    since: datetime | None = None
    model: str | None = None

    def keeps(self, s: Session) -> bool:
        meta = s.meta
        if meta is None:
            return False
        if self.repo is not None and self.repo not in (meta.repo, meta.repo_name):
            return False
        if self.since is not None and _when(meta.at) < self.since:
            return False
        if self.model is not None:
            models = {meta.generator, *meta.reviewers}
            models |= {r.generator for r in s.rounds} | {m for r in s.rounds for m in r.reviewers}
            if self.model not in models:
                return False
        return True


def _when(stamp: str) -> datetime:
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_since(text: str) -> datetime:
    """``2026-01-31`` or a full ISO time; ValueError with a readable message otherwise."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a date such as 2026-01-31") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _verdicts() -> dict[str, int]:
    return {"raised": 0, "accepted": 0, "rejected": 0, "pending": 0, "confirmed": 0}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["acceptance"] = _ratio(row["accepted"], row["raised"])
    row["precision"] = _ratio(row["accepted"], row["accepted"] + row["rejected"])
    return row


def _bucket(confidence: float) -> int:
    return next(i for i, top in enumerate(BUCKETS) if confidence <= top or top == BUCKETS[-1])


def compute(records: Iterable[SessionRecord], filters: Filters | None = None) -> dict[str, Any]:
    """The scoreboard of `records` that pass `filters`, as plain data (the `--json` shape)."""
    filters = filters or Filters()
    kept = [r for r in records if filters.keeps(r.session)]
    reviewers: dict[tuple[str, str, str], dict[str, int]] = defaultdict(_verdicts)
    totals: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {**_verdicts(), "cost_usd": 0.0})
    generators: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"answered": 0, "agreed": 0, "disputed": 0, "partial": 0, "upheld": 0,
                 "overruled": 0, "dispute_pending": 0}
    )
    families: dict[str, dict[str, Any]] = {
        kind: {"reviews": 0, "raised": 0, "accepted": 0, "confirmed": 0} for kind in ("same", "cross")
    }
    per_session: list[dict[str, Any]] = []
    calibration: list[dict[str, Any]] = [
        {"bucket": f"{low:.1f}-{top:.1f}", **_verdicts(), "confidence_sum": 0.0}
        for low, top in zip((0.0, *BUCKETS[:-1]), BUCKETS)
    ]
    reviews: dict[str, dict[str, int]] = defaultdict(lambda: {"reviews": 0, "retried": 0, "weak": 0})
    only = filters.model
    for record in kept:
        s = record.session
        session_fam = {kind: {"reviews": 0, "raised": 0, "accepted": 0, "confirmed": 0}
                       for kind in ("same", "cross")}
        for model, cost in record.review_cost.items():
            if only in (None, model):
                totals[(model, _role(model))]["cost_usd"] += cost
        for rnd in s.rounds:
            gen_family = family(rnd.generator)
            models = [m for m in rnd.reviewers if not is_check(m)]
            for m in models:
                if only in (None, m) and m in rnd.reviews:
                    session_fam["same" if family(m) == gen_family else "cross"]["reviews"] += 1
                    review, row = rnd.reviews[m], reviews[m]
                    row["reviews"] += 1
                    row["retried"] += review.retried
                    row["weak"] += review.weak
            for c in rnd.clusters:
                confirmed = bool(getattr(c, "confirmed", False))
                if only in (None, rnd.generator) and c.stance != "none":
                    g = generators[(rnd.generator, c.category)]
                    g["answered"] += 1
                    g[{"agree": "agreed", "dispute": "disputed", "partial": "partial"}[c.stance]] += 1
                    if c.stance == "dispute":
                        g[{"rejected": "upheld", "accepted": "overruled",
                           "pending": "dispute_pending"}[c.verdict]] += 1
                for f in c.findings:
                    if only not in (None, f.reviewer):
                        continue
                    role = _role(f.reviewer)
                    for row in (reviewers[(f.reviewer, role, f.category)],
                                totals[(f.reviewer, role)]):
                        row["raised"] += 1
                        row[c.verdict] += 1
                        row["confirmed"] += confirmed
                    if role == "reviewer":
                        kind = "same" if family(f.reviewer) == gen_family else "cross"
                        fam = session_fam[kind]
                        fam["raised"] += 1
                        fam["accepted"] += c.verdict == "accepted"
                        fam["confirmed"] += confirmed
                        b = calibration[_bucket(f.confidence)]
                        b["raised"] += 1
                        b[c.verdict] += 1
                        b["confirmed"] += confirmed
                        b["confidence_sum"] += f.confidence
        for kind, fam in session_fam.items():
            for k, v in fam.items():
                families[kind][k] += v
        if any(fam["reviews"] for fam in session_fam.values()):
            per_session.append({"session_id": s.id, "repo": s.meta.repo_name if s.meta else "",
                                "generator": s.generator, **session_fam})
    model_rows = []
    for (model, role), row in sorted(totals.items()):
        out = _finish({"model": model, "role": role, **row})
        out["cost_usd"] = round(row["cost_usd"], 6)
        out["cost_per_accepted"] = (
            round(row["cost_usd"] / row["accepted"], 6) if row["accepted"] else None
        )
        model_rows.append(out)
    for overall in families.values():
        overall["acceptance"] = _ratio(overall["accepted"], overall["raised"])
        overall["raised_per_review"] = _ratio(overall["raised"], overall["reviews"])
    buckets = []
    for b in calibration:
        total = b.pop("confidence_sum")
        decided = b["accepted"] + b["rejected"]
        buckets.append({**b, "accepted_share": _ratio(b["accepted"], decided),
                        "mean_confidence": round(total / b["raised"], 4) if b["raised"] else None})
    return {
        "filters": {"repo": filters.repo, "model": filters.model,
                    "since": filters.since.isoformat() if filters.since else None},
        "sessions": len(kept),
        "models": model_rows,
        "reviewers": [_finish({"model": m, "role": r, "category": c, **row})
                      for (m, r, c), row in sorted(reviewers.items())],
        "generators": [{"model": m, "category": c, **row}
                       for (m, c), row in sorted(generators.items())],
        "families": {**families, "sessions": per_session},
        "calibration": buckets,
        "reviews": [{"model": m, **row, "weak_share": _ratio(row["weak"], row["reviews"])}
                    for m, row in sorted(reviews.items())],
    }


def _role(model: str) -> str:
    return "check" if is_check(model) else "reviewer"


def record_line(board: dict[str, Any], model: str) -> str | None:
    """A model's record in one line (`12 raised · 58% accepted · 7/9 kept`), or None when the
    scoreboard has nothing on it."""
    row = next((r for r in board["models"] if r["model"] == model and r["role"] == "reviewer"),
               None)
    if row is None or not row["raised"]:
        return None
    decided = row["accepted"] + row["rejected"]
    return (f"{row['raised']} raised · {_percent(row['acceptance'])} accepted · "
            f"{row['accepted']}/{decided} kept of decided")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


# --------------------------------------------------------------------------------------------
# rendering: text, Markdown, CSV

MODEL_COLUMNS = ("model", "role", "raised", "accepted", "rejected", "pending", "acceptance",
                 "precision", "confirmed", "cost_usd", "cost_per_accepted")
REVIEWER_COLUMNS = ("model", "role", "category", "raised", "accepted", "rejected", "pending",
                    "acceptance", "precision", "confirmed")
GENERATOR_COLUMNS = ("model", "category", "answered", "agreed", "disputed", "partial",
                     "upheld", "overruled", "dispute_pending")
FAMILY_COLUMNS = ("kind", "reviews", "raised", "accepted", "confirmed", "acceptance",
                  "raised_per_review")
REVIEW_COLUMNS = ("model", "reviews", "retried", "weak", "weak_share")
CALIBRATION_COLUMNS = ("bucket", "raised", "accepted", "rejected", "pending", "accepted_share",
                       "mean_confidence")


def _cell(value: Any, column: str) -> str:
    if value is None:
        return "–"
    if column in ("acceptance", "precision", "accepted_share", "weak_share"):
        return _percent(value)
    if column.startswith("cost"):
        return f"${value:.4f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def tables(board: dict[str, Any]) -> list[tuple[str, Sequence[str], list[list[str]]]]:
    """The scoreboard's tables as (title, columns, rows of cells): one source for the text,
    Markdown and CSV renderings and the TUI screen."""
    fams = board["families"]
    family_rows = [{"kind": kind, **fams[kind]} for kind in ("same", "cross")]
    out: list[tuple[str, Sequence[str], list[list[str]]]] = []
    sections: tuple[tuple[str, Sequence[str], list[dict[str, Any]]], ...] = (
        ("Models", MODEL_COLUMNS, board["models"]),
        ("By category", REVIEWER_COLUMNS, board["reviewers"]),
        ("Generators: stances and the human's verdicts", GENERATOR_COLUMNS, board["generators"]),
        ("Same-family vs cross-family review", FAMILY_COLUMNS, family_rows),
        ("Calibration: reviewer confidence vs verdicts", CALIBRATION_COLUMNS, board["calibration"]),
        ("Reviews: weak = no findings and a thin summary, even after one firmer retry",
         REVIEW_COLUMNS, board.get("reviews", [])),
    )
    for title, columns, rows in sections:
        out.append((title, columns, [[_cell(r.get(c), c) for c in columns] for r in rows]))
    return out


def render_text(board: dict[str, Any]) -> str:
    lines = [_heading(board), ""]
    for title, columns, rows in tables(board):
        widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c)
                  for i, c in enumerate(columns)]
        lines.append(title)
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths)))
        lines += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
        if not rows:
            lines.append("  (none)")
        lines.append("")
    lines.append("acceptance = accepted / raised (pending counts); "
                 "precision = accepted / (accepted + rejected)")
    return "\n".join(lines) + "\n"


def _heading(board: dict[str, Any]) -> str:
    f = board["filters"]
    where = [f"{k} {v}" for k, v in f.items() if v]
    return f"{board['sessions']} sessions" + (f" ({', '.join(where)})" if where else "")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(board: dict[str, Any]) -> str:
    lines = [f"# Counterpoint scoreboard: {_md(_heading(board))}", ""]
    for title, columns, rows in tables(board):
        lines += [f"## {title}", "", "| " + " | ".join(columns) + " |",
                  "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_md(v) for v in r) + " |" for r in rows]
        lines.append("")
    return "\n".join(lines)


def render_csv(board: dict[str, Any]) -> str:
    """One CSV: a `table` column says which table each row belongs to; raw numbers."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    fams = board["families"]
    sections = (
        ("models", MODEL_COLUMNS, board["models"]),
        ("by-category", REVIEWER_COLUMNS, board["reviewers"]),
        ("generators", GENERATOR_COLUMNS, board["generators"]),
        ("families", FAMILY_COLUMNS, [{"kind": k, **fams[k]} for k in ("same", "cross")]),
        ("calibration", CALIBRATION_COLUMNS, board["calibration"]),
        ("reviews", REVIEW_COLUMNS, board.get("reviews", [])),
    )
    for name, columns, rows in sections:
        writer.writerow(["table", *columns])
        for r in rows:
            writer.writerow([name, *("" if r.get(c) is None else r.get(c) for c in columns)])
    return buf.getvalue()
