"""Deciding one call: API key to organization, then Cedar over the snapshot, with a cache.

The policies are parsed once. A decision is cached per snapshot (a swap starts a new cache) and
per (organization, model, use case, channel), and only until the earliest time it could change
on its own: a grant's expiry or the snapshot's. Time comes in as epoch seconds.

Cedar decides every call. Its answer is a pure function of the request (principal, action,
resource, context) and the policies; with no entities, policies that name neither the principal
nor the resource (the default ones) answer from the context alone. For those, Cedar's answer is
remembered per context (a few hundred possible values), so a decision the cache has not seen
(a new caller, or the first after a snapshot swap) costs the snapshot look-ups and a dict
look-up, and Cedar runs only for a context it has not answered before. Policies that do name a
principal or a resource are remembered per (principal, resource, context) instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import cedarpy

from clearance.errors import InvalidInput
from clearance.policy._snapshot import (
    GrantEntry,
    KeyEntry,
    ModelEntry,
    OrgEntry,
    Snapshot,
    caller_cell,
)

KEY_PREFIX = "clr"
CACHE_LIMIT = 100_000
OPEN_TIERS = ("public", "public_safeguarded", "approved_partners")

# The order in which refusal codes win when several forbid policies match.
PRECEDENCE = (
    "snapshot_expired",
    "model_halted",
    "model_not_approved",
    "jurisdiction_not_permitted",
    "sector_not_permitted",
    "channel_not_permitted",
    "grant_expired",
    "use_case_required",
    "no_grant",
)
# The context Cedar sees, in the order `decide_uncached` computes it.
CONTEXT = (
    "status",
    "tier",
    "own",
    "needs_grant",
    "grant",
    "jurisdiction_ok",
    "sector_capped",
    "channel_ok",
    "testing",
)
HTTP_STATUS = {
    "invalid_api_key": 401,
    "model_not_found": 404,
    "snapshot_expired": 503,
    "rate_limited": 429,
}


def default_policies() -> str:
    """The Cedar policies shipped with clearance (policy/default.cedar)."""
    return resources.files("clearance.policy").joinpath("default.cedar").read_text()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a decision: allowed, or refused with a stable code and a sentence."""

    allowed: bool
    code: str
    message: str
    model: ModelEntry | None = None
    grant: GrantEntry | None = None
    valid_until: float = float("inf")

    @property
    def http_status(self) -> int:
        """The HTTP status a refusal carries (200 when allowed)."""
        return 200 if self.allowed else HTTP_STATUS.get(self.code, 403)


def _refuse(code: str, message: str, model: ModelEntry | None = None) -> Verdict:
    return Verdict(False, code, message, model)


