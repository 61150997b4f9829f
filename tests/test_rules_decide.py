"""The per-call decision's rules, each pinned so that a changed rule fails a test (issue 16).

Every refusal is checked whole: not allowed, its code, its HTTP status and what its sentence tells
the caller. Boundary cases: two refusals at once, a grant's expiry at the very second, a revoked
grant before a valid one, the memo of Cedar's answers, the model-level channel restriction.
"""

from __future__ import annotations

import hashlib

import pytest

from clearance.policy import Decider, KeyEntry, Snapshot, Verdict
from clearance.policy._decide import default_policies
from tests.test_policy_decide import NOW, decider_for, grant, model, snapshot


def refused(verdict: Verdict, code: str, status: int, *words: str) -> None:
    assert (verdict.allowed, verdict.code, verdict.http_status) == (False, code, status)
    for word in words:
        assert word in verdict.message, (word, verdict.message)


def admitted(verdict: Verdict) -> None:
    assert (verdict.allowed, verdict.code, verdict.http_status) == (True, "allowed", 200)
    assert verdict.message == "allowed"


def decide(
    d: Decider,
    org: str,
    name: str = "m",
    use_case: str = "",
    channel: str = "api",
    *,
    tester: bool = False,
):  # type: ignore[no-untyped-def]
    return d.decide_uncached(org, name, use_case, NOW, channel, tester=tester)


# --- each refusal, whole -------------------------------------------------------------------------


def test_each_refusal_carries_its_status_and_a_sentence_naming_the_cause() -> None:
    d = decider_for(
        snapshot(
            [
                model("open", groups=("tier-1",)),
                model("halted", tier="halted", status="halted"),
                model("pending", tier=None, status="pending"),
                model("partners", tier="approved_partners"),
                model("internal", tier="internal"),
            ]
        )
    )
    refused(decide(d, "us", "nope"), "model_not_found", 404, "'nope'", "does not exist")
    refused(decide(d, "nobody", "open"), "invalid_api_key", 401, "organization")
    refused(decide(d, "us", "halted"), "model_halted", 403, "'halted'", "halted")
    refused(decide(d, "us", "pending"), "model_not_approved", 403, "'pending'", "pending")
    refused(decide(d, "br", "open"), "jurisdiction_not_permitted", 403, "'open'", "(BR)")
    refused(decide(d, "us", "open", channel="app"), "channel_not_permitted", 403, "'app'")
    refused(decide(d, "us", "partners"), "no_grant", 403, "'partners'", "apply for access")
    refused(decide(d, "us", "internal"), "no_grant", 403, "'internal'", "internal")
    refused(Decider().decide("us", "open", "", NOW), "snapshot_expired", 503, "no current policy")
    admitted(decide(d, "us", "open"))


def test_a_sector_cap_names_the_sector_group_and_tier_and_whether_a_grant_would_help() -> None:
    table = model(
        tiers={"tier-1": "public", "tier-2": "public"},
        sector_tiers={
            "tier-1": {"military": "approved_partners"},
            "tier-2": {"government": "internal"},
        },
    )
    d = decider_for(snapshot([table]))
    refused(
        decide(d, "mil"),
        "sector_not_permitted",
        403,
        "'military'",
        "(tier-1)",
        "approved_partners",
        "a grant is needed",
    )
    internal = decide(d, "gov")
    refused(internal, "sector_not_permitted", 403, "'government'", "(tier-2)", "internal")
    assert "grant" not in internal.message


def test_grant_refusals_tell_which_part_of_the_grant_failed() -> None:
    m = model(tier="approved_partners")
    by_channel = decider_for(snapshot([m], [grant(channels=frozenset({"app"}))]))
    refused(decide(by_channel, "us"), "no_grant", 403, "does not cover the 'api' channel")
    by_use = decider_for(snapshot([m], [grant(use_cases=frozenset({"fraud-analysis"}))]))
    refused(decide(by_use, "us", use_case="research"), "no_grant", 403, "declared use case")
    refused(decide(by_use, "us"), "use_case_required", 403, "X-Clearance-Use-Case")
    admitted(decide(by_use, "us", use_case="fraud-analysis"))
    expired = decider_for(snapshot([m], [grant(expires_at=NOW - 1)]))
    refused(decide(expired, "us"), "grant_expired", 403, "'m'", "has expired")
    named = model(tier=None, status="restricted", restricted_organizations=frozenset({"us"}))
    refused(decide(decider_for(snapshot([named])), "us"), "no_grant", 403, "is restricted")


