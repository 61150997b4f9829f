"""The invariant of the deployment table, as a property over every path that opens a model.

For any framework (group caps, sector caps), any assessment within it, any sequence of acts
(decide, deem, appeal, halt, restrict, restore, grant, revoke, expiry, a directive ordered with
its hearing and the hearing's outcome or lapse, a directive's sunset) and any caller
(organization, jurisdiction, sector, channel, use case), the gateway admits a call only if some
recorded act permits that exact cell, and never above the framework's cap for the cell unless a
recorded departure for that cell says so. Everything runs through the real domain acts, the
real snapshot compiler and the real Cedar decider; the oracle below is written independently of
them, from the records alone.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.errors import ClearanceError
from clearance.framework import TIER_ORDER, Framework, TierId, most_closed, tier_rank
from clearance.policy import Decider, build_snapshot, compile_content
from clearance.register import (
    AppealedAct,
    Application,
    Change,
    Decision,
    Directive,
    Grant,
    HeardAct,
    Hearing,
    HearingReason,
    Limits,
    ModelConfig,
    Organization,
    Principal,
    Reason,
    Record,
    Scope,
    assign_reviewer,
    close_hearing,
    decide,
    decide_access,
    deem_decision,
    ended_with,
    expire_directive,
    expire_grant,
    file_appeal,
    file_application,
    issue_directive,
    miss_hearing,
    model_status,
    order_directive,
    request_access,
    revoke_grant,
    settle_appeal,
)
from tests.framework_data import load, small

START = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
GROUPS = ("near", "rest", "embargoed")
COUNTRIES = {"near": "GB", "rest": "BR", "embargoed": "KP"}
SECTORS = ("", "government", "military")
USE_CASES = ("research", "fraud-analysis")
CHANNELS = ("api", "app")
tiers = st.sampled_from(TIER_ORDER)


def framework_with(
    group_caps: dict[str, TierId], sector_caps: dict[str, dict[str, TierId]]
) -> Framework:
    data = small()
    data["jurisdictions"] = [
        {
            "id": "near",
            "name": "Near",
            "members": ["US", "GB"],
            "max_tier": group_caps["near"],
            "end_user_caps": sector_caps["near"],
        },
        {
            "id": "rest",
            "name": "Rest",
            "members": ["*"],
            "max_tier": group_caps["rest"],
            "end_user_caps": sector_caps["rest"],
        },
        {
            "id": "embargoed",
            "name": "Embargoed",
            "members": ["KP"],
            "max_tier": group_caps["embargoed"],
            "end_user_caps": sector_caps["embargoed"],
        },
    ]
    data["sectors"] = ["government", "military"]
    data["use_cases"] = {u: u for u in USE_CASES}
    return load(data)


def assessment_for(
    framework: Framework, overall: TierId, extra: dict[str, TierId]
) -> dict[str, Any]:
    """An assessment as the assessor writes it: group caps under the overall tier, sector caps
    under their group's."""
    groups = []
    for group in framework.jurisdictions:
        cap = most_closed(overall, group.max_tier, extra[group.id])
        users = {s: most_closed(cap, c) for s, c in group.end_user_caps.items()}
        groups.append({"group": group.id, "max_tier": cap, "end_users": users, "binding": []})
    return {"max_tier": overall, "jurisdictions": groups, "conditions": []}


