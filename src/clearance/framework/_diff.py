"""What changed between two framework versions, in words a reader can check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from clearance.framework._schema import Framework

Area = Literal[
    "identity",
    "statistics",
    "domains",
    "levels",
    "thresholds",
    "metrics",
    "tiers",
    "safeguards",
    "finding_rules",
    "jurisdictions",
    "procedure",
]


@dataclass(frozen=True)
class Change:
    """One difference between two frameworks."""

    area: Area
    path: str
    old: Any
    new: Any
    text: str


def diff_frameworks(old: Framework, new: Framework) -> tuple[Change, ...]:
    """Every difference between two frameworks, grouped by area, in a stable order."""
    changes: list[Change] = []
    for field in ("id", "title", "version", "effective_date", "supersedes"):
        a, b = getattr(old, field), getattr(new, field)
        if a != b:
            changes.append(Change("identity", field, str(a), str(b), f"{field}: {a} -> {b}"))
    if old.statistics != new.statistics:
        a, b = old.statistics.confidence, new.statistics.confidence
        changes.append(
            Change("statistics", "statistics.confidence", a, b, f"confidence level: {a} -> {b}")
        )
    changes.extend(_domains(old, new))
    changes.extend(_metrics(old, new))
    changes.extend(_keyed("safeguards", old.safeguards, new.safeguards, "safeguard"))
    changes.extend(_keyed("finding_rules", old.finding_rules, new.finding_rules, "finding rule"))
    changes.extend(_jurisdictions(old, new))
    changes.extend(
        _fields("procedure", "procedure", old.procedure.model_dump(), new.procedure.model_dump())
    )
    return tuple(changes)


def _by_id(items: Any) -> dict[str, Any]:
    return {item.id: item for item in items}


def _keyed(area: Area, old: Any, new: Any, noun: str) -> Iterator[Change]:
    a, b = _by_id(old), _by_id(new)
    for key in sorted(a.keys() - b.keys()):
        yield Change(area, f"{area}.{key}", key, None, f"{noun} {key} removed")
    for key in sorted(b.keys() - a.keys()):
        yield Change(area, f"{area}.{key}", None, key, f"{noun} {key} added")
    for key in sorted(a.keys() & b.keys()):
        if a[key] != b[key]:
            yield from _fields(area, f"{area}.{key}", a[key].model_dump(), b[key].model_dump())


def _fields(area: Area, prefix: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Change]:
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            yield from _fields(area, f"{prefix}.{key}", a, b)
        else:
            yield Change(area, f"{prefix}.{key}", a, b, f"{prefix}.{key}: {_show(a)} -> {_show(b)}")


def _show(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _domains(old: Framework, new: Framework) -> Iterator[Change]:
    a, b = _by_id(old.domains), _by_id(new.domains)
    for key in sorted(a.keys() - b.keys()):
        yield Change("domains", f"domains.{key}", key, None, f"domain {key} removed")
    for key in sorted(b.keys() - a.keys()):
        yield Change("domains", f"domains.{key}", None, key, f"domain {key} added")
    for key in sorted(a.keys() & b.keys()):
        if a[key].confidential_evidence != b[key].confidential_evidence:
            x, y = a[key].confidential_evidence, b[key].confidential_evidence
            yield Change(
                "domains",
                f"domains.{key}.confidential_evidence",
                x,
                y,
                f"domain {key}: evidence confidential unless the upload says otherwise: {x} -> {y}",
            )
        old_levels = [level.id for level in a[key].levels]
        new_levels = [level.id for level in b[key].levels]
        if old_levels != new_levels:
            yield Change(
                "levels",
                f"domains.{key}.levels",
                old_levels,
                new_levels,
                f"domain {key} levels: {' < '.join(old_levels)} -> {' < '.join(new_levels)}",
            )
        old_by, new_by = _by_id(a[key].levels), _by_id(b[key].levels)
        for level_id in [lv for lv in new_levels if lv in old_by]:
            before, after = old_by[level_id], new_by[level_id]
            for field in ("max_tier", "max_tier_if_safeguards_missing"):
                x, y = getattr(before, field), getattr(after, field)
                if x != y:
                    words = "with safeguards" if field == "max_tier" else "with safeguards missing"
                    yield Change(
                        "tiers",
                        f"domains.{key}.levels.{level_id}.{field}",
                        x,
                        y,
                        f"{key} {level_id}: most open tier {words}: {x} -> {y}",
                    )
            if before.required_safeguards != after.required_safeguards:
                yield Change(
                    "safeguards",
                    f"domains.{key}.levels.{level_id}.required_safeguards",
                    list(before.required_safeguards),
                    list(after.required_safeguards),
                    f"{key} {level_id}: required safeguards "
                    f"{_show(before.required_safeguards)} -> {_show(after.required_safeguards)}",
                )
            for field in ("name", "description"):
                x, y = getattr(before, field), getattr(after, field)
                if x != y:
                    yield Change(
                        "levels",
                        f"domains.{key}.levels.{level_id}.{field}",
                        x,
                        y,
                        f"{key} {level_id}: {field} changed",
                    )


def _metrics(old: Framework, new: Framework) -> Iterator[Change]:
    a, b = _by_id(old.metrics), _by_id(new.metrics)
    for key in sorted(a.keys() - b.keys()):
        yield Change("metrics", f"metrics.{key}", key, None, f"metric {key} removed")
    for key in sorted(b.keys() - a.keys()):
        yield Change("metrics", f"metrics.{key}", None, key, f"metric {key} added")
    for key in sorted(a.keys() & b.keys()):
        before, after = a[key], b[key]
        for level in sorted(before.thresholds.keys() | after.thresholds.keys()):
            x, y = before.thresholds.get(level), after.thresholds.get(level)
            if x == y:
                continue
            if x is None:
                text = f"metric {key}: new threshold {y:g} for {level}"
            elif y is None:
                text = f"metric {key}: threshold for {level} removed (was {x:g})"
            else:
                way = "raised" if y > x else "lowered"
                text = f"metric {key}: threshold for {level} {way} from {x:g} to {y:g}"
            yield Change("thresholds", f"metrics.{key}.thresholds.{level}", x, y, text)
        rest_a = before.model_dump(exclude={"thresholds"})
        rest_b = after.model_dump(exclude={"thresholds"})
        yield from _fields("metrics", f"metrics.{key}", rest_a, rest_b)


def _jurisdictions(old: Framework, new: Framework) -> Iterator[Change]:
    a, b = _by_id(old.jurisdictions), _by_id(new.jurisdictions)
    for key in sorted(a.keys() - b.keys()):
        yield Change("jurisdictions", f"jurisdictions.{key}", key, None, f"group {key} removed")
    for key in sorted(b.keys() - a.keys()):
        yield Change("jurisdictions", f"jurisdictions.{key}", None, key, f"group {key} added")
    for key in sorted(a.keys() & b.keys()):
        before, after = a[key], b[key]
        if before.max_tier != after.max_tier:
            yield Change(
                "tiers",
                f"jurisdictions.{key}.max_tier",
                before.max_tier,
                after.max_tier,
                f"group {key}: most open tier {before.max_tier} -> {after.max_tier}",
            )
        added = sorted(set(after.members) - set(before.members))
        removed = sorted(set(before.members) - set(after.members))
        if added or removed:
            words = "; ".join(
                part
                for part in (
                    f"added {', '.join(added)}" if added else "",
                    f"removed {', '.join(removed)}" if removed else "",
                )
                if part
            )
            yield Change(
                "jurisdictions",
                f"jurisdictions.{key}.members",
                list(before.members),
                list(after.members),
                f"group {key} members: {words}",
            )
        rest_a = before.model_dump(exclude={"max_tier", "members"})
        rest_b = after.model_dump(exclude={"max_tier", "members"})
        yield from _fields("jurisdictions", f"jurisdictions.{key}", rest_a, rest_b)
