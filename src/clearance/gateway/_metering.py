"""Metering without content: calls, tokens and refusals per model, organization and grant.

Counters are plain dicts on the hot path; Prometheus reads them through a collector. The
register gets the totals either from a journal on disk (`spool`, see `_spool`: exactly once,
a killed process included) or, without one, as the totals accumulated since it last asked
(`drain`). No prompt or completion is ever seen here: only the upstream's usage numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

NO_GRANT = "-"

# (model, organization, grant) -> [calls, upstream failures, prompt tokens, completion tokens]
UsageKey = tuple[str, str, str]


class Journal(Protocol):
    """Where each metered call is written before its answer goes out."""

    def write(self, record: list[Any]) -> None:
        """Append one record."""


@dataclass(frozen=True)
class UsageRow:
    """Totals for one (model, organization, grant) since the last drain."""

    model: str
    organization: str
    grant: str
    calls: int
    failures: int
    prompt_tokens: int
    completion_tokens: int
    refusals: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        """The row as JSON data."""
        return {
            "model": self.model,
            "organization": self.organization,
            "grant": self.grant,
            "calls": self.calls,
            "failures": self.failures,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "refusals": dict(self.refusals),
        }


class Meter:
    """Counts since start (for Prometheus) and since the last drain (for the register)."""

    def __init__(self, spool: Journal | None = None) -> None:
        self.spool = spool
        self.usage: dict[UsageKey, list[int]] = {}
        self.refusals: dict[tuple[str, str, str], int] = {}
        self._pending: dict[UsageKey, list[int]] = {}
        self._pending_refusals: dict[tuple[str, str, str], int] = {}
        self.snapshot_version = 0
        self.snapshot_expires_at = 0.0

    def call(self, model: str, org: str, grant: str, prompt: int, completion: int) -> None:
        """A call the upstream answered, with the tokens its usage reported."""
        key = (model, org, grant)
        if self.spool is not None:
            self.spool.write(["c", model, org, grant, prompt, completion])
        for table in (self.usage, self._pending) if self.spool is None else (self.usage,):
            row = table.get(key)
            if row is None:
                row = table[key] = [0, 0, 0, 0]
            row[0] += 1
            row[2] += prompt
            row[3] += completion

    def failure(self, model: str, org: str, grant: str) -> None:
        """A call forwarded that the upstream failed to answer."""
        key = (model, org, grant)
        if self.spool is not None:
            self.spool.write(["f", model, org, grant])
        for table in (self.usage, self._pending) if self.spool is None else (self.usage,):
            row = table.get(key)
            if row is None:
                row = table[key] = [0, 0, 0, 0]
            row[0] += 1
            row[1] += 1

    def refusal(self, code: str, model: str, org: str) -> None:
        """A call refused by the gateway, by reason."""
        key = (code, model, org)
        self.refusals[key] = self.refusals.get(key, 0) + 1
        if self.spool is not None:
            self.spool.write(["r", code, model, org])
        else:
            self._pending_refusals[key] = self._pending_refusals.get(key, 0) + 1

    def drain(self) -> list[UsageRow]:
        """The totals since the last drain, per (model, organization, grant); then start anew.

        Always empty with a spool: the journal is what gets reported.
        """
        usage, self._pending = self._pending, {}
        refusals, self._pending_refusals = self._pending_refusals, {}
        rows: dict[UsageKey, UsageRow] = {}
        for (model, org, grant), (calls, failures, prompt, completion) in usage.items():
            rows[(model, org, grant)] = UsageRow(
                model, org, grant, calls, failures, prompt, completion, {}
            )
        for (code, model, org), count in refusals.items():
            key = (model, org, NO_GRANT)
            row = rows.get(key) or UsageRow(model, org, NO_GRANT, 0, 0, 0, 0, {})
            row.refusals[code] = row.refusals.get(code, 0) + count
            rows[key] = row
        return list(rows.values())

    def restore(self, rows: list[UsageRow]) -> None:
        """Put drained totals back (the register could not take them); nothing is lost."""
        for row in rows:
            key = (row.model, row.organization, row.grant)
            pending = self._pending.setdefault(key, [0, 0, 0, 0])
            pending[0] += row.calls
            pending[1] += row.failures
            pending[2] += row.prompt_tokens
            pending[3] += row.completion_tokens
            for code, count in row.refusals.items():
                refusal_key = (code, row.model, row.organization)
                self._pending_refusals[refusal_key] = (
                    self._pending_refusals.get(refusal_key, 0) + count
                )


class MeterCollector(Collector):
    """Exposes a Meter to Prometheus."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter

    def collect(self) -> Iterator[Any]:
        labels = ["model", "organization", "grant"]
        calls = CounterMetricFamily(
            "clearance_gateway_calls", "Calls forwarded to an upstream.", labels=labels
        )
        failures = CounterMetricFamily(
            "clearance_gateway_upstream_failures",
            "Forwarded calls the upstream failed to answer.",
            labels=labels,
        )
        tokens = CounterMetricFamily(
            "clearance_gateway_tokens",
            "Tokens reported by the upstream's usage.",
            labels=[*labels, "kind"],
        )
        for (model, org, grant), (n, failed, prompt, completion) in list(self._meter.usage.items()):
            calls.add_metric([model, org, grant], n)
            failures.add_metric([model, org, grant], failed)
            tokens.add_metric([model, org, grant, "prompt"], prompt)
            tokens.add_metric([model, org, grant, "completion"], completion)
        refusals = CounterMetricFamily(
            "clearance_gateway_refusals",
            "Calls refused by the gateway, by reason code.",
            labels=["code", "model", "organization"],
        )
        for (code, model, org), count in list(self._meter.refusals.items()):
            refusals.add_metric([code, model, org], count)
        version = GaugeMetricFamily(
            "clearance_gateway_snapshot_version", "Version of the policy snapshot in force."
        )
        version.add_metric([], self._meter.snapshot_version)
        expiry = GaugeMetricFamily(
            "clearance_gateway_snapshot_expires_at",
            "When the snapshot in force expires (Unix time).",
        )
        expiry.add_metric([], self._meter.snapshot_expires_at)
        yield from (calls, failures, tokens, refusals, version, expiry)
