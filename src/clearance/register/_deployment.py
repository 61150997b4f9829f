"""The deployment table: jurisdiction group x end-user sector -> tier, within the framework's caps.

A decision is not one tier. The assessment says, for every jurisdiction group, the most open tier
the framework permits there, and for every end-user sector the framework caps, the most open tier
for that sector in that group. A decision fills the table; a cell more open than prescribed is a
departure, allowed only with a written justification and recorded cell by cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clearance.errors import InvalidInput
from clearance.framework import Framework, TierId, most_closed, tier_rank
from clearance.register._records import Departure

DEPLOYED_RANK = tier_rank("approved_partners")
"""Cells up to this rank admit someone beyond the developer; `internal` and `halted` do not."""


@dataclass(frozen=True)
class Table:
    """A filled deployment table and the departures it records."""

    tiers: dict[str, TierId]
    sector_tiers: dict[str, dict[str, TierId]]
    departures: tuple[Departure, ...] = ()

    @property
    def most_open(self) -> TierId:
        """The most open group tier of the table ("halted" when it is empty)."""
        return min(self.tiers.values(), key=tier_rank, default="halted")


def caps(assessment: Mapping[str, Any]) -> dict[str, TierId]:
    """Each jurisdiction group's cap, as the assessment computed it."""
    return {j["group"]: j["max_tier"] for j in assessment.get("jurisdictions", ())}


def sector_caps(assessment: Mapping[str, Any]) -> dict[str, dict[str, TierId]]:
    """Each group's end-user sector caps (already no more open than the group's own cap)."""
    return {j["group"]: dict(j.get("end_users", {})) for j in assessment.get("jurisdictions", ())}


def prescribed(assessment: Mapping[str, Any], requested: TierId, group: str) -> TierId:
    """The tier prescribed for a group: the more closed of the request and the group's cap."""
    return most_closed(requested, caps(assessment).get(group, "halted"))


def prescribed_table(
    assessment: Mapping[str, Any],
    requested: TierId,
    groups: tuple[str, ...],
    *,
    as_assessed: bool = False,
) -> Table:
    """The table the framework prescribes for the requested groups (what a deemed approval gets).

    Each group gets the more closed of the request and its cap (only its cap when
    `as_assessed`); a group whose cell admits nobody beyond the developer is left out.
    """
    group_caps = caps(assessment)
    tiers: dict[str, TierId] = {}
    for group in sorted(groups):
        cap = group_caps.get(group, "halted")
        cell = cap if as_assessed else most_closed(requested, cap)
        if tier_rank(cell) <= DEPLOYED_RANK:
            tiers[group] = cell
    return Table(tiers, _sector_cells(tiers, sector_caps(assessment), {}))


def decided_table(
    *,
    assessment: Mapping[str, Any],
    requested: TierId,
    requested_groups: tuple[str, ...],
    framework: Framework,
    tier: TierId,
    jurisdictions: tuple[str, ...],
    tiers: Mapping[str, TierId] | None,
    sector_tiers: Mapping[str, Mapping[str, TierId]],
    justified: bool,
) -> Table:
    """A reviewer's table, from the one-tier form (`tier` in each of `jurisdictions`) or per cell.

    Each cell is checked against what is prescribed for it (the more closed of the requested
    tier and the framework's cap there): above it without a justification is an error naming the
    cell and its cap; above it with one is recorded as a departure of that cell. Sectors the
    framework caps keep their cap unless `sector_tiers` sets them.
    """
    valid_groups = framework.group_ids()
    named = tuple(tiers) if tiers is not None else jurisdictions
    check_known("jurisdiction group", named, valid_groups)
    check_known("jurisdiction group", tuple(sector_tiers), valid_groups)
    not_requested = sorted(set(named) - set(requested_groups))
    if not_requested:
        raise InvalidInput(
            f"jurisdictions: the application did not request {', '.join(not_requested)} "
            f"(it requested {', '.join(requested_groups)})"
        )
    outside = sorted(set(sector_tiers) - set(named))
    if outside:
        raise InvalidInput(
            f"sector_tiers: {', '.join(outside)} is not a group of this decision; name it in "
            "tiers (or jurisdictions) first"
        )
    valid_sectors = framework.sector_ids()
    for group, cells in sector_tiers.items():
        check_known("sector", tuple(cells), valid_sectors, where=f"sector_tiers.{group}")

    group_caps = {g: prescribed(assessment, requested, g) for g in named}
    departures: list[Departure] = []
    table: dict[str, TierId] = {}
    for group in sorted(named):
        cap = group_caps[group]
        value = tier if tiers is None else tiers[group]
        if tier_rank(value) < tier_rank(cap) and not justified:
            where = "justification" if tiers is None else f"tiers.{group}"
            raise InvalidInput(
                f"{where}: {value} in {group} is above this cell's cap {cap}; a departure "
                f"needs a written justification (or decide at most {cap} there)"
            )
        if tier_rank(value) < tier_rank(cap):
            departures.append(Departure(group=group, prescribed=cap, tier=value))
        if value != "halted":
            table[group] = value

    capped = sector_caps(assessment)
    given: dict[str, dict[str, TierId]] = {g: dict(c) for g, c in sector_tiers.items()}
    for group, overrides in given.items():
        for sector, value in sorted(overrides.items()):
            cap = most_closed(requested, capped.get(group, {}).get(sector, group_caps[group]))
            if tier_rank(value) < tier_rank(cap):
                if not justified:
                    raise InvalidInput(
                        f"sector_tiers.{group}.{sector}: {value} is above this cell's cap "
                        f"{cap}; a departure needs a written justification"
                    )
                departures.append(Departure(group=group, sector=sector, prescribed=cap, tier=value))
    return Table(table, _sector_cells(table, capped, given), tuple(departures))


def cell(
    tiers: Mapping[str, TierId],
    sector_tiers: Mapping[str, Mapping[str, TierId]],
    group: str | None,
    sector: str,
) -> tuple[TierId | None, TierId | None]:
    """(the group's tier, the caller's cell) for a group and sector; None where not in the table."""
    if group is None:
        return None, None
    group_tier = tiers.get(group)
    if group_tier is None:
        return None, None
    return group_tier, sector_tiers.get(group, {}).get(sector, group_tier)


def _sector_cells(
    tiers: Mapping[str, TierId],
    capped: Mapping[str, Mapping[str, TierId]],
    given: Mapping[str, Mapping[str, TierId]],
) -> dict[str, dict[str, TierId]]:
    """Sector cells that differ from their group's: explicit ones, else the sector's cap."""
    table: dict[str, dict[str, TierId]] = {}
    for group, group_tier in tiers.items():
        sectors = set(capped.get(group, {})) | set(given.get(group, {}))
        cells: dict[str, TierId] = {}
        for sector in sorted(sectors):
            explicit = given.get(group, {}).get(sector)
            value = (
                explicit if explicit is not None else most_closed(group_tier, capped[group][sector])
            )
            if value != group_tier:
                cells[sector] = value
        if cells:
            table[group] = cells
    return table


def check_known(
    what: str, names: tuple[str, ...], valid: tuple[str, ...], where: str | None = None
) -> None:
    """InvalidInput naming every unknown name and listing the valid ones."""
    unknown = sorted(set(names) - set(valid))
    if unknown:
        raise InvalidInput(
            f"{where or what}: unknown {what} {', '.join(repr(u) for u in unknown)}; "
            f"valid: {', '.join(valid) or '(none)'}"
        )
