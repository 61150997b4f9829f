"""Capability against thresholds: per domain and metric, every model version's results over time.

Charts are SVG drawn on the server (no script), each with a title, a description and a table of
every data point as its text alternative.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from clearance.api import Context
from clearance.errors import NotFound
from clearance.framework import Framework, Metric
from clearance.register import Application, ModelConfig
from clearance.store import Transaction
from clearance.web._home import Ctx
from clearance.web._render import HtmlRoute, page

router = APIRouter(route_class=HtmlRoute)

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 140, 16, 40
PALETTE = ("#0969da", "#8250df", "#bf3989", "#1a7f37", "#9a6700", "#cf222e", "#57606a", "#0a3069")


@dataclass(frozen=True)
class Point:
    """One evaluation result: a model version's score on a metric, from one application."""

    model: str
    version: str
    application_id: str
    at: dt.datetime
    value: float
    lower: float | None
    upper: float | None
    evidence: str | None
    x: float = 0.0
    y: float = 0.0
    y_lower: float | None = None
    y_upper: float | None = None
    colour: str = ""


@dataclass
class Chart:
    """One metric's chart: its thresholds, its points placed on the canvas, and its axes."""

    domain: str
    metric: Metric
    thresholds: list[dict[str, Any]] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    series: list[tuple[str, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def id(self) -> str:
        """An id for the chart's elements."""
        return f"chart-{self.metric.id}"

    @property
    def description(self) -> str:
        """The chart in one paragraph, for readers who cannot see it."""
        lines = ", ".join(f"{level} at {value:g}" for level, value in self._threshold_pairs())
        if not self.points:
            return f"No results yet for {self.metric.id}. Thresholds: {lines}."
        top = max(self.points, key=lambda p: p.value)
        return (
            f"{len(self.points)} result(s) for {self.metric.id} from {len(self.series)} model "
            f"version(s), plotted by filing date against the thresholds ({lines}). The highest is "
            f"{top.value:g}, by {top.model} {top.version}."
        )

    def _threshold_pairs(self) -> list[tuple[str, float]]:
        return [(t["level"], t["value"]) for t in self.thresholds]


def results(
    applications: list[Application], models: dict[str, ModelConfig]
) -> dict[str, list[Point]]:
    """Metric id to the results its applications' assessments recorded, oldest first."""
    found: dict[str, list[Point]] = {}
    for application in sorted(applications, key=lambda a: (a.filed_at, a.id)):
        model = models.get(application.model_id)
        if model is None:
            continue
        seen: set[str] = set()
        for domain in application.assessment.get("domains", []):
            for test in domain.get("tests", []):
                metric, value = test.get("metric"), test.get("value")
                if not isinstance(metric, str) or not isinstance(value, (int, float)):
                    continue
                if metric in seen:
                    continue
                seen.add(metric)
                found.setdefault(metric, []).append(
                    Point(
                        model=model.name,
                        version=model.version,
                        application_id=application.id,
                        at=application.filed_at,
                        value=float(value),
                        lower=_number(test.get("lower")),
                        upper=_number(test.get("upper")),
                        evidence=test.get("evidence"),
                    )
                )
    return found


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def build_chart(framework: Framework, metric: Metric, points: list[Point]) -> Chart:
    """Place a metric's points and thresholds on the canvas."""
    chart = Chart(domain=metric.domain, metric=metric)
    low, high = metric.range
    span = high - low

    def y_of(value: float) -> float:
        clamped = min(max(value, low), high)
        return round(chart.bottom - (clamped - low) / span * (chart.bottom - chart.top), 2)

    levels = {level.id: level.name for level in framework.domain(metric.domain).levels}
    chart.thresholds = [
        {"level": level, "name": levels.get(level, level), "value": value, "y": y_of(value)}
        for level, value in sorted(metric.thresholds.items(), key=lambda item: item[1])
    ]
    chart.y_ticks = [(y_of(low + span * i / 4), f"{low + span * i / 4:g}") for i in range(5)]
    if points:
        first, last = min(p.at for p in points), max(p.at for p in points)
        if first == last:
            first, last = first - dt.timedelta(days=1), last + dt.timedelta(days=1)
        width = (last - first).total_seconds()

        def x_of(moment: dt.datetime) -> float:
            share = (moment - first).total_seconds() / width
            return round(chart.left + 12 + share * (chart.right - chart.left - 24), 2)

        names = sorted({(p.model, p.version) for p in points})
        colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
        chart.series = [(f"{m} {v}", colours[(m, v)]) for m, v in names]
        chart.points = [
            Point(
                **{
                    **p.__dict__,
                    "x": x_of(p.at),
                    "y": y_of(p.value),
                    "y_lower": y_of(p.lower) if p.lower is not None else None,
                    "y_upper": y_of(p.upper) if p.upper is not None else None,
                    "colour": colours[(p.model, p.version)],
                }
            )
            for p in points
        ]
        chart.x_ticks = [(x_of(first), f"{first:%Y-%m-%d}"), (x_of(last), f"{last:%Y-%m-%d}")]
    return chart


def charts(tx: Transaction, framework: Framework, domain: str | None) -> list[Chart]:
    """Every metric's chart, for one domain or all."""
    applications = tx.find(Application)
    models = {m.id: m for m in tx.find(ModelConfig, id=tuple({a.model_id for a in applications}))}
    by_metric = results(applications, models)
    return [
        build_chart(framework, metric, by_metric.get(metric.id, []))
        for metric in framework.metrics
        if domain is None or metric.domain == domain
    ]


@router.get("/charts", response_class=HTMLResponse, include_in_schema=False)
def charts_page(request: Request, ctx: Ctx) -> HTMLResponse:
    """Every capability domain's charts."""
    return _page(request, ctx, None)


@router.get("/charts/{domain}", response_class=HTMLResponse, include_in_schema=False)
def domain_page(domain: str, request: Request, ctx: Ctx) -> HTMLResponse:
    """One capability domain's charts."""
    return _page(request, ctx, domain)


def _page(request: Request, ctx: Context, domain: str | None) -> HTMLResponse:
    with ctx.store.read() as tx:
        digest, framework = ctx.framework(tx)
        if domain is not None and domain not in {d.id for d in framework.domains}:
            raise NotFound(f"The framework in force has no capability domain {domain!r}.")
        drawn = charts(tx, framework, domain)
    groups = [
        (d, [c for c in drawn if c.domain == d.id])
        for d in framework.domains
        if domain is None or d.id == domain
    ]
    return page(
        request, "charts.html", framework=framework, digest=digest, groups=groups, domain=domain
    )