sector_caps = st.fixed_dictionaries(
    {
        g: st.dictionaries(st.sampled_from(("government", "military")), tiers, max_size=2)
        for g in GROUPS
    }
)
acts = st.lists(
    st.one_of(
        st.tuples(
            st.just("decide"),
            st.dictionaries(st.sampled_from(GROUPS), tiers, min_size=1, max_size=3),
            st.dictionaries(
                st.sampled_from(GROUPS),
                st.dictionaries(st.sampled_from(("government", "military")), tiers, max_size=2),
                max_size=2,
            ),
            st.booleans(),
        ),
        st.tuples(
            st.just("decide_one"),
            tiers,
            st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3, unique=True),
            st.booleans(),
        ),
        st.tuples(st.just("deny"), st.booleans()),
        st.tuples(st.just("deem")),
        st.tuples(st.just("overturn")),
        st.tuples(st.just("halt")),
        st.tuples(
            st.just("restrict"),
            st.lists(st.sampled_from(("p0", "p1", "p2")), max_size=2, unique=True),
            st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
            st.lists(st.sampled_from(CHANNELS), max_size=1, unique=True),
            st.lists(tiers, max_size=1),
        ),
        st.tuples(
            st.just("restore"),
            st.lists(st.sampled_from(("p0", "p1", "p2")), max_size=2, unique=True),
        ),
        st.tuples(
            st.just("grant"),
            st.sampled_from(("p0", "p1", "p2")),
            st.sampled_from(USE_CASES),
            st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True),
            st.lists(st.sampled_from(tuple(COUNTRIES.values())), max_size=2, unique=True),
            st.booleans(),
        ),
        st.tuples(st.just("revoke")),
        st.tuples(st.just("wait"), st.integers(1, 400)),
        # a directive ordered with its hearing, and what the hearing makes of it
        st.tuples(
            st.just("order"),
            st.sampled_from(("halt", "restrict")),
            st.lists(st.sampled_from(("p0", "p1", "p2")), max_size=2, unique=True),
            st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
            st.lists(st.sampled_from(tuple(COUNTRIES.values())), max_size=2, unique=True),
            st.booleans(),
            st.sampled_from(("confirm", "modify", "revoke", "miss", "open")),
            st.lists(st.sampled_from(("p0", "p1", "p2")), max_size=2, unique=True),
            st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
        ),
        st.tuples(st.just("sunset")),
    ),
    min_size=1,
    max_size=8,
)
partners = st.lists(
    st.tuples(st.sampled_from(GROUPS), st.sampled_from(SECTORS)), min_size=3, max_size=3
)


