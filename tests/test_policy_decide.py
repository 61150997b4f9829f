"""The decision, pure: semantics by cell, tier, directive and grant; the cache.

(Its speed is measured in bench/gateway.py, side by side with a reference, not here.)
"""

from __future__ import annotations

from typing import Any

import pytest

from clearance.policy import Decider, GrantEntry, ModelEntry, OrgEntry, Snapshot

NOW = 1_900_000_000.0


def snapshot(models: list[ModelEntry], grants: list[GrantEntry] = (), **extra: Any) -> Snapshot:  # type: ignore[assignment]
    by_pair: dict[tuple[str, str], tuple[GrantEntry, ...]] = {}
    for grant in grants:
        key = (grant.organization_id, grant.model_id)
        by_pair[key] = (*by_pair.get(key, ()), grant)
    return Snapshot(
        version=extra.get("version", 1),
        digest="0" * 64,
        issued_at=NOW - 10,
        expires_at=extra.get("expires_at", NOW + 300),
        organizations={
            "dev": OrgEntry("dev", "developer", "US", "tier-1"),
            "us": OrgEntry("us", "partner", "GB", "tier-1"),
            "br": OrgEntry("br", "partner", "BR", "tier-2"),
            "mil": OrgEntry("mil", "partner", "GB", "tier-1", "military"),
            "gov": OrgEntry("gov", "partner", "BR", "tier-2", "government"),
        },
        keys={},
        models={m.name: m for m in models},
        grants=by_pair,
    )


def model(
    name: str = "m", tier: str | None = "public", status: str = "approved", **kw: Any
) -> ModelEntry:
    groups = kw.pop("groups", ("tier-1", "tier-2"))
    return ModelEntry(
        id=f"id-{name}",
        name=name,
        organization_id="dev",
        status=status,
        tier=tier,  # type: ignore[arg-type]
        tiers=kw.pop("tiers", dict.fromkeys(groups, tier) if tier else {}),
        sector_tiers=kw.pop("sector_tiers", {}),
        channels=kw.pop("channels", frozenset({"api"})),
        **kw,
    )


def grant(org: str = "us", **kw: Any) -> GrantEntry:
    state = kw.pop("state", "active")
    return GrantEntry(id=f"g-{org}", organization_id=org, model_id="id-m", state=state, **kw)


def code(
    decider: Decider, org: str, name: str = "m", use_case: str = "", channel: str = "api"
) -> str:
    verdict = decider.decide_uncached(org, name, use_case, NOW, channel)
    assert verdict.allowed == (verdict.code == "allowed")
    return verdict.code


def decider_for(snap: Snapshot) -> Decider:
    decider = Decider()
    decider.swap(snap)
    return decider


def test_public_tiers_open_to_permitted_jurisdictions() -> None:
    d = decider_for(snapshot([model(groups=("tier-1",))]))
    assert code(d, "us") == "allowed"
    assert code(d, "br") == "jurisdiction_not_permitted"
    assert code(d, "dev") == "allowed"
    assert code(d, "us", "other") == "model_not_found"


def test_partner_tier_needs_a_grant_in_scope_and_in_force() -> None:
    m = model(tier="approved_partners")
    assert code(decider_for(snapshot([m])), "us") == "no_grant"
    assert code(decider_for(snapshot([m], [grant()])), "us") == "allowed"
    assert code(decider_for(snapshot([m], [grant(expires_at=NOW - 1)])), "us") == "grant_expired"
    assert code(decider_for(snapshot([m], [grant(state="expired")])), "us") == "grant_expired"
    assert code(decider_for(snapshot([m], [grant(state="revoked")])), "us") == "no_grant"
    assert (
        code(decider_for(snapshot([m], [grant(channels=frozenset({"web"}))])), "us") == "no_grant"
    )
    scoped = decider_for(snapshot([m], [grant(use_cases=frozenset({"translation"}))]))
    assert code(scoped, "us", use_case="translation") == "allowed"
    assert code(scoped, "us", use_case="targeting") == "no_grant"
    assert code(scoped, "us", use_case="Translation") == "no_grant"
    abroad = decider_for(snapshot([m], [grant(countries=frozenset({"US"}))]))
    assert code(abroad, "us") == "jurisdiction_not_permitted"


