"""The policy snapshot compiled from register records, as a gateway reads it after signing.

Each rule a gateway operator would name: an approval past its validity serves nothing, a revoked
grant opens nothing, an expired grant and a halted model never admit, a key carries its end, a
restriction's every axis survives the trip through JSON, and a tampered snapshot is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any

import pytest

from clearance.errors import InvalidInput
from clearance.policy import Decider, build_snapshot, compile_content, parse_snapshot
from clearance.policy._snapshot import SCHEMA, OrgEntry, Snapshot, caller_cell
from clearance.register import Grant, Limits, ModelConfig, ModelStatus, Organization, Principal
from clearance.register._records import Scope
from tests.framework_data import load, small

START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
NOW = START + dt.timedelta(days=30)
FRAMEWORK = load(small())


def organizations() -> list[Organization]:
    def org(id_: str, kind: str, country: str, sector: str = "") -> Organization:
        return Organization(
            id=id_, name=id_, kind=kind, jurisdiction=country, sector=sector, created_at=START
        )

    return [
        org("dev", "developer", "US"),
        org("us", "partner", "US"),
        org("gb", "partner", "GB", "military"),
        org("br", "partner", "BR"),
        org("auth", "authority", "GB"),
    ]


MODEL = ModelConfig(
    id="mdl",
    organization_id="dev",
    name="m",
    version="1",
    weights_digest="a" * 64,
    channels=("api", "web"),
    created_at=START,
)


def status(name: str = "approved", **fields: Any) -> ModelStatus:
    fields.setdefault("tier", "public" if name == "approved" else None)
    if name == "approved":
        fields.setdefault("tiers", {"t1": "public", "t2": "approved_partners"})
    return ModelStatus(model_id="mdl", name="m", organization_id="dev", status=name, **fields)


def grant(org: str = "br", id_: str = "g1", **fields: Any) -> Grant:
    return Grant(
        id=id_,
        organization_id=org,
        model_id="mdl",
        origin="application",
        granted_by="auth",
        granted_at=START,
        **fields,
    )


def principal(pid: str, org: str, channel: str = "api") -> Principal:
    return Principal(
        id=pid, organization_id=org, name=pid, roles=("partner",), channel=channel, created_at=START
    )


def compiled(
    statuses: list[ModelStatus] | None = None,
    grants: list[Grant] = (),  # type: ignore[assignment]
    **kw: Any,
) -> dict[str, Any]:
    return compile_content(
        framework=kw.pop("framework", FRAMEWORK),
        organizations=organizations(),
        principals=kw.pop("principals", []),
        models=[MODEL],
        statuses=statuses or [status()],
        grants=grants,
        now=kw.pop("now", NOW),
        **kw,
    )


def signed(content: dict[str, Any], version: int = 7) -> Snapshot:
    """Built, written as JSON and read back, as a gateway receives it."""
    built = build_snapshot(
        content, version=version, issued_at=NOW, expires_at=NOW + dt.timedelta(minutes=5)
    )
    return parse_snapshot(built.to_json())


def code(
    snap: Snapshot, org: str, channel: str = "api", when: dt.datetime = NOW, tester: bool = False
) -> str:
    decider = Decider()
    decider.swap(snap)
    verdict = decider.decide_uncached(org, "m", "", when.timestamp(), channel, tester=tester)
    assert verdict.allowed == (verdict.code == "allowed")
    return verdict.code


# --- what the snapshot serves --------------------------------------------------------------------


def test_the_standing_table_serves_each_group_its_cell() -> None:
    snap = signed(compiled())
    assert (code(snap, "us"), code(snap, "br")) == ("allowed", "no_grant")
    assert code(signed(compiled(grants=[grant()])), "br") == "allowed"


def test_an_approval_lapses_at_its_validity_end_even_before_the_register_notes_it() -> None:
    at_end = signed(compiled([status(valid_until=NOW)]))
    model = at_end.models["m"]
    assert (model.status, model.tier, dict(model.tiers)) == ("lapsed", None, {})
    assert code(at_end, "us") == "model_not_approved"
    still = signed(compiled([status(valid_until=NOW + dt.timedelta(seconds=1))]))
    assert (still.models["m"].status, code(still, "us")) == ("approved", "allowed")


def test_a_lapsed_approval_drops_its_sector_cells_too() -> None:
    lapsed = status(valid_until=NOW, sector_tiers={"t1": {"military": "internal"}})
    assert dict(signed(compiled([lapsed])).models["m"].sector_tiers) == {}


def test_a_signed_approval_stops_serving_at_its_validity_end_within_the_snapshots_life() -> None:
    # signed ten seconds before the approval ends; the snapshot lives five minutes
    ends = NOW + dt.timedelta(seconds=10)
    snap = signed(compiled([status(valid_until=ends)]))
    assert snap.models["m"].valid_until == ends.timestamp()
    decider = Decider()
    decider.swap(snap)
    before = decider.decide_uncached("us", "m", "", NOW.timestamp(), "api")
    assert before.allowed and before.valid_until == ends.timestamp()
    assert code(snap, "us", when=ends - dt.timedelta(seconds=1)) == "allowed"
    assert code(snap, "us", when=ends) == "model_not_approved"
    # a cached admission ends with the approval too
    assert decider.decide("us", "m", "", NOW.timestamp()).allowed
    assert decider.decide("us", "m", "", ends.timestamp()).code == "model_not_approved"


def test_an_approval_that_lasts_past_the_snapshot_still_carries_its_end() -> None:
    ends = NOW + dt.timedelta(days=300)
    snap = signed(compiled([status(valid_until=ends)]))
    verdict = Decider()
    verdict.swap(snap)
    allowed = verdict.decide_uncached("us", "m", "", NOW.timestamp(), "api")
    assert allowed.valid_until == snap.expires_at < ends.timestamp()
    assert compiled([status(valid_until=ends)])["models"]["m"]["valid_until"] == ends.timestamp()


def test_only_a_standing_table_carries_an_end() -> None:
    ends = NOW + dt.timedelta(days=1)
    pending = status("pending", valid_until=ends)
    # a halted model keeps its decision's table underneath, but serves none of it
    halted = status("halted", tier="halted", tiers={"t1": "public"}, valid_until=ends)
    assert "valid_until" not in compiled([pending])["models"]["m"]
    assert "valid_until" not in compiled([halted])["models"]["m"]
    assert "valid_until" not in compiled([status()])["models"]["m"]
    assert "valid_until" not in compiled([status(valid_until=NOW)])["models"]["m"]


def test_a_restriction_over_a_lapsed_approval_serves_nothing_the_approval_opened() -> None:
    scope = Scope(groups=("t1",))
    tables = {"tier": "public", "tiers": {"t1": "public"}, "restricted_to": scope}
    # the register's clock has not written the lapse down yet
    lapsed = signed(compiled([status("restricted", valid_until=NOW, **tables)]))
    model = lapsed.models["m"]
    assert (model.status, model.tier, dict(model.tiers), model.valid_until) == (
        "restricted",
        None,
        {},
        None,
    )
    assert code(lapsed, "us") != "allowed"
    # and one still standing lapses inside the snapshot's life
    ends = NOW + dt.timedelta(seconds=10)
    standing = signed(compiled([status("restricted", valid_until=ends, **tables)]))
    assert standing.models["m"].valid_until == ends.timestamp()
    assert code(standing, "us") == "allowed"
    assert code(standing, "us", when=ends) != "allowed"
    assert standing.models["m"].at(ends.timestamp()).status == "restricted"


def test_a_model_as_it_stands_at_a_time_drops_the_whole_table_from_its_end() -> None:
    ends = NOW + dt.timedelta(seconds=10)
    cells = {"t1": {"military": "internal"}}
    entry = signed(compiled([status(valid_until=ends, sector_tiers=cells)])).models["m"]
    assert entry.at(ends.timestamp() - 1) is entry
    lapsed = entry.at(ends.timestamp())
    assert (lapsed.status, lapsed.tier, lapsed.tiers, lapsed.sector_tiers, lapsed.valid_until) == (
        "lapsed",
        None,
        {},
        {},
        None,
    )
    assert (lapsed.id, lapsed.name, lapsed.channels) == (entry.id, entry.name, entry.channels)


def test_a_halted_model_never_admits_even_with_a_grant() -> None:
    snap = signed(compiled([status("halted", tier="halted")], [grant("us"), grant("br", "g2")]))
    for org in ("us", "br", "dev"):
        assert code(snap, org) == "model_halted"


def test_a_revoked_grant_is_left_out_and_opens_nothing() -> None:
    revoked = grant(state="revoked", revoked_by="auth", revoked_at=START)
    content = compiled(grants=[revoked])
    assert content["grants"] == []
    assert code(signed(content), "br") == "no_grant"


def test_an_expired_grant_never_admits() -> None:
    past = signed(compiled(grants=[grant(expires_at=NOW - dt.timedelta(seconds=1))]))
    assert code(past, "br") == "grant_expired"
    assert past.grants[("br", "mdl")][0].expires_at == (NOW - dt.timedelta(seconds=1)).timestamp()
    ended = signed(compiled(grants=[grant(state="expired")]))
    assert code(ended, "br") == "grant_expired"
    # at its very second the grant has ended
    edge = signed(compiled(grants=[grant(expires_at=NOW + dt.timedelta(seconds=60))]))
    assert code(edge, "br", when=NOW + dt.timedelta(seconds=60)) == "grant_expired"
    assert code(edge, "br", when=NOW + dt.timedelta(seconds=59)) == "allowed"


def test_a_grants_scope_and_limits_survive_the_trip() -> None:
    scoped = grant(
        channels=("web",),
        use_cases=("fraud-analysis",),
        jurisdictions=("BR",),
        limits=Limits(requests_per_minute=5, tokens_per_minute=900, retain_content=True),
    )
    (entry,) = signed(compiled(grants=[scoped])).grants[("br", "mdl")]
    assert (entry.id, entry.organization_id, entry.model_id, entry.state) == (
        "g1",
        "br",
        "mdl",
        "active",
    )
    assert (entry.channels, entry.use_cases, entry.countries) == (
        frozenset({"web"}),
        frozenset({"fraud-analysis"}),
        frozenset({"BR"}),
    )
    assert (entry.requests_per_minute, entry.tokens_per_minute, entry.retain_content) == (
        5,
        900,
        True,
    )
    assert (entry.expires_at, entry.testing, entry.upstream) == (None, False, None)


def test_only_a_testing_grant_carries_its_purpose_and_upstream() -> None:
    testing = grant("auth", "g9", purpose="testing", pre_release_upstream="http://127.0.0.1:9/v1")
    content = compiled([status("pending")], [testing, grant("us")])
    by_id = {g["id"]: g for g in content["grants"]}
    assert (by_id["g9"]["purpose"], by_id["g9"]["upstream"]) == ("testing", "http://127.0.0.1:9/v1")
    assert "purpose" not in by_id["g1"] and "upstream" not in by_id["g1"]
    snap = signed(content)
    (entry,) = snap.grants[("auth", "mdl")]
    assert (entry.testing, entry.upstream) == (True, "http://127.0.0.1:9/v1")
    assert snap.grants[("us", "mdl")][0].testing is False
    assert (code(snap, "auth", tester=True), code(snap, "us")) == ("allowed", "model_not_approved")


def test_only_a_model_that_names_its_server_carries_it() -> None:
    served = MODEL.model_copy(update={"upstream_url": "http://10.0.0.5:8000/v1"})
    content = compile_content(
        framework=FRAMEWORK,
        organizations=organizations(),
        principals=[],
        models=[served],
        statuses=[status()],
        grants=[],
        now=NOW,
    )
    assert content["models"]["m"]["upstream"] == "http://10.0.0.5:8000/v1"
    assert signed(content).models["m"].upstream == "http://10.0.0.5:8000/v1"
    plain = compiled()
    assert "upstream" not in plain["models"]["m"]  # others' content is as it was
    assert signed(plain).models["m"].upstream is None


# --- organizations and keys ----------------------------------------------------------------------


def test_each_organization_carries_its_kind_country_group_and_sector() -> None:
    snap = signed(compiled())
    gb, br = snap.organizations["gb"], snap.organizations["br"]
    assert (gb.id, gb.kind, gb.country, gb.group, gb.sector) == (
        "gb",
        "partner",
        "GB",
        "t1",
        "military",
    )
    assert (br.group, br.sector) == ("t2", "")  # the "*" group takes every other country


def test_with_no_framework_no_organization_is_in_a_group_and_none_is_served() -> None:
    snap = signed(compiled(framework=None))
    assert {o.group for o in snap.organizations.values()} == {None}
    assert code(snap, "us") == "jurisdiction_not_permitted"


def test_a_key_carries_its_holder_channel_digest_and_end() -> None:
    digest = hashlib.sha256(b"s3cret").hexdigest()
    ends = NOW + dt.timedelta(hours=1)
    content = compiled(
        principals=[
            (principal("p1", "us", "app"), "k1", digest),
            (principal("p2", "br"), "k2", "b" * 64),
        ],
        key_expiry={"k1": ends},
    )
    keys = signed(content).keys
    assert set(keys) == {"k1", "k2"}  # a revoked key is not among the principals given
    one = keys["k1"]
    assert (one.key_id, one.principal_id, one.organization_id, one.secret_sha256) == (
        "k1",
        "p1",
        "us",
        digest,
    )
    assert (one.channel, one.expires_at) == ("app", ends.timestamp())
    assert (keys["k2"].channel, keys["k2"].expires_at) == ("api", None)
    decider = Decider()
    decider.swap(signed(content))
    assert decider.authenticate("clr_k1_s3cret") == one
    assert decider.authenticate("clr_k3_s3cret") is None


def test_only_a_reviewers_key_is_a_testers() -> None:
    reviewer = Principal(
        id="r", organization_id="auth", name="r", roles=("admin", "reviewer"), created_at=START
    )
    admin = Principal(id="a", organization_id="auth", name="a", roles=("admin",), created_at=START)
    content = compiled(principals=[(reviewer, "kr", "a" * 64), (admin, "ka", "b" * 64)])
    assert content["keys"]["kr"]["tester"] is True
    assert "tester" not in content["keys"]["ka"]
    keys = signed(content).keys
    assert (keys["kr"].tester, keys["ka"].tester) == (True, False)


# --- restrictions --------------------------------------------------------------------------------


def restricted(**scope: Any) -> Snapshot:
    return signed(
        compiled(
            [
                status(
                    "restricted",
                    tier="public",
                    tiers={"t1": "public", "t2": "public"},
                    restricted_to=Scope(**scope),
                )
            ]
        )
    )


def test_every_axis_of_a_restriction_survives_the_trip() -> None:
    model = restricted(
        organizations=("us",),
        jurisdictions=("US",),
        channels=("web",),
        tiers=("approved_partners",),
        groups=("t1",),
    ).models["m"]
    assert model.restricted_organizations == frozenset({"us"})
    assert model.restricted_countries == frozenset({"US"})
    assert model.restricted_channels == frozenset({"web"})
    assert model.restricted_tiers == ("approved_partners",)
    assert model.restricted_groups == frozenset({"t1"})


def test_each_axis_of_a_restriction_refuses_who_it_leaves_out() -> None:
    assert code(restricted(jurisdictions=("US",)), "gb") == "jurisdiction_not_permitted"
    assert code(restricted(jurisdictions=("US",)), "us") == "allowed"
    assert code(restricted(channels=("web",)), "us") == "channel_not_permitted"
    assert code(restricted(channels=("web",)), "us", "web") == "allowed"
    assert code(restricted(groups=("t1",)), "br") == "jurisdiction_not_permitted"
    assert code(restricted(groups=("t1",)), "us") == "allowed"
    assert code(restricted(tiers=("approved_partners",)), "us") == "no_grant"
    assert code(restricted(organizations=("us",)), "br") == "no_grant"
    assert code(restricted(), "br") == "allowed"


def test_a_restriction_with_no_standing_decision_serves_only_its_organizations_with_grants() -> (
    None
):
    content = compiled(
        [status("restricted", tier=None, restricted_to=Scope(organizations=("us",)))],
        [grant("us")],
    )
    snap = signed(content)
    model = snap.models["m"]
    assert caller_cell(model, snap.organizations["us"]) == (
        "approved_partners",
        "approved_partners",
    )
    assert (code(snap, "us"), code(snap, "br")) == ("allowed", "no_grant")


def test_an_approval_for_internal_deployment_only_is_internal_everywhere() -> None:
    snap = signed(compiled([status(tier="internal", tiers={})]))
    for org in ("us", "br"):
        assert caller_cell(snap.models["m"], snap.organizations[org]) == ("internal", "internal")
    assert (code(snap, "dev"), code(snap, "us")) == ("allowed", "no_grant")


def test_a_restriction_to_tiers_narrows_the_group_and_the_sector_cell() -> None:
    snap = restricted(tiers=("approved_partners",))
    model = snap.models["m"]
    assert caller_cell(model, snap.organizations["gb"]) == (
        "approved_partners",
        "approved_partners",
    )
    assert caller_cell(restricted(groups=("t1",)).models["m"], snap.organizations["br"]) == (
        None,
        None,
    )


# --- the signed form -----------------------------------------------------------------------------


def test_the_json_form_round_trips_and_names_its_schema_and_times() -> None:
    content = compiled(grants=[grant()])
    built = build_snapshot(
        content, version=3, issued_at=NOW, expires_at=NOW + dt.timedelta(minutes=5)
    )
    data = built.to_json()
    assert data["schema"] == SCHEMA == "clearance/snapshot/v1"
    assert (data["version"], data["issued_at"], data["expires_at"]) == (
        3,
        "2026-07-31T00:00:00+00:00",
        "2026-07-31T00:05:00+00:00",
    )
    back = parse_snapshot(data)
    assert (back.version, back.digest, back.issued_at, back.expires_at) == (
        3,
        built.digest,
        NOW.timestamp(),
        (NOW + dt.timedelta(minutes=5)).timestamp(),
    )
    assert (back.organizations, back.keys, back.models, back.grants) == (
        built.organizations,
        built.keys,
        built.models,
        built.grants,
    )
    assert back.payload() == built.payload()
    assert json.loads(back.payload()) == data  # what the register signs is the JSON form


def test_the_digest_does_not_depend_on_the_order_records_come_in() -> None:
    grants = [grant("us", "g1"), grant("br", "g2"), grant("gb", "g3")]
    first = build_snapshot(compiled(grants=grants), version=1, issued_at=NOW, expires_at=NOW)
    again = build_snapshot(compiled(grants=grants[::-1]), version=1, issued_at=NOW, expires_at=NOW)
    assert first.digest == again.digest
    assert [g["id"] for g in compiled(grants=grants[::-1])["grants"]] == ["g1", "g2", "g3"]


def test_a_model_without_its_configuration_is_left_out() -> None:
    stray = ModelStatus(model_id="gone", name="gone", organization_id="dev", status="approved")
    assert set(compiled([status(), stray])["models"]) == {"m"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"schema": "clearance/snapshot/v0"}, "snapshot: schema is not clearance/snapshot/v1"),
        ({"digest": "0" * 64}, "snapshot: the content does not match its digest"),
        ({"issued_at": "yesterday"}, "snapshot: malformed"),
        ({"version": None}, "snapshot: malformed"),
    ],
)
def test_a_snapshot_tampered_with_or_malformed_is_refused(
    change: dict[str, Any], message: str
) -> None:
    data = build_snapshot(compiled(), version=1, issued_at=NOW, expires_at=NOW).to_json()
    with pytest.raises(InvalidInput, match="^" + re.escape(message)):
        parse_snapshot(data | change)


def test_content_changed_after_signing_is_refused() -> None:
    data = build_snapshot(compiled(), version=1, issued_at=NOW, expires_at=NOW).to_json()
    data["content"] = compiled(grants=[grant()])
    with pytest.raises(InvalidInput, match=r"^snapshot: the content does not match its digest$"):
        parse_snapshot(data)
    del data["content"]
    with pytest.raises(InvalidInput, match=r"^snapshot: malformed"):
        parse_snapshot(data)


def test_a_sector_cell_survives_the_trip_and_binds_its_sector() -> None:
    cells = status(sector_tiers={"t1": {"military": "internal"}})
    snap = signed(compiled([cells]))
    model = snap.models["m"]
    assert (model.id, model.name, model.organization_id) == ("mdl", "m", "dev")
    assert {g: dict(c) for g, c in model.sector_tiers.items()} == {"t1": {"military": "internal"}}
    assert (code(snap, "us"), code(snap, "gb")) == ("allowed", "sector_not_permitted")


def test_a_restriction_to_organizations_never_opens_a_group_the_table_leaves_out() -> None:
    # the standing table serves t1 only; the restriction names br (in t2), which holds a grant
    only_t1 = status(
        "restricted",
        tier="public",
        tiers={"t1": "public"},
        restricted_to=Scope(organizations=("br",)),
    )
    snap = signed(compiled([only_t1], [grant("br")]))
    assert caller_cell(snap.models["m"], snap.organizations["br"]) == (None, None)
    assert code(snap, "br") == "jurisdiction_not_permitted"


def test_a_restriction_to_tiers_never_opens_a_cell_more_closed_than_the_cap() -> None:
    # t1 is internal, and military in t1 internal too: a cap of approved_partners opens neither
    closed = status(
        "restricted",
        tier="public",
        tiers={"t1": "internal", "t2": "public"},
        sector_tiers={"t2": {"military": "internal"}},
        restricted_to=Scope(tiers=("approved_partners",)),
    )
    snap = signed(compiled([closed], [grant("us"), grant("br", "g2")]))
    model = snap.models["m"]
    assert caller_cell(model, snap.organizations["us"]) == ("internal", "internal")
    assert code(snap, "us") == "no_grant"
    military_br = OrgEntry("mb", "partner", "BR", "t2", "military")
    assert caller_cell(model, military_br) == ("approved_partners", "internal")
    assert code(snap, "br") == "allowed"  # the cap itself still admits a grant holder


def test_a_restriction_to_tiers_leaves_an_unserved_group_unserved() -> None:
    capped = status(
        "restricted",
        tier="public",
        tiers={"t1": "public"},
        restricted_to=Scope(tiers=("approved_partners",)),
    )
    snap = signed(compiled([capped], [grant("br")]))
    assert caller_cell(snap.models["m"], snap.organizations["br"]) == (None, None)
    assert code(snap, "br") == "jurisdiction_not_permitted"