@dataclass
class World:
    """The register's records as the acts leave them (what the store would hold)."""

    framework: Framework
    now: dt.datetime = START
    records: dict[tuple[str, str], Record] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=itertools.count)

    def new(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def apply(self, change: Change) -> None:
        """As the store writes a change: its records, then the grants its acts end."""
        for record in change.records:
            self.records[(type(record).__name__, record.id)] = record
        acts = {r.id: r for r in (*self.all(Directive), *self.all(Application))}
        for record in ended_with(change, self.all(Grant), acts).records:
            self.records[(type(record).__name__, record.id)] = record

    def all(self, kind: type[Any]) -> list[Any]:
        return [r for (name, _), r in self.records.items() if name == kind.__name__]


def principal(pid: str, org: str, *roles: str, channel: str = "api") -> Principal:
    return Principal(
        id=pid,
        organization_id=org,
        name=pid,
        roles=roles,
        channel=channel,
        created_at=START,  # type: ignore[arg-type]
    )


ADMIN = principal("admin", "authority", "admin", "reviewer")
REVIEWER = principal("reviewer", "authority", "reviewer")
DEV = principal("dev", "developer", "developer")


def run_acts(
    world: World,
    model: ModelConfig,
    requested: TierId,
    assessment: dict[str, Any],
    steps: list[Any],
) -> None:
    fw = world.framework
    application = file_application(
        new_id=world.new("app"),
        model=model,
        principal=DEV,
        framework=fw,
        framework_digest="0" * 64,
        requested_tier=requested,
        requested_jurisdictions=GROUPS,
        evidence=(),
        safeguards=(),
        assessment=assessment,
        self_assessment=None,
        now=world.now,
    )
    world.apply(application)
    reason = (Reason(text="Per the framework.", rules=("evidence.missing",)),)
    for step in steps:
        kind = step[0]
        apps = [a for a in world.all(Application) if a.state in ("filed", "under_review")]
        decisions = [d for d in world.all(Decision) if not d.set_aside]
        active = [d for d in world.all(Directive) if d.state == "active"]
        try:
            if kind in ("decide", "decide_one", "deny") and apps:
                app = apps[0]
                if app.state == "filed":
                    world.apply(assign_reviewer(app, REVIEWER, REVIEWER, world.now))
                    app = world.records[("Application", app.id)]  # type: ignore[assignment]
                justification = "Justified departure." if step[-1] else None
                if kind == "decide":
                    change = decide(
                        new_id=world.new("dec"),
                        application=app,
                        reviewer=REVIEWER,
                        framework=fw,
                        outcome="approved",
                        tier="halted",
                        jurisdictions=(),
                        conditions=(),
                        reasons=reason,
                        justification=justification,
                        now=world.now,
                        tiers=step[1],
                        sector_tiers={g: c for g, c in step[2].items() if g in step[1]},
                    )
                elif kind == "decide_one":
                    change = decide(
                        new_id=world.new("dec"),
                        application=app,
                        reviewer=REVIEWER,
                        framework=fw,
                        outcome="approved",
                        tier=step[1],
                        jurisdictions=tuple(step[2]),
                        conditions=(),
                        reasons=reason,
                        justification=justification,
                        now=world.now,
                    )
                else:
                    change = decide(
                        new_id=world.new("dec"),
                        application=app,
                        reviewer=REVIEWER,
                        framework=fw,
                        outcome="denied",
                        tier="halted",
                        jurisdictions=(),
                        conditions=(),
                        reasons=reason,
                        justification=justification,
                        now=world.now,
                    )
                world.apply(change)
            elif kind == "deem" and apps:
                app = apps[0]
                world.now = max(world.now, app.deadline)
                world.apply(
                    deem_decision(
                        new_id=world.new("dec"), application=app, framework=fw, now=world.now
                    )
                )
            elif kind == "overturn" and decisions:
                decision = max(decisions, key=lambda d: d.decided_at)
                app = world.records[("Application", decision.application_id)]
                change = file_appeal(
                    new_id=world.new("apl"),
                    decision=decision,
                    application=app,
                    principal=DEV,  # type: ignore[arg-type]
                    grounds="Wrong.",
                    framework=fw,
                    pending=False,
                    now=world.now,
                )
                world.apply(change)
                world.apply(
                    settle_appeal(
                        appeal=change.records[0],  # type: ignore[arg-type]
                        ruling="overturned",
                        text="Overturned by the panel's majority.",
                        act=AppealedAct(decision=decision, application=app),  # type: ignore[arg-type]
                        framework=fw,
                        actor="panel",
                        now=world.now,
                    )
                )
            elif kind == "halt":
                world.apply(
                    issue_directive(
                        new_id=world.new("dir"),
                        model=model,
                        admin=ADMIN,
                        action="halt",
                        grounds="Halt.",
                        scope=Scope(),
                        active=active,
                        framework=fw,
                        grant_ids=[],
                        now=world.now,
                    )
                )
            elif kind in ("restrict", "restore"):
                orgs = tuple(sorted(step[1]))
                scope = (
                    Scope(
                        organizations=orgs,
                        groups=tuple(sorted(step[2])),
                        channels=tuple(step[3]),
                        tiers=tuple(step[4]),
                    )
                    if kind == "restrict"
                    else Scope(organizations=orgs)
                )
                world.apply(
                    issue_directive(
                        new_id=world.new("dir"),
                        model=model,
                        admin=ADMIN,
                        action=kind,
                        grounds=kind,
                        scope=scope,
                        active=active,
                        framework=fw,
                        grant_ids=[world.new("grt") for _ in orgs],
                        now=world.now,
                    )
                )
            elif kind == "grant":
                org = world.records[("Organization", step[1])]
                requester = principal(f"pri-{step[1]}", step[1], "partner")
                change = request_access(
                    new_id=world.new("acr"),
                    model=model,
                    principal=requester,
                    use_case=step[2],
                    channels=tuple(step[3]),
                    jurisdictions=tuple(step[4]),
                    framework=fw,
                    now=world.now,
                )
                world.apply(change)
                status = model_status(
                    model, world.all(Decision), active, world.all(Application), world.now
                )
                world.apply(
                    decide_access(
                        request=change.records[0],
                        model=model,
                        decider=REVIEWER,
                        granted=True,  # type: ignore[arg-type]
                        reasons="ok",
                        limits=Limits(),
                        expires_at=world.now + dt.timedelta(days=30) if step[5] else None,
                        grant_id=world.new("grt"),
                        now=world.now,
                        status=status,
                        organization=org,
                        framework=fw,  # type: ignore[arg-type]
                    )
                )
            elif kind == "order":
                order(world, model, active, *step[1:])
            elif kind == "sunset":
                live = [d for d in world.all(Directive) if d.state == "active"]
                if live:
                    first = min(live, key=lambda d: d.sunset_at)
                    world.now = max(world.now, first.sunset_at)
                    world.apply(expire_directive(first, world.now))
            elif kind == "revoke":
                live = [g for g in world.all(Grant) if g.state == "active"]
                if live:
                    world.apply(revoke_grant(live[0], ADMIN, world.now))
            elif kind == "wait":
                world.now += dt.timedelta(days=step[1])
                for grant in world.all(Grant):
                    if (
                        grant.state == "active"
                        and grant.expires_at
                        and grant.expires_at <= world.now
                    ):
                        world.apply(expire_grant(grant, world.now))
        except ClearanceError:
            continue  # a refused act records nothing; the property is about what was recorded


def order(
    world: World,
    model: ModelConfig,
    active: list[Directive],
    action: str,
    orgs: list[str],
    groups: list[str],
    countries: list[str],
    urgent: bool,
    outcome: str,
    new_orgs: list[str],
    new_groups: list[str],
) -> None:
    """A halt or restriction ordered with its hearing; then the hearing confirms, modifies or
    revokes it, misses its date, or is still open."""
    scope = (
        Scope(
            organizations=tuple(sorted(orgs)),
            groups=tuple(sorted(groups)),
            jurisdictions=tuple(sorted(countries)),
        )
        if action == "restrict"
        else Scope()
    )
    directive_id, hearing_id = world.new("dir"), world.new("hrg")
    world.apply(
        order_directive(
            new_id=directive_id,
            hearing_id=hearing_id,
            model=model,
            admin=ADMIN,
            action=action,  # type: ignore[arg-type]
            grounds="Ordered.",
            scope=scope,
            urgent=urgent,
            active=active,
            framework=world.framework,
            grant_ids=[world.new("grt") for _ in scope.organizations],
            limits=None,
            now=world.now,
        )
    )
    hearing = world.records[("Hearing", hearing_id)]
    assert isinstance(hearing, Hearing)
    ordered = world.records[("Directive", directive_id)]
    assert isinstance(ordered, Directive)
    if outcome == "miss":
        world.now = max(world.now, hearing.hold_by)
        world.apply(miss_hearing(hearing, HeardAct(model=model, directive=ordered), world.now))
    elif outcome != "open":
        in_force = tuple(d for d in world.all(Directive) if d.state == "active")
        new_scope = (
            Scope(organizations=tuple(sorted(new_orgs)), groups=tuple(sorted(new_groups)))
            if outcome == "modify"
            else None
        )
        world.apply(
            close_hearing(
                hearing=hearing,
                closer=ADMIN,
                outcome=outcome,  # type: ignore[arg-type]
                reasons=(HearingReason(text="Heard."),),
                scope=new_scope,
                limits=None,
                act=HeardAct(model=model, directive=ordered, active=in_force),
                framework=world.framework,
                new_id=world.new,
                now=world.now,
            )
        )


def cell_cap(assessment: dict[str, Any], requested: TierId, group: str, sector: str) -> TierId:
    """What the framework prescribes for one cell, from the assessment (the oracle's own code)."""
    entry = next(j for j in assessment["jurisdictions"] if j["group"] == group)
    cap = entry["end_users"].get(sector, entry["max_tier"])
    return most_closed(requested, cap)


def origin_stands(world: World, grant: Grant, now: dt.datetime) -> bool:
    issued_by = world.records.get(("Directive", grant.origin))
    if not isinstance(issued_by, Directive):
        return True
    return issued_by.state == "active" and issued_by.sunset_at > now


def grant_covers(grant: Grant, channel: str, use_case: str, country: str, now: dt.datetime) -> bool:
    return (
        grant.state == "active"
        and (grant.expires_at is None or grant.expires_at > now)
        and (not grant.channels or channel in grant.channels)
        and (not grant.use_cases or use_case in grant.use_cases)
        and (not grant.jurisdictions or country in grant.jurisdictions)
    )


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    group_caps=st.fixed_dictionaries({g: tiers for g in GROUPS}),
    sector_caps=sector_caps,
    overall=tiers,
    extra=st.fixed_dictionaries({g: tiers for g in GROUPS}),
    requested=tiers,
    steps=acts,
    cast=partners,
    model_channels=st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True),
    later=st.sampled_from((0, 1, 120, 299)),
)
def test_nobody_is_served_beyond_what_a_recorded_act_permits(
    group_caps: dict[str, TierId],
    sector_caps: dict[str, dict[str, TierId]],
    overall: TierId,
    extra: dict[str, TierId],
    requested: TierId,
    steps: list[Any],
    cast: list[tuple[str, str]],
    model_channels: list[str],
    later: int,
) -> None:
    framework = framework_with(group_caps, sector_caps)
    world = World(framework)
    organizations = [
        Organization(
            id="developer", name="Dev", kind="developer", jurisdiction="US", created_at=START
        ),
        *(
            Organization(
                id=f"p{i}",
                name=f"P{i}",
                kind="partner",
                jurisdiction=COUNTRIES[group],
                sector=sector,
                created_at=START,
            )
            for i, (group, sector) in enumerate(cast)
        ),
    ]
    for org in organizations:
        world.apply(Change((org,), ()))
    model = ModelConfig(
        id="mdl",
        organization_id="developer",
        name="m",
        version="1",
        weights_digest="a" * 64,
        channels=tuple(model_channels),
        created_at=START,
    )
    assessment = assessment_for(framework, overall, extra)
    run_acts(world, model, requested, assessment, steps)

    now = world.now
    directives = [
        d for d in world.all(Directive) if d.state == "active" and d.sunset_at > world.now
    ]
    status = model_status(model, world.all(Decision), directives, world.all(Application), now)
    content = compile_content(
        framework=framework,
        organizations=organizations,
        principals=[],
        models=[model],
        statuses=[status],
        grants=[g for g in world.all(Grant) if g.state != "revoked"],
        now=now,
    )
    snapshot = build_snapshot(
        content, version=1, issued_at=now, expires_at=now + dt.timedelta(minutes=5)
    )
    decider = DECIDER
    decider.swap(snapshot)

    # the gateway decides at any moment of the snapshot's life, not only when it was signed:
    # what the records permit then is what binds (a decision, a grant or a directive may end)
    at = now + dt.timedelta(seconds=later)
    standing = [d for d in world.all(Decision) if not d.set_aside]
    decision = max(standing, key=lambda d: d.decided_at) if standing else None
    in_force = [d for d in directives if d.sunset_at > at]
    directive = max(in_force, key=lambda d: d.issued_at) if in_force else None
    for org, channel, use_case in itertools.product(organizations[1:], CHANNELS, ("", *USE_CASES)):
        verdict = decider.decide_uncached(org.id, "m", use_case, at.timestamp(), channel)
        if not verdict.allowed:
            continue
        where = f"{org.id} ({org.jurisdiction}, {org.sector or '-'}) on {channel} for {use_case!r}"
        group = framework.group_of(org.jurisdiction)
        assert group is not None
        assert channel in model.channels, where
        assert directive is None or directive.action != "halt", where
        # a grant counts only while the act that issued it stands: a directive's grants live and
        # die with the directive (an access request's grant stands on its own)
        grants = [
            g
            for g in world.all(Grant)
            if g.organization_id == org.id
            and grant_covers(g, channel, use_case, org.jurisdiction, at)
            and origin_stands(world, g, at)
        ]
        if directive is not None and directive.action == "restrict":
            scope = directive.scope
            assert not scope.groups or group.id in scope.groups, where
            assert not scope.channels or channel in scope.channels, where
            assert not scope.jurisdictions or org.jurisdiction in scope.jurisdictions, where
        if directive is not None and directive.scope.organizations:
            assert grants, f"{where}: served on a restricted model with no grant"
        live = decision is not None and decision.outcome != "denied" and decision.valid_until > at
        if not live:
            # only a directive that named organizations (and granted them) may open it
            assert directive is not None and directive.scope.organizations and grants, where
            continue
        assert decision is not None
        group_tier = decision.tiers.get(group.id)
        assert group_tier is not None, f"{where}: group {group.id} is not in the decision's table"
        tier = decision.sector_tiers.get(group.id, {}).get(org.sector, group_tier)
        if directive is not None and directive.action == "restrict" and directive.scope.tiers:
            tier = most_closed(tier, *directive.scope.tiers)
        assert tier_rank(tier) <= tier_rank("approved_partners"), f"{where}: served at {tier}"
        if tier == "approved_partners":
            assert grants, f"{where}: a partners-only cell served with no grant"
        cap = cell_cap(assessment, requested, group.id, org.sector)
        cell_tier = decision.sector_tiers.get(group.id, {}).get(org.sector, group_tier)
        if tier_rank(cell_tier) < tier_rank(cap):
            recorded = {(d.group, d.sector) for d in decision.departures}
            assert (group.id, org.sector) in recorded or (
                (group.id, None) in recorded
                and org.sector not in decision.sector_tiers.get(group.id, {})
            ), f"{where}: cell {cell_tier} above its cap {cap} with no recorded departure"
            assert not decision.deemed, f"{where}: a deemed approval above the cap"


DECIDER = Decider()