class Decider:
    """Cedar policies parsed once, the current snapshot, and caches keyed on it."""

    def __init__(self, policies: str | None = None) -> None:
        text = default_policies() if policies is None else policies
        try:
            self._policies = cedarpy.PolicySet.from_str(text)
        except ValueError as exc:
            raise InvalidInput(f"policies: {exc}") from None
        self._entities = cedarpy.Entities.from_json_str("[]")
        self._context_only = _context_only(text)
        self._answers: dict[tuple[Any, ...], list[str] | None] = {}
        self.snapshot: Snapshot | None = None
        self._decisions: dict[tuple[str, str, str, str, bool], Verdict] = {}
        self._keys: dict[str, KeyEntry] = {}

    def swap(self, snapshot: Snapshot) -> None:
        """Make `snapshot` current; the caches start afresh with it (one assignment each)."""
        self._decisions = {}
        self._keys = {}
        self.snapshot = snapshot

    def authenticate(self, api_key: str) -> KeyEntry | None:
        """The key's entry when its secret matches the snapshot's digest, else None."""
        found = self._keys.get(api_key)
        if found is not None:
            return found
        snapshot = self.snapshot
        if snapshot is None:
            return None
        parts = api_key.split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            return None
        entry = snapshot.keys.get(parts[1])
        if entry is None:
            return None
        digest = hashlib.sha256(parts[2].encode()).hexdigest()
        if not hmac.compare_digest(digest, entry.secret_sha256):
            return None
        if len(self._keys) >= CACHE_LIMIT:
            self._keys = {}
        self._keys[api_key] = entry
        return entry

    def decide(
        self,
        organization_id: str,
        model: str,
        use_case: str,
        now: float,
        channel: str = "api",
        *,
        tester: bool = False,
    ) -> Verdict:
        """May this organization call this model now, on this channel, for this use case?
        (`tester`: the caller is one of its reviewers, whom a testing grant admits.)

        Cached until the answer could change.
        """
        key = (organization_id, model, use_case, channel, tester)
        cached = self._decisions.get(key)
        if cached is not None and now < cached.valid_until:
            return cached
        verdict = self.decide_uncached(
            organization_id, model, use_case, now, channel, tester=tester
        )
        if len(self._decisions) >= CACHE_LIMIT:
            self._decisions = {}
        self._decisions[key] = verdict
        return verdict

    def decide_uncached(
        self,
        organization_id: str,
        model_name: str,
        use_case: str,
        now: float,
        channel: str = "api",
        *,
        tester: bool = False,
    ) -> Verdict:
        """The decision without the cache: snapshot look-ups, then the Cedar policies."""
        snapshot = self.snapshot
        if snapshot is None or now >= snapshot.expires_at:
            return _refuse(
                "snapshot_expired",
                "the gateway has no current policy snapshot from the register; "
                "it refuses every call until it gets one",
            )
        found = snapshot.models.get(model_name)
        if found is None:
            return _refuse("model_not_found", f"the model {model_name!r} does not exist")
        model = found.at(now)
        org = snapshot.organizations.get(organization_id)
        if org is None:
            return _refuse("invalid_api_key", "the API key's organization is not in the register")
        group_tier, tier = caller_cell(model, org)
        own = organization_id == model.organization_id
        needs_grant = tier == "approved_partners" or bool(model.restricted_organizations)
        jurisdiction_ok = group_tier is not None
        if (
            model.status == "restricted"
            and model.restricted_countries
            and org.country not in model.restricted_countries
        ):
            jurisdiction_ok = False
        sector_capped = tier is not None and tier != group_tier
        channel_ok = channel in model.channels and (
            not model.restricted_channels or channel in model.restricted_channels
        )
        held = snapshot.grants.get((organization_id, model.id), ())
        access = tuple(g for g in held if not g.testing)
        if model.status == "restricted" and model.restricted_organizations:
            # the organizations a restriction names, alone: a grant another still holds (from
            # a directive it superseded) does not reopen the model to it
            access = access if organization_id in model.restricted_organizations else ()
        grant, grant_state = _match_grant(access, channel, use_case, org.country, now)
        # the authority's testing grant admits its reviewers, no other principal of it
        testing = _testing_grant(held, now) if org.kind == "authority" and tester else None
        if testing is not None:
            grant = testing
        if needs_grant and grant_state == "jurisdiction":
            jurisdiction_ok = False
        facts = (
            model.status,
            tier or ("halted" if model.tiers or model.restricted_organizations else "none"),
            own,
            needs_grant,
            grant_state,
            jurisdiction_ok,
            sector_capped,
            channel_ok,
            testing is not None,
        )
        key = facts if self._context_only else (organization_id, model_name, *facts)
        try:
            codes = self._answers[key]
        except KeyError:
            context = dict(zip(CONTEXT, facts, strict=True))
            codes = self._evaluate(organization_id, model_name, context)
            if len(self._answers) >= CACHE_LIMIT:
                self._answers = {}
            self._answers[key] = codes
        valid_until = snapshot.expires_at
        if grant is not None and grant.expires_at is not None:
            valid_until = min(valid_until, grant.expires_at)
        if model.valid_until is not None:
            valid_until = min(valid_until, model.valid_until)
        if codes is None:
            return Verdict(True, "allowed", "allowed", model, grant, valid_until)
        code = min(codes, key=PRECEDENCE.index)
        if code == "grant_expired":
            # the refusal holds until the snapshot changes; no time makes an expired grant valid
            valid_until = snapshot.expires_at
        return Verdict(
            False,
            code,
            _message(code, model, tier, grant_state, org, channel),
            model,
            None,
            valid_until,
        )

    def _evaluate(
        self, organization_id: str, model: str, context: dict[str, Any]
    ) -> list[str] | None:
        request = {
            "principal": {"type": "Organization", "id": organization_id},
            "action": {"type": "Action", "id": "invoke"},
            "resource": {"type": "Model", "id": model},
            "context": json.dumps(context),
        }
        # The extension's batch call with a pre-serialized context skips the wrapper's copies;
        # the public call is the fallback should that entry point move.
        raw = getattr(cedarpy, "_internal", None)
        if raw is not None and hasattr(raw, "is_authorized_batch"):
            answer = json.loads(
                raw.is_authorized_batch(
                    [request], self._policies, self._entities._inner, None, False
                )[0]
            )
            if answer["decision"] == "Allow":
                return None
            diagnostics = answer.get("diagnostics", {})
            names = diagnostics.get("id_annotations_by_reason", {})
            reasons = diagnostics.get("reason", [])
        else:
            result = cedarpy.is_authorized(request, self._policies, self._entities)
            if result.decision == cedarpy.Decision.Allow:
                return None
            names = result.diagnostics.id_annotations_by_reason
            reasons = result.diagnostics.reasons
        codes = [names.get(reason, "") for reason in reasons]
        known = [c for c in codes if c in PRECEDENCE]
        return known or ["no_grant"]


