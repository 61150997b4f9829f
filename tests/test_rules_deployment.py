"""The deployment table's rules: what is prescribed, what a reviewer may decide, departures.

Pure functions over an assessment's JSON form (issue 16): a decision at exactly the prescribed
tier is no departure, one cell more open is refused without a justification and recorded with
one; unknown jurisdiction groups and sectors are named with the valid ones.
"""

from __future__ import annotations

from typing import Any

import pytest

from clearance.errors import InvalidInput
from clearance.register import Departure
from clearance.register._deployment import (
    Table,
    caps,
    check_known,
    decided_table,
    prescribed,
    prescribed_table,
    sector_caps,
)
from tests.framework_data import load, small

FRAMEWORK = load(small())
# what assess() writes for SMALL at level c1 with filters in place: t1 public_safeguarded,
# t2 approved_partners (its level cap) with military end users internal
ASSESSMENT: dict[str, Any] = {
    "jurisdictions": [
        {"group": "t1", "max_tier": "public_safeguarded", "end_users": []},
        {
            "group": "t2",
            "max_tier": "approved_partners",
            "end_users": [["military", "internal"]],
        },
    ]
}


def decide(**kw: Any) -> Table:
    args: dict[str, Any] = {
        "assessment": ASSESSMENT,
        "requested": "public",
        "requested_groups": ("t1", "t2"),
        "framework": FRAMEWORK,
        "tier": "public_safeguarded",
        "jurisdictions": ("t1",),
        "tiers": None,
        "sector_tiers": {},
        "justified": False,
    }
    args.update(kw)
    return decided_table(**args)


def test_the_prescribed_tier_is_the_more_closed_of_the_request_and_the_groups_cap() -> None:
    assert caps(ASSESSMENT) == {"t1": "public_safeguarded", "t2": "approved_partners"}
    assert sector_caps(ASSESSMENT) == {"t1": {}, "t2": {"military": "internal"}}
    assert prescribed(ASSESSMENT, "public", "t1") == "public_safeguarded"
    assert prescribed(ASSESSMENT, "approved_partners", "t1") == "approved_partners"
    # a group the assessment does not list is prescribed nothing
    assert prescribed(ASSESSMENT, "public", "t9") == "halted"
    assert caps({}) == {} and sector_caps({}) == {}


def test_a_deemed_approval_gets_the_prescribed_table_of_the_requested_groups() -> None:
    table = prescribed_table(ASSESSMENT, "public", ("t2", "t1"))
    assert table.tiers == {"t1": "public_safeguarded", "t2": "approved_partners"}
    assert table.sector_tiers == {"t2": {"military": "internal"}}
    assert table.departures == ()
    assert table.most_open == "public_safeguarded"
    narrower = prescribed_table(ASSESSMENT, "approved_partners", ("t1",))
    assert narrower.tiers == {"t1": "approved_partners"}
    assert narrower.sector_tiers == {}
    # as assessed: the caps alone, whatever was requested
    assessed = prescribed_table(ASSESSMENT, "approved_partners", ("t1",), as_assessed=True)
    assert assessed.tiers == {"t1": "public_safeguarded"}


def test_a_group_whose_cell_admits_nobody_but_the_developer_is_left_out() -> None:
    internal = {"jurisdictions": [{"group": "t1", "max_tier": "internal", "end_users": []}]}
    table = prescribed_table(internal, "public", ("t1", "t2"))
    assert table.tiers == {} and table.most_open == "halted"
    partners = {"jurisdictions": [{"group": "t1", "max_tier": "approved_partners"}]}
    assert prescribed_table(partners, "public", ("t1",)).tiers == {"t1": "approved_partners"}


def test_a_decision_at_exactly_the_prescribed_tier_is_no_departure() -> None:
    table = decide(tier="public_safeguarded", jurisdictions=("t1",))
    assert table.tiers == {"t1": "public_safeguarded"}
    assert table.departures == ()
    per_cell = decide(tiers={"t1": "public_safeguarded", "t2": "approved_partners"})
    assert per_cell.tiers == {"t1": "public_safeguarded", "t2": "approved_partners"}
    assert per_cell.sector_tiers == {"t2": {"military": "internal"}}
    assert per_cell.departures == ()
    more_closed = decide(tiers={"t1": "approved_partners"})
    assert more_closed.tiers == {"t1": "approved_partners"} and more_closed.departures == ()