# --- grants --------------------------------------------------------------------------------------


def test_a_grant_expires_at_its_very_second() -> None:
    m = model(tier="approved_partners")
    d = decider_for(snapshot([m], [grant(expires_at=NOW)]))
    refused(decide(d, "us"), "grant_expired", 403)
    admitted(decider_for(snapshot([m], [grant(expires_at=NOW + 1)])).decide("us", "m", "", NOW))


@pytest.mark.parametrize("first", ["revoked", "suspended", "expired", "pending"])
def test_a_valid_grant_admits_whatever_grant_is_listed_before_it(first: str) -> None:
    m = model(tier="approved_partners")
    other = grant(state=first)
    valid = grant(expires_at=NOW + 60)
    verdict = decider_for(snapshot([m], [other, valid])).decide("us", "m", "", NOW)
    admitted(verdict)
    assert verdict.grant == valid


def test_with_no_valid_grant_the_refusal_names_the_closest_miss() -> None:
    """Of several grants none in scope, the caller hears the reason nearest to being admitted."""
    m = model(tier="approved_partners")
    channel = grant(channels=frozenset({"app"}))
    use_case = grant(use_cases=frozenset({"fraud-analysis"}))
    abroad = grant(countries=frozenset({"US"}))
    expired = grant(expires_at=NOW - 1)

    def answer(*grants: object, use: str = "research") -> str:
        return decider_for(snapshot([m], list(grants))).decide("us", "m", use, NOW).code  # type: ignore[arg-type]

    for order in ((channel, expired), (expired, channel)):
        assert answer(*order) == "grant_expired"
    for order in ((use_case, abroad), (abroad, use_case)):
        assert answer(*order) == "jurisdiction_not_permitted"
    for order in ((channel, use_case), (use_case, channel)):
        assert answer(*order) == "no_grant"
        assert (
            "declared use case"
            in decider_for(snapshot([m], list(order))).decide("us", "m", "research", NOW).message
        )
    for order in ((channel, use_case), (use_case, channel)):
        assert answer(*order, use="") == "use_case_required"
    for order in ((abroad, expired), (expired, abroad)):
        assert answer(*order) == "grant_expired"


def test_a_grant_of_another_organization_or_model_opens_nothing() -> None:
    m = model(tier="approved_partners")
    d = decider_for(snapshot([m], [grant("br")]))
    refused(decide(d, "us"), "no_grant", 403)
    elsewhere = grant()
    other_model = type(elsewhere)(id="g", organization_id="us", model_id="id-other", state="active")
    refused(decide(decider_for(snapshot([m], [other_model])), "us"), "no_grant", 403)


def test_a_grant_in_its_countries_admits_and_outside_refuses_by_jurisdiction() -> None:
    m = model(tier="approved_partners")
    d = decider_for(snapshot([m], [grant(countries=frozenset({"GB"}))]))
    admitted(decide(d, "us"))
    refused(
        decide(decider_for(snapshot([m], [grant(countries=frozenset({"FR"}))])), "us"),
        "jurisdiction_not_permitted",
        403,
        "(GB)",
    )


def test_a_grant_out_of_its_countries_does_not_refuse_a_public_model() -> None:
    """A grant's countries narrow the grant, not the public tier the caller already has."""
    d = decider_for(snapshot([model()], [grant(countries=frozenset({"FR"}))]))
    admitted(decide(d, "us"))


# --- restrictions --------------------------------------------------------------------------------


def test_a_model_level_channel_restriction_refuses_other_channels() -> None:
    restricted = model(
        status="restricted",
        channels=frozenset({"api", "app"}),
        restricted_channels=frozenset({"api"}),
    )
    d = decider_for(snapshot([restricted]))
    refused(decide(d, "us", channel="app"), "channel_not_permitted", 403, "'app' channel")
    admitted(decide(d, "us", channel="api"))