def test_internal_halted_and_unapproved() -> None:
    d = decider_for(
        snapshot(
            [
                model("internal", tier="internal"),
                model("halted", tier="halted", status="halted"),
                model("pending", tier=None, status="pending"),
            ]
        )
    )
    assert code(d, "us", "internal") == "no_grant"
    assert code(d, "dev", "internal") == "allowed"
    assert code(d, "us", "halted") == "model_halted"
    assert code(d, "dev", "halted") == "model_halted"
    assert code(d, "us", "pending") == "model_not_approved"
    assert code(d, "dev", "pending") == "allowed"


def test_restrictions_by_organization_country_and_tier() -> None:
    to_us = model(status="restricted", restricted_organizations=frozenset({"us"}))
    d = decider_for(snapshot([to_us], [grant()]))
    assert code(d, "us") == "allowed"
    assert code(d, "br") == "no_grant"
    by_country = model(status="restricted", restricted_countries=frozenset({"GB"}))
    d = decider_for(snapshot([by_country]))
    assert (code(d, "us"), code(d, "br")) == ("allowed", "jurisdiction_not_permitted")
    capped = model(status="restricted", restricted_tiers=("approved_partners",))
    assert code(decider_for(snapshot([capped])), "us") == "no_grant"


def test_snapshot_expiry_fails_closed() -> None:
    d = decider_for(snapshot([model()], expires_at=NOW))
    assert code(d, "us") == "snapshot_expired"
    assert Decider().decide("us", "m", "", NOW).code == "snapshot_expired"


def test_cached_decisions_end_when_a_grant_expires_and_on_swap() -> None:
    m = model(tier="approved_partners")
    d = decider_for(snapshot([m], [grant(expires_at=NOW + 5)]))
    assert d.decide("us", "m", "", NOW).allowed
    assert d.decide("us", "m", "", NOW + 4).allowed
    assert d.decide("us", "m", "", NOW + 5).code == "grant_expired"
    d.swap(snapshot([model(tier="halted", status="halted")], version=2))
    assert d.decide("us", "m", "", NOW).code == "model_halted"


def test_policies_are_cedar_and_a_bad_policy_is_refused() -> None:
    from clearance.errors import InvalidInput

    with pytest.raises(InvalidInput):
        Decider("permit (principal, action, resource) when {")
    # a framework may carry its own policies: here nothing is permitted at all
    closed = Decider("forbid (principal, action, resource);")
    closed.swap(snapshot([model()]))
    assert code(closed, "us") == "no_grant"


def test_cedar_answers_are_remembered_per_context_only_when_policies_ignore_who() -> None:
    from clearance.policy._decide import default_policies

    assert decider_for(snapshot([model()]))._context_only
    by_principal = Decider(
        default_policies()
        + '\n@id("model_halted")\nforbid (principal == Organization::"br", action, resource);'
    )
    by_resource = Decider(
        default_policies()
        + '\n@id("model_halted")\nforbid (principal, action, resource)'
        + ' when { resource == Model::"m" };'
    )
    for d in (by_principal, by_resource):
        assert not d._context_only
        d.swap(snapshot([model(), model("n")]))
    # the same context, answered for each principal and resource in turn
    assert code(by_principal, "us") == "allowed"
    assert code(by_principal, "br") == "model_halted"
    assert code(by_principal, "us") == "allowed"
    assert code(by_resource, "us", "n") == "allowed"
    assert code(by_resource, "us", "m") == "model_halted"


def test_a_grant_scoped_to_use_cases_refuses_a_call_that_declares_none() -> None:
    """Regression: a call that omitted X-Clearance-Use-Case passed a use-case-scoped grant."""
    m = model(tier="approved_partners")
    scoped = decider_for(snapshot([m], [grant(use_cases=frozenset({"translation"}))]))
    verdict = scoped.decide_uncached("us", "m", "", NOW)
    assert (verdict.allowed, verdict.code, verdict.http_status) == (
        False,
        "use_case_required",
        403,
    )
    assert "X-Clearance-Use-Case" in verdict.message
    # a grant without use cases covers any declared use case, or none
    open_grant = decider_for(snapshot([m], [grant()]))
    assert code(open_grant, "us") == "allowed"
    assert code(open_grant, "us", use_case="anything") == "allowed"