def test_one_step_above_the_prescribed_tier_needs_a_justification() -> None:
    with pytest.raises(InvalidInput) as one_tier:
        decide(tier="public", jurisdictions=("t1",))
    assert str(one_tier.value) == (
        "justification: public in t1 is above this cell's cap public_safeguarded; a departure "
        "needs a written justification (or decide at most public_safeguarded there)"
    )
    with pytest.raises(InvalidInput, match=r"^tiers\.t2: public_safeguarded in t2 is above"):
        decide(tiers={"t1": "public_safeguarded", "t2": "public_safeguarded"})


def test_a_justified_departure_is_recorded_cell_by_cell() -> None:
    table = decide(tiers={"t1": "public", "t2": "approved_partners"}, justified=True)
    assert table.tiers == {"t1": "public", "t2": "approved_partners"}
    assert table.departures == (
        Departure(group="t1", prescribed="public_safeguarded", tier="public"),
    )


def test_a_sector_cell_more_open_than_its_cap_is_a_departure_too() -> None:
    sectors = {"t2": {"military": "approved_partners"}}
    tiers = {"t2": "approved_partners"}
    with pytest.raises(InvalidInput) as error:
        decide(tiers=tiers, sector_tiers=sectors)
    assert str(error.value) == (
        "sector_tiers.t2.military: approved_partners is above this cell's cap internal; "
        "a departure needs a written justification"
    )
    table = decide(tiers=tiers, sector_tiers=sectors, justified=True)
    assert table.departures == (
        Departure(group="t2", sector="military", prescribed="internal", tier="approved_partners"),
    )
    # set to the group's own tier, the sector needs no cell of its own
    assert table.sector_tiers == {}
    # at its cap: no departure
    at_cap = decide(tiers=tiers, sector_tiers={"t2": {"military": "internal"}})
    assert at_cap.departures == () and at_cap.sector_tiers == {"t2": {"military": "internal"}}


def test_a_sector_the_framework_does_not_cap_is_capped_by_its_group() -> None:
    data = small()
    data["sectors"] = ["research"]
    framework = load(data)
    with pytest.raises(InvalidInput, match=r"sector_tiers\.t1\.research: public is above"):
        decide(
            framework=framework,
            tiers={"t1": "public_safeguarded"},
            sector_tiers={"t1": {"research": "public"}},
        )
    table = decide(
        framework=framework,
        tiers={"t1": "public_safeguarded"},
        sector_tiers={"t1": {"research": "approved_partners"}},
    )
    assert table.sector_tiers == {"t1": {"research": "approved_partners"}}


def test_a_halted_cell_is_left_out_of_the_table() -> None:
    table = decide(tiers={"t1": "halted", "t2": "approved_partners"})
    assert table.tiers == {"t2": "approved_partners"}


def test_unknown_groups_and_sectors_are_named_with_the_valid_ones() -> None:
    with pytest.raises(InvalidInput) as error:
        decide(jurisdictions=("t1", "mars", "atlantis"))
    assert str(error.value) == (
        "jurisdiction group: unknown jurisdiction group 'atlantis', 'mars'; valid: t1, t2"
    )
    with pytest.raises(InvalidInput, match="unknown jurisdiction group 'mars'"):
        decide(tiers={"mars": "public"})
    with pytest.raises(InvalidInput, match="unknown jurisdiction group 'mars'"):
        decide(sector_tiers={"mars": {"military": "internal"}})
    with pytest.raises(InvalidInput) as sector:
        decide(tiers={"t2": "approved_partners"}, sector_tiers={"t2": {"navy": "internal"}})
    assert str(sector.value) == "sector_tiers.t2: unknown sector 'navy'; valid: military"
    with pytest.raises(InvalidInput, match=r"^where: unknown thing 'x'; valid: \(none\)$"):
        check_known("thing", ("x",), (), where="where")
    check_known("thing", ("a",), ("a", "b"))