def test_a_restriction_to_countries_refuses_other_countries_even_in_a_served_group() -> None:
    by_country = model(status="restricted", restricted_countries=frozenset({"BR"}))
    d = decider_for(snapshot([by_country]))
    refused(decide(d, "us"), "jurisdiction_not_permitted", 403, "(GB)")
    admitted(decide(d, "br"))
    # the developer keeps its own model
    admitted(decide(d, "dev"))
    # countries restrict only a restricted model
    unrestricted = model(restricted_countries=frozenset({"BR"}))
    admitted(decide(decider_for(snapshot([unrestricted])), "us"))


def test_a_restriction_to_organizations_needs_their_grant_even_on_a_public_model() -> None:
    named = model(status="restricted", restricted_organizations=frozenset({"us"}))
    refused(decide(decider_for(snapshot([named])), "us"), "no_grant", 403, "is restricted")
    admitted(decide(decider_for(snapshot([named], [grant()])), "us"))


def test_an_unknown_jurisdiction_group_is_refused_as_a_jurisdiction() -> None:
    snap = snapshot([model()])
    orgs = dict(snap.organizations)
    from clearance.policy import OrgEntry

    orgs["far"] = OrgEntry("far", "partner", "ZZ", None)
    d = decider_for(
        Snapshot(snap.version, snap.digest, snap.issued_at, snap.expires_at, orgs, {}, snap.models)
    )
    refused(decide(d, "far"), "jurisdiction_not_permitted", 403, "(ZZ)")


def test_a_pending_model_with_no_table_is_not_approved_and_a_halted_one_halted() -> None:
    halted = model("h", tier=None, status="halted", tiers={"tier-1": "halted"})
    d = decider_for(snapshot([halted, model("p", tier=None, status="pending")]))
    refused(decide(d, "us", "h"), "model_halted", 403)
    refused(decide(d, "dev", "h"), "model_halted", 403)
    refused(decide(d, "us", "p"), "model_not_approved", 403, "(status: pending)")


# --- precedence ----------------------------------------------------------------------------------


def test_when_two_forbid_policies_match_the_code_of_precedence_wins_whatever_their_order() -> None:
    forbids = [
        f'@id("{code}")\nforbid (principal, action, resource);'
        for code in ("no_grant", "grant_expired", "sector_not_permitted")
    ]
    both, reversed_ = "\n".join(forbids), "\n".join(reversed(forbids))
    for text in (both, reversed_):
        d = Decider(text)
        d.swap(snapshot([model()]))
        refused(decide(d, "us"), "sector_not_permitted", 403)


def test_a_grant_expired_and_a_use_case_missing_at_once_report_the_expiry() -> None:
    m = model(tier="approved_partners")
    text = default_policies() + (
        '\n@id("use_case_required")\nforbid (principal, action, resource)'
        ' when { context.grant == "expired" };'
    )
    d = Decider(text)
    d.swap(snapshot([m], [grant(expires_at=NOW - 1)]))
    refused(decide(d, "us"), "grant_expired", 403, "has expired")


def test_a_forbid_without_a_known_code_refuses_as_no_grant() -> None:
    d = Decider(default_policies() + '\n@id("custom")\nforbid (principal, action, resource);')
    d.swap(snapshot([model()]))
    refused(decide(d, "us"), "no_grant", 403)
    unnamed = Decider(default_policies() + "\nforbid (principal, action, resource);")
    unnamed.swap(snapshot([model()]))
    refused(decide(unnamed, "us"), "no_grant", 403)


def test_the_snapshot_expires_at_its_very_second_before_any_other_rule() -> None:
    d = decider_for(snapshot([model(tier="halted", status="halted")], expires_at=NOW))
    refused(decide(d, "us", "gone"), "snapshot_expired", 503)
    admitted(decider_for(snapshot([model()], expires_at=NOW + 1)).decide("us", "m", "", NOW))


# --- the caches ----------------------------------------------------------------------------------