def test_each_caller_gets_its_own_cell_of_the_table() -> None:
    table = model(
        tier="public",
        tiers={"tier-1": "public", "tier-2": "approved_partners"},
        sector_tiers={
            "tier-1": {"military": "approved_partners"},
            "tier-2": {"government": "internal"},
        },
    )
    d = decider_for(snapshot([table]))
    assert code(d, "us") == "allowed"
    assert code(d, "br") == "no_grant"
    assert code(d, "mil") == "sector_not_permitted"
    assert code(d, "gov") == "sector_not_permitted"
    assert code(d, "dev") == "allowed"
    granted = decider_for(snapshot([table], [grant("mil"), grant("gov"), grant("br")]))
    assert code(granted, "mil") == "allowed"
    assert code(granted, "br") == "allowed"
    # a grant cannot open an internal cell
    assert code(granted, "gov") == "sector_not_permitted"
    verdict = d.decide_uncached("mil", "m", "", NOW)
    assert verdict.http_status == 403 and "military" in verdict.message


def test_a_group_outside_the_table_is_refused_even_with_a_grant() -> None:
    only_tier_1 = model(tier="approved_partners", groups=("tier-1",))
    d = decider_for(snapshot([only_tier_1], [grant("br")]))
    assert code(d, "br") == "jurisdiction_not_permitted"


def test_the_keys_channel_is_enforced() -> None:
    api_only = model()
    both = model("both", channels=frozenset({"api", "app"}))
    d = decider_for(snapshot([api_only, both]))
    assert code(d, "us", channel="app") == "channel_not_permitted"
    assert code(d, "us", "both", channel="app") == "allowed"
    restricted = model(
        status="restricted",
        channels=frozenset({"api", "app"}),
        restricted_channels=frozenset({"app"}),
    )
    d = decider_for(snapshot([restricted]))
    assert code(d, "us", channel="app") == "allowed"
    assert code(d, "us", channel="api") == "channel_not_permitted"
    # the developer's own app key is bound by the channel too
    assert code(d, "dev", channel="api") == "channel_not_permitted"


def test_a_restriction_may_narrow_to_groups() -> None:
    narrowed = model(status="restricted", restricted_groups=frozenset({"tier-2"}))
    d = decider_for(snapshot([narrowed]))
    assert code(d, "us") == "jurisdiction_not_permitted"
    assert code(d, "br") == "allowed"


def test_when_several_refusals_apply_the_most_fundamental_wins() -> None:
    """Halted beats every other reason; then not approved, jurisdiction, sector, channel."""
    halted = model(tier="halted", status="halted", groups=("tier-2",))
    d = decider_for(snapshot([halted]))
    assert code(d, "us", channel="app") == "model_halted"
    pending = model(tier=None, status="pending")
    assert code(decider_for(snapshot([pending])), "br", channel="app") == "model_not_approved"
    abroad = model(groups=("tier-2",))
    assert code(decider_for(snapshot([abroad])), "us", channel="app") == (
        "jurisdiction_not_permitted"
    )
    capped = model(tiers={"tier-1": "public"}, sector_tiers={"tier-1": {"military": "internal"}})
    assert code(decider_for(snapshot([capped])), "mil", channel="app") == "sector_not_permitted"
    m = model(tier="approved_partners")
    expired = decider_for(snapshot([m], [grant(expires_at=NOW - 1)]))
    assert code(expired, "us", channel="app") == "channel_not_permitted"


def test_a_remembered_refusal_is_never_replayed_as_an_admission() -> None:
    """The per-context memo of Cedar's answers must not turn a refusal into an admission."""
    d = decider_for(snapshot([model(groups=("tier-1",))]))
    for _ in range(3):
        assert code(d, "br") == "jurisdiction_not_permitted"
        assert d.decide("br", "m", "", NOW).code == "jurisdiction_not_permitted"
    assert code(d, "us") == "allowed"