def test_a_decision_covers_only_the_groups_the_application_requested() -> None:
    with pytest.raises(InvalidInput) as error:
        decide(requested_groups=("t2",), jurisdictions=("t1",))
    assert str(error.value) == "jurisdictions: the application did not request t1 (it requested t2)"
    with pytest.raises(InvalidInput) as outside:
        decide(tiers={"t1": "public_safeguarded"}, sector_tiers={"t2": {"military": "internal"}})
    assert str(outside.value) == (
        "sector_tiers: t2 is not a group of this decision; name it in tiers (or jurisdictions) "
        "first"
    )


def test_the_request_bounds_what_is_prescribed_in_every_cell() -> None:
    # requested approved_partners: public_safeguarded in t1 is a departure
    with pytest.raises(InvalidInput, match="above this cell's cap approved_partners"):
        decide(requested="approved_partners", tier="public_safeguarded")
    table = decide(
        requested="approved_partners", tier="approved_partners", jurisdictions=("t1", "t2")
    )
    assert table.tiers == {"t1": "approved_partners", "t2": "approved_partners"}
    assert table.sector_tiers == {"t2": {"military": "internal"}}


# --- found by mutation testing -------------------------------------------------------------------

RESEARCH: dict[str, Any] = {
    "jurisdictions": [
        {
            "group": "t1",
            "max_tier": "public",
            "end_users": [["research", "public_safeguarded"]],
        },
        {"group": "t2", "max_tier": "approved_partners", "end_users": []},
    ]
}


def research_framework() -> Any:
    data = small()
    data["sectors"] = ["research"]
    return load(data)


def test_a_sector_cap_never_opens_a_cell_beyond_the_tier_decided_for_its_group() -> None:
    table = decide(
        assessment=RESEARCH,
        framework=research_framework(),
        tiers={"t1": "approved_partners"},
    )
    assert table.tiers == {"t1": "approved_partners"}
    # the research cap (public_safeguarded) is more open than the group's cell: no cell of its own
    assert table.sector_tiers == {}


def test_a_sector_cell_above_the_requested_tier_is_a_departure() -> None:
    with pytest.raises(InvalidInput, match=r"sector_tiers\.t1\.research: public_safeguarded is"):
        decide(
            assessment=RESEARCH,
            framework=research_framework(),
            requested="approved_partners",
            tiers={"t1": "approved_partners"},
            sector_tiers={"t1": {"research": "public_safeguarded"}},
        )


def test_an_application_that_requested_no_group_names_every_group_decided() -> None:
    with pytest.raises(InvalidInput) as error:
        decide(requested_groups=(), jurisdictions=("t1", "t2"))
    assert str(error.value) == (
        "jurisdictions: the application did not request t1, t2 (it requested )"
    )


def test_the_callers_cell_is_its_groups_tier_unless_its_sector_has_one() -> None:
    from clearance.register import cell

    tiers = {"t1": "public", "t2": "approved_partners"}
    sectors = {"t2": {"military": "internal"}}
    assert cell(tiers, sectors, "t1", "military") == ("public", "public")  # type: ignore[arg-type]
    assert cell(tiers, sectors, "t2", "military") == ("approved_partners", "internal")  # type: ignore[arg-type]
    assert cell(tiers, sectors, "t2", "") == ("approved_partners", "approved_partners")  # type: ignore[arg-type]
    assert cell(tiers, sectors, "t3", "") == (None, None)  # type: ignore[arg-type]
    assert cell(tiers, sectors, None, "military") == (None, None)  # type: ignore[arg-type]


def test_a_justified_departure_in_a_group_the_assessment_does_not_list() -> None:
    """Nothing is prescribed there (halted): any cell is a departure, recorded with its sectors."""
    only_t1 = {"jurisdictions": [{"group": "t1", "max_tier": "public", "end_users": []}]}
    with pytest.raises(InvalidInput, match="above this cell's cap halted"):
        decide(assessment=only_t1, tiers={"t2": "internal"})
    table = decide(
        assessment=only_t1,
        tiers={"t2": "approved_partners"},
        sector_tiers={"t2": {"military": "internal"}},
        justified=True,
    )
    assert table.tiers == {"t2": "approved_partners"}
    assert table.sector_tiers == {"t2": {"military": "internal"}}
    assert table.departures == (
        Departure(group="t2", prescribed="halted", tier="approved_partners"),
        Departure(group="t2", sector="military", prescribed="halted", tier="internal"),
    )