def test_a_refusal_remembered_for_one_context_is_still_a_refusal_for_the_next_caller() -> None:
    """Two callers with the same context share Cedar's remembered answer: it stays a refusal."""
    d = decider_for(snapshot([model("a", groups=("tier-1",)), model("b", groups=("tier-1",))]))
    refused(decide(d, "br", "a"), "jurisdiction_not_permitted", 403)
    refused(decide(d, "gov", "b"), "jurisdiction_not_permitted", 403)
    refused(d.decide("br", "b", "", NOW), "jurisdiction_not_permitted", 403)
    refused(d.decide("br", "b", "", NOW + 1), "jurisdiction_not_permitted", 403)
    admitted(decide(d, "us", "a"))
    admitted(decide(d, "us", "b"))


def test_a_remembered_answer_follows_the_policies_that_name_a_caller() -> None:
    text = default_policies() + (
        '\n@id("model_halted")\nforbid (principal == Organization::"us", action, resource);'
    )
    d = Decider(text)
    d.swap(snapshot([model()]))
    refused(decide(d, "us"), "model_halted", 403)
    admitted(decide(d, "dev"))
    refused(decide(d, "us"), "model_halted", 403)


def test_policies_with_templates_or_naming_a_caller_are_not_answered_per_context() -> None:
    template = (
        default_policies() + '\n@id("t")\nforbid (principal == ?principal, action, resource);'
    )
    assert not Decider(template)._context_only
    in_condition = default_policies() + (
        '\n@id("model_halted")\nforbid (principal, action, resource)'
        ' when { principal == Organization::"us" };'
    )
    d = Decider(in_condition)
    assert not d._context_only
    d.swap(snapshot([model()]))
    refused(decide(d, "us"), "model_halted", 403)
    admitted(decide(d, "dev"))


def test_a_cached_decision_is_per_use_case_and_per_channel() -> None:
    m = model(tier="approved_partners", channels=frozenset({"api", "app"}))
    d = decider_for(
        snapshot([m], [grant(use_cases=frozenset({"fraud-analysis"}), channels=frozenset({"api"}))])
    )
    admitted(d.decide("us", "m", "fraud-analysis", NOW, "api"))
    refused(d.decide("us", "m", "research", NOW, "api"), "no_grant", 403)
    refused(d.decide("us", "m", "fraud-analysis", NOW, "app"), "no_grant", 403)
    admitted(d.decide("us", "m", "fraud-analysis", NOW, "api"))


def test_an_admission_is_valid_until_its_grant_or_snapshot_expires() -> None:
    m = model(tier="approved_partners")
    d = decider_for(snapshot([m], [grant(expires_at=NOW + 5)]))
    assert d.decide("us", "m", "", NOW).valid_until == NOW + 5
    public = decider_for(snapshot([model()]))
    assert public.decide("us", "m", "", NOW).valid_until == NOW + 300
    late = decider_for(snapshot([m], [grant(expires_at=NOW + 900)]))
    assert late.decide("us", "m", "", NOW).valid_until == NOW + 300
    # an expired grant's refusal lasts until the snapshot changes
    gone = decider_for(snapshot([m], [grant(expires_at=NOW - 5)]))
    assert gone.decide("us", "m", "", NOW).valid_until == NOW + 300


def test_a_swap_forgets_every_cached_decision_and_key() -> None:
    d = decider_for(snapshot([model()]))
    admitted(d.decide("us", "m", "", NOW))
    d.swap(snapshot([model(groups=("tier-2",))], version=2))
    refused(d.decide("us", "m", "", NOW), "jurisdiction_not_permitted", 403)


def test_a_full_cache_starts_afresh_and_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from clearance.policy import _decide

    monkeypatch.setattr(_decide, "CACHE_LIMIT", 1)
    d = decider_for(snapshot([model(), model("n", groups=("tier-2",))], [grant()]))
    for _ in range(2):
        admitted(d.decide("us", "m", "", NOW))
        refused(d.decide("us", "n", "", NOW), "jurisdiction_not_permitted", 403)
        refused(decide(d, "mil", "n"), "jurisdiction_not_permitted", 403)
        admitted(decide(d, "br", "n"))
    assert len(d._decisions) <= 1 and len(d._answers) <= 1


# --- API keys ------------------------------------------------------------------------------------