def _context_only(policies: str) -> bool:
    """Whether these policies read the context only, so that Cedar's answer depends on it alone.

    True when no policy is a template, every scope leaves principal and resource open, and no
    condition mentions either variable; the action is always the same and there are no entities.
    """
    try:
        data = json.loads(cedarpy.policies_to_json_str(policies))
    except Exception:
        return False
    if data.get("templates"):
        return False
    for policy in data.get("staticPolicies", {}).values():
        if policy["principal"].get("op") != "All" or policy["resource"].get("op") != "All":
            return False
        if _mentions(policy.get("conditions", []), ("principal", "resource")):
            return False
    return True


def _mentions(node: Any, names: tuple[str, ...]) -> bool:
    if isinstance(node, dict):
        if node.get("Var") in names:
            return True
        return any(_mentions(value, names) for value in node.values())
    if isinstance(node, list):
        return any(_mentions(value, names) for value in node)
    return False


def _testing_grant(grants: tuple[GrantEntry, ...], now: float) -> GrantEntry | None:
    """The authority's testing grant on the model, while it is in force."""
    for grant in grants:
        if (
            grant.testing
            and grant.state == "active"
            and (grant.expires_at is None or now < grant.expires_at)
        ):
            return grant
    return None


def _match_grant(
    grants: tuple[GrantEntry, ...], channel: str, use_case: str, country: str, now: float
) -> tuple[GrantEntry | None, str]:
    """The first grant in scope and in force, or the best reason none is."""
    state = "none"
    rank = {
        "none": 0,
        "channel": 1,
        "use_case_required": 2,
        "use_case": 3,
        "jurisdiction": 4,
        "expired": 5,
    }
    for grant in grants:
        if grant.state == "expired" or (grant.expires_at is not None and now >= grant.expires_at):
            found = "expired"
        elif grant.state != "active":
            continue
        elif grant.channels and channel not in grant.channels:
            found = "channel"
        elif grant.use_cases and not use_case:
            found = "use_case_required"
        elif grant.use_cases and use_case not in grant.use_cases:
            found = "use_case"
        elif grant.countries and country not in grant.countries:
            found = "jurisdiction"
        else:
            return grant, "valid"
        if rank[found] > rank[state]:
            state = found
    return None, state


def _message(
    code: str, model: ModelEntry, tier: str | None, grant: str, org: OrgEntry, channel: str
) -> str:
    name, country = model.name, org.country
    if code == "model_halted":
        return f"the model {name!r} is halted by a directive of the authority"
    if code == "model_not_approved":
        return f"the model {name!r} is not approved for release (status: {model.status})"
    if code == "jurisdiction_not_permitted":
        return f"the model {name!r} is not permitted in your organization's country ({country})"
    if code == "sector_not_permitted":
        return (
            f"the model {name!r} is capped at {tier} for the {org.sector!r} sector in your "
            f"organization's jurisdiction group ({org.group})"
            + ("; a grant is needed" if tier == "approved_partners" else "")
        )
    if code == "use_case_required":
        return (
            f"your organization's grant for {name!r} is scoped to use cases; declare one in "
            "the X-Clearance-Use-Case header"
        )
    if code == "channel_not_permitted":
        return f"the model {name!r} is not offered on the {channel!r} channel"
    if code == "grant_expired":
        return f"your organization's grant for the model {name!r} has expired"
    if tier == "internal":
        return f"the model {name!r} is internal to its developer"
    if grant == "channel":
        return f"your organization's grant for {name!r} does not cover the {channel!r} channel"
    if grant == "use_case":
        return f"your organization's grant for {name!r} does not cover the declared use case"
    if model.status == "restricted" and model.restricted_organizations:
        return f"the model {name!r} is restricted; your organization holds no grant for it"
    return f"the model {name!r} needs a grant; your organization holds none (apply for access)"
