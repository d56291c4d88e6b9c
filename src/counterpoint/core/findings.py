"""Findings: what reviewers report, and what the generator says back.

`ReviewOutput` and `ResponseOutput` are the shapes models are asked to fill (their JSON schema
is sent through the provider's structured-output mechanism). `Finding` is what the session
keeps: the reviewer's finding plus its id, author, round, location check and the generator's
stance on it.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["critical", "high", "medium", "low", "info"]
Category = Literal[
    "security",
    "concurrency",
    "correctness",
    "error-handling",
    "performance",
    "simplicity",
    "consistency",
    "testing",
    "docs",
]
StanceWord = Literal["agree", "dispute", "partial"]
Stance = Literal["agree", "dispute", "partial", "none"]
Agreement = Literal["consensus", "solo", "severity-split"]
Verdict = Literal["accepted", "rejected", "pending"]

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}
"""info=0 ... critical=4: higher is worse."""


def cluster_order(
    contested: bool, severity: str, path: str, start_line: int, cluster_id: str
) -> tuple[bool, int, str, int, str]:
    """The sort key of a cluster wherever clusters are listed (the table, the exports):
    contested first, then severity (critical first), then path and start line."""
    return (not contested, -SEVERITY_RANK[severity], path, start_line, cluster_id)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FindingOutput(_Strict):
    """One finding as a reviewer writes it. Lines refer to the proposed (new) file."""

    path: str
    start_line: int
    end_line: int
    severity: Severity
    category: Category
    title: str
    rationale: str
    suggestion: str | None
    confidence: float = Field(ge=0.0, le=1.0)


class ReviewOutput(_Strict):
    summary: str
    verdict: Literal["approve", "needs-changes"]
    findings: list[FindingOutput]


class StanceOutput(_Strict):
    finding_id: str
    stance: StanceWord
    reply: str


class ResponseOutput(_Strict):
    responses: list[StanceOutput]


class Finding(BaseModel):
    """A finding as the session keeps it."""

    id: str
    round: int
    reviewer: str
    path: str
    start_line: int
    end_line: int
    severity: Severity
    category: Category
    title: str
    rationale: str
    suggestion: str | None = None
    confidence: float = 0.5
    location_problem: str | None = None
    """Set when the path is not in the proposal/repo or the lines fall outside the file."""
    stance: Stance = "none"
    reply: str | None = None


def finding_id(round_no: int, reviewer_index: int, n: int) -> str:
    """Short, readable ids that a generator can quote back: r1-a1, r1-a2, r1-b1 ..."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return f"r{round_no}-{letters[reviewer_index % 26]}{n}"


def _strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A JSON schema that OpenAI strict mode and Anthropic tools both accept.

    Inlines $defs, requires every property, forbids extra keys and drops keywords that strict
    mode rejects (numeric bounds, titles, defaults).
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                return resolve(copy.deepcopy(defs[name]))
            out = {
                k: resolve(v)
                for k, v in node.items()
                if k not in {"title", "default", "minimum", "maximum", "properties"}
            }
            if "properties" in node:
                out["properties"] = {k: resolve(v) for k, v in node["properties"].items()}
            if out.get("type") == "object" and "properties" in out:
                out["required"] = list(out["properties"])
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def review_schema() -> dict[str, Any]:
    return _strict_schema(ReviewOutput)


def response_schema() -> dict[str, Any]:
    return _strict_schema(ResponseOutput)


class Cluster(BaseModel):
    """Findings from different reviewers that describe the same problem.

    `severity`, `category`, `path`, lines and `title` summarise the members (worst severity,
    the most common category, the union of the line ranges, the title of the most severe and
    most confident finding). `stance` is the generator's stance over the members: all agree →
    agree, any dispute → dispute, otherwise partial; none when it did not answer.
    """

    id: str
    round: int
    agreement: Agreement
    stance: Stance = "none"
    contested: bool
    severity: Severity
    category: Category
    path: str
    start_line: int
    end_line: int
    title: str
    findings: list[Finding]
    verdict: Verdict = "pending"
    note: str | None = None
    confirmed: bool = False
    """A check's failure joined the models' findings here: the problem is proven."""

    @property
    def reviewers(self) -> list[str]:
        return sorted({f.reviewer for f in self.findings})