def with_keys(snap: Snapshot, keys: dict[str, KeyEntry]) -> Snapshot:
    """`snap`'s organizations and models with these keys (and no grants)."""
    return Snapshot(
        snap.version,
        snap.digest,
        snap.issued_at,
        snap.expires_at,
        snap.organizations,
        keys,
        snap.models,
    )


def keyed(secret: str = "s3cret") -> Decider:
    snap = snapshot([model()])
    entry = KeyEntry("k1", "p1", "us", hashlib.sha256(secret.encode()).hexdigest(), "app")
    d = Decider()
    d.swap(with_keys(snap, {"k1": entry}))
    return d


def test_an_api_key_is_clr_its_id_and_a_secret_matching_the_digest() -> None:
    d = keyed()
    found = d.authenticate("clr_k1_s3cret")
    assert found is not None and (found.organization_id, found.channel) == ("us", "app")
    # cached, and still the same answer
    assert d.authenticate("clr_k1_s3cret") == found
    # a secret may contain the separator
    assert keyed("a_b").authenticate("clr_k1_a_b") is not None


@pytest.mark.parametrize(
    "key",
    ["clr_k1_wrong", "clr_k2_s3cret", "xyz_k1_s3cret", "clr_k1", "k1_s3cret", "", "CLR_k1_s3cret"],
)
def test_a_wrong_or_malformed_api_key_is_refused(key: str) -> None:
    assert keyed().authenticate(key) is None


def test_no_key_is_accepted_without_a_snapshot_and_a_swap_forgets_accepted_keys() -> None:
    assert Decider().authenticate("clr_k1_s3cret") is None
    d = keyed()
    assert d.authenticate("clr_k1_s3cret") is not None
    d.swap(snapshot([model()], version=2))
    assert d.authenticate("clr_k1_s3cret") is None


def test_a_full_key_cache_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    from clearance.policy import _decide

    monkeypatch.setattr(_decide, "CACHE_LIMIT", 1)
    d = keyed()
    snap = d.snapshot
    assert snap is not None
    second = KeyEntry("k2", "p2", "br", hashlib.sha256(b"other").hexdigest(), "api")
    d.swap(with_keys(snap, {**snap.keys, "k2": second}))
    for _ in range(2):
        assert d.authenticate("clr_k1_s3cret") is not None
        assert d.authenticate("clr_k2_other") == second
    assert len(d._keys) == 1


# --- what a verdict carries ----------------------------------------------------------------------


def test_a_verdict_names_the_model_it_decided_and_the_grant_that_admitted() -> None:
    m = model(tier="approved_partners", channels=frozenset({"api", "app"}))
    g = grant(expires_at=NOW + 60)
    d = decider_for(snapshot([m], [g]))
    verdict = d.decide("us", "m", "", NOW)
    admitted(verdict)
    assert (verdict.model, verdict.grant) == (m, g)
    refusal = decide(d, "br")
    assert (refusal.model, refusal.grant) == (m, None)
    unknown = decide(d, "us", "other")
    assert unknown.model is None and unknown.grant is None


def test_a_refusal_with_a_grant_in_force_is_reconsidered_when_the_grant_expires() -> None:
    """A refusal for another reason lasts only until the grant's expiry changes the answer."""
    m = model(tier="approved_partners", channels=frozenset({"api"}))
    d = decider_for(snapshot([m], [grant(expires_at=NOW + 5)]))
    refusal = d.decide("us", "m", "", NOW, "app")
    refused(refusal, "channel_not_permitted", 403)
    assert refusal.valid_until == NOW + 5
    refused(d.decide("us", "m", "", NOW + 5, "app"), "channel_not_permitted", 403)
    refused(d.decide("us", "m", "", NOW + 5, "api"), "grant_expired", 403)


def test_the_refusals_without_a_model_say_why_in_full() -> None:
    d = decider_for(snapshot([model()]))
    assert decide(d, "nobody").message == "the API key's organization is not in the register"
    assert Decider().decide("us", "m", "", NOW).message == (
        "the gateway has no current policy snapshot from the register; "
        "it refuses every call until it gets one"
    )


def test_a_bad_policy_is_refused_with_cedars_reason() -> None:
    from clearance.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"^policies: .+"):
        Decider("forbid (principal, action, resource) when {")


