"""Typed evidence as the assessor sees it; the adapters in clearance.evidence produce these."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True)
class Score:
    """One reported metric of one scorer (and epochs reducer) of an evaluation run."""

    scorer: str
    metric: str
    value: float
    stderr: float | None = None
    reducer: str | None = None
    filter: str | None = None
    samples: int | None = None
    """How many samples `value` is the mean of, when each sample's score lies in [0, 1]."""
    successes: float | None = None
    """The sum of those samples' scores: for 0/1 scores, how many samples succeeded."""

    def __post_init__(self) -> None:
        if not math.isfinite(self.value):
            raise ValueError(f"score {self.scorer}/{self.metric} is not a finite number")
        if self.stderr is not None and (not math.isfinite(self.stderr) or self.stderr < 0):
            raise ValueError(f"stderr of {self.scorer}/{self.metric} must be finite and >= 0")
        if (self.samples is None) != (self.successes is None):
            raise ValueError(f"{self.scorer}/{self.metric}: give samples and successes together")
        if self.samples is not None and self.successes is not None:
            if self.samples < 1 or not 0 <= self.successes <= self.samples:
                raise ValueError(
                    f"{self.scorer}/{self.metric}: successes must lie between 0 and samples (>= 1)"
                )
            if not math.isclose(
                self.successes / self.samples, self.value, rel_tol=1e-9, abs_tol=1e-9
            ):
                raise ValueError(
                    f"{self.scorer}/{self.metric}: {self.successes:g} of {self.samples} is not "
                    f"the score {self.value:g}"
                )

    @property
    def is_proportion(self) -> bool:
        """True when the per-sample counts behind the value are known."""
        return self.samples is not None and self.successes is not None


@dataclass(frozen=True)
class EvalRun:
    """A finished evaluation run (Inspect log or lm-eval results), named by its bytes' SHA-256."""

    digest: str
    source: Literal["inspect", "lm_eval"]
    name: str
    task: str
    task_version: int | str | float
    model: str
    epochs: int
    samples: int
    scores: tuple[Score, ...]

    kind: Literal["eval"] = "eval"


@dataclass(frozen=True)
class Finding:
    """One red-team finding."""

    id: str
    title: str
    category: str
    scope: Literal["general", "narrow"]
    severity: Severity
    reproduced: bool
    mitigated: bool
    domain: str | None = None


@dataclass(frozen=True)
class FindingsReport:
    """A red-team findings file, named by its bytes' SHA-256."""

    digest: str
    name: str
    findings: tuple[Finding, ...]

    kind: Literal["findings"] = "findings"


@dataclass(frozen=True)
class SafeguardClaim:
    """A safeguard the developer says is in place, and the kinds of evidence it cites."""

    id: str
    description: str
    evidence_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class SafeguardDeclaration:
    """A safeguards declaration file, named by its bytes' SHA-256."""

    digest: str
    name: str
    safeguards: tuple[SafeguardClaim, ...]


Evidence = EvalRun | FindingsReport
"""Anything the assessor weighs besides the safeguards declaration."""


def evidence_to_dict(item: Evidence | SafeguardDeclaration) -> dict[str, Any]:
    """Typed evidence as JSON-ready data (what the register keeps beside the bytes)."""
    data = asdict(item)
    data["type"] = type(item).__name__
    return data


def evidence_from_dict(data: dict[str, Any]) -> Evidence | SafeguardDeclaration:
    """The inverse of evidence_to_dict."""
    body = {k: v for k, v in data.items() if k != "type"}
    kind = data.get("type")
    if kind == "EvalRun":
        body["scores"] = tuple(Score(**score) for score in body["scores"])
        return EvalRun(**body)
    if kind == "FindingsReport":
        body["findings"] = tuple(Finding(**finding) for finding in body["findings"])
        return FindingsReport(**body)
    if kind == "SafeguardDeclaration":
        body["safeguards"] = tuple(
            SafeguardClaim(**{**claim, "evidence_kinds": tuple(claim["evidence_kinds"])})
            for claim in body["safeguards"]
        )
        return SafeguardDeclaration(**body)
    raise ValueError(f"unknown evidence type {kind!r}")
