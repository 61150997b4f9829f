"""The decision, pure: semantics by tier, directive and grant; the cache; the speed."""

from __future__ import annotations

import time
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
        },
        keys={},
        models={m.name: m for m in models},
        grants=by_pair,
    )


def model(
    name: str = "m", tier: str | None = "public", status: str = "approved", **kw: Any
) -> ModelEntry:
    return ModelEntry(
        id=f"id-{name}",
        name=name,
        organization_id="dev",
        status=status,
        tier=tier,  # type: ignore[arg-type]
        jurisdictions=frozenset(kw.pop("groups", ("tier-1", "tier-2"))),
        channels=frozenset({"api"}),
        **kw,
    )


def grant(org: str = "us", **kw: Any) -> GrantEntry:
    state = kw.pop("state", "active")
    return GrantEntry(id=f"g-{org}", organization_id=org, model_id="id-m", state=state, **kw)


def code(decider: Decider, org: str, name: str = "m", use_case: str = "") -> str:
    return decider.decide_uncached(org, name, use_case, NOW).code


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
    scoped = decider_for(snapshot([m], [grant(use_cases=frozenset({"Translation"}))]))
    assert code(scoped, "us", use_case="Translation") == "allowed"
    assert code(scoped, "us", use_case="Targeting") == "no_grant"
    assert code(scoped, "us") == "allowed"
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


def test_decision_speed() -> None:
    """Targets: a cached decision under 2 µs, an uncached one under 50 µs (loose in CI)."""
    cold = []
    for _ in range(20):
        fresh = decider_for(snapshot([model()]))
        start = time.perf_counter()
        fresh.decide_uncached("us", "m", "", NOW)
        cold.append(time.perf_counter() - start)
    d = decider_for(snapshot([model()]))
    d.decide("us", "m", "", NOW)
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        d.decide("us", "m", "", NOW)
    cached = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for _ in range(500):
        d.decide_uncached("us", "m", "", NOW)
    uncached = (time.perf_counter() - start) / 500
    first = sorted(cold)[len(cold) // 2]
    print(
        f"cached {cached * 1e6:.2f} µs, uncached {uncached * 1e6:.1f} µs, "
        f"first Cedar evaluation of a context {first * 1e6:.1f} µs"
    )
    assert cached < 10e-6 and uncached < 250e-6