def test_cedars_public_call_gives_the_same_answers_as_its_batch_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should cedarpy's batch entry point move, the public call decides every case alike."""
    import types

    import cedarpy

    from clearance.policy import _decide

    models = [
        model("open", groups=("tier-1",)),
        model("partners", tier="approved_partners"),
        model("halted", tier="halted", status="halted"),
        model(
            "capped", tiers={"tier-1": "public"}, sector_tiers={"tier-1": {"military": "internal"}}
        ),
    ]
    grants = [
        type(grant())(id="g1", organization_id="us", model_id="id-partners", state="active"),
        type(grant())(id="g2", organization_id="br", model_id="id-partners", state="expired"),
    ]
    cases = [
        (org, name, channel)
        for org in ("us", "br", "mil", "dev")
        for name in ("open", "partners", "halted", "capped")
        for channel in ("api", "app")
    ]

    def answers() -> list[tuple[bool, str, int]]:
        d = decider_for(snapshot(models, grants))
        out = []
        for org, name, channel in cases:
            v = d.decide_uncached(org, name, "", NOW, channel)
            out.append((v.allowed, v.code, v.http_status))
        return out

    batch = answers()
    # cedarpy as it would be without its private batch entry point: the public calls only
    public = types.SimpleNamespace(
        is_authorized=cedarpy.is_authorized,
        Decision=cedarpy.Decision,
        PolicySet=cedarpy.PolicySet,
        Entities=cedarpy.Entities,
        policies_to_json_str=cedarpy.policies_to_json_str,
    )
    monkeypatch.setattr(_decide, "cedarpy", public)
    assert answers() == batch
    assert {code for _, code, _ in batch} >= {
        "allowed",
        "jurisdiction_not_permitted",
        "model_halted",
        "sector_not_permitted",
        "channel_not_permitted",
        "grant_expired",
    }
    custom = Decider(default_policies() + '\n@id("x")\nforbid (principal, action, resource);')
    custom.swap(snapshot(models))
    refused(custom.decide_uncached("us", "open", "", NOW), "no_grant", 403)


def test_each_refusal_sentence_in_full() -> None:
    table = model(
        "table",
        tiers={"tier-1": "public", "tier-2": "public"},
        sector_tiers={
            "tier-1": {"military": "approved_partners"},
            "tier-2": {"government": "internal"},
        },
    )
    capped = model("capped", status="restricted", restricted_tiers=("approved_partners",))
    d = decider_for(
        snapshot(
            [
                table,
                capped,
                model("halted", tier="halted", status="halted"),
                model("internal", tier="internal"),
                model("partners", tier="approved_partners"),
            ],
            [
                type(grant())(
                    id="g",
                    organization_id="us",
                    model_id="id-partners",
                    state="active",
                    use_cases=frozenset({"fraud-analysis"}),
                )
            ],
        )
    )
    assert decide(d, "mil", "table").message == (
        "the model 'table' is capped at approved_partners for the 'military' sector in your "
        "organization's jurisdiction group (tier-1); a grant is needed"
    )
    assert decide(d, "gov", "table").message == (
        "the model 'table' is capped at internal for the 'government' sector in your "
        "organization's jurisdiction group (tier-2)"
    )
    assert decide(d, "us", "halted").message == (
        "the model 'halted' is halted by a directive of the authority"
    )
    assert (
        decide(d, "us", "internal").message == "the model 'internal' is internal to its developer"
    )
    assert decide(d, "us", "partners").message == (
        "your organization's grant for 'partners' is scoped to use cases; declare one in "
        "the X-Clearance-Use-Case header"
    )
    # restricted to a tier, not to named organizations: the plain sentence, apply for access
    assert decide(d, "us", "capped").message == (
        "the model 'capped' needs a grant; your organization holds none (apply for access)"
    )


def test_a_restriction_to_named_organizations_admits_no_other_grant_holder() -> None:
    """Regression: a grant left from a superseded directive (or issued before the restriction)
    reopened a model restricted to named organizations to an organization it leaves out."""
    named = model(status="restricted", restricted_organizations=frozenset({"us"}))
    d = decider_for(snapshot([named], [grant("us"), grant("br")]))
    admitted(decide(d, "us"))
    refused(decide(d, "br"), "no_grant", 403, "'m'", "is restricted")
    # the developer keeps its own model
    admitted(decide(d, "dev"))
    # without the restriction the same grant admits its holder
    partners = model(tier="approved_partners")
    admitted(decide(decider_for(snapshot([partners], [grant("br")])), "br"))


def test_a_restriction_to_groups_alone_leaves_grants_as_they_were() -> None:
    partners = model(tier="approved_partners", status="restricted")
    served = model(
        tier="approved_partners", status="restricted", restricted_groups=frozenset({"tier-1"})
    )
    for restricted in (partners, served):
        admitted(decide(decider_for(snapshot([restricted], [grant("us")])), "us"))


# --- the authority's testing grant ---------------------------------------------------------------


def with_authority(snap: Snapshot) -> Decider:
    from clearance.policy import OrgEntry

    orgs = dict(snap.organizations) | {"auth": OrgEntry("auth", "authority", "GB", "tier-1")}
    s = snap
    return decider_for(
        Snapshot(s.version, s.digest, s.issued_at, s.expires_at, orgs, {}, s.models, s.grants)
    )


def test_the_authoritys_testing_grant_admits_it_to_a_model_under_review_while_in_force() -> None:
    pending = model(tier=None, status="pending")
    testing = grant("auth", testing=True, expires_at=NOW + 1)
    d = with_authority(snapshot([pending], [testing]))
    verdict = decide(d, "auth", tester=True)
    admitted(verdict)
    assert verdict.grant == testing and verdict.valid_until == NOW + 1
    admitted(
        decide(
            with_authority(snapshot([pending], [grant("auth", testing=True)])), "auth", tester=True
        )
    )
    # the authority's other principals (its administrators) are not its testers, unless said
    refused(decide(d, "auth"), "model_not_approved", 403)
    refused(d.decide_uncached("auth", "m", "", NOW), "model_not_approved", 403)
    assert d.decide("auth", "m", "", NOW, tester=True).allowed
    assert d.decide("auth", "m", "", NOW).code == "model_not_approved"
    # at its expiry, revoked or expired, it admits nobody
    for ended in (
        grant("auth", testing=True, expires_at=NOW),
        grant("auth", testing=True, state="revoked"),
        grant("auth", testing=True, state="expired", expires_at=NOW + 100),
    ):
        refused(
            decide(with_authority(snapshot([pending], [ended])), "auth", tester=True),
            "model_not_approved",
            403,
        )


def test_only_the_authority_is_admitted_by_a_testing_grant_and_only_by_one() -> None:
    pending = model(tier=None, status="pending")
    # an organization that is not the authority gains nothing by a testing grant
    partner = snapshot([pending], [grant("us", testing=True)])
    refused(decide(with_authority(partner), "us", tester=True), "model_not_approved", 403)
    # nor the authority by an access grant
    access = snapshot([pending], [grant("auth")])
    refused(decide(with_authority(access), "auth", tester=True), "model_not_approved", 403)
    # a halt stops testing too
    halted = model(tier="halted", status="halted")
    stopped = snapshot([halted], [grant("auth", testing=True)])
    refused(decide(with_authority(stopped), "auth", tester=True), "model_halted", 403)


# --- a decision's end inside a snapshot ----------------------------------------------------------


def test_an_approval_serves_until_its_end_and_no_admission_outlasts_it() -> None:
    ends = NOW + 30  # the snapshot lives until NOW + 300
    d = decider_for(snapshot([model(valid_until=ends)]))
    before = decide(d, "us")
    admitted(before)
    assert before.valid_until == ends
    admitted(d.decide_uncached("us", "m", "", ends - 1))
    lapsed = d.decide_uncached("us", "m", "", ends)
    refused(lapsed, "model_not_approved", 403)
    assert lapsed.model is not None and lapsed.model.status == "lapsed"
    # an end after the snapshot's: the snapshot's own bounds the admission
    later = decider_for(snapshot([model(valid_until=NOW + 3_000)]))
    assert decide(later, "us").valid_until == NOW + 300
