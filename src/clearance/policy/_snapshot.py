"""The policy snapshot: what the gateway needs to decide, compiled from the register's records.

A snapshot is plain data with a monotonic version and a SHA-256 content digest; the register signs
its JSON form (a DSSE envelope) and gateways swap it in whole. It carries no names of people, no
prompts, and for each API key only its id, holder and the SHA-256 of its secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import rfc8785

from clearance.errors import InvalidInput
from clearance.framework import Framework, TierId, most_closed
from clearance.register import Grant, ModelConfig, ModelStatus, Organization, Principal, cell

SCHEMA = "clearance/snapshot/v1"
PAYLOAD_TYPE = "application/vnd.clearance.snapshot+json"


@dataclass(frozen=True, slots=True)
class OrgEntry:
    """An organization as the gateway sees it: kind, country, jurisdiction group and sector."""

    id: str
    kind: str
    country: str
    group: str | None
    sector: str = ""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """An API key's id, holder, channel and secret digest (never the key itself)."""

    key_id: str
    principal_id: str
    organization_id: str
    secret_sha256: str
    channel: str = "api"
    expires_at: float | None = None
    """Epoch seconds after which the key is refused (a rotated key's grace period), or None."""
    tester: bool = False
    """The holder is a reviewer: of the authority's principals, only reviewers test a model
    under review with its testing grant."""


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A model's status at compile time, under the name callers use."""

    id: str
    name: str
    organization_id: str
    status: str
    tier: TierId | None
    """The most open tier of the standing decision's table (for display)."""
    tiers: Mapping[str, TierId]
    """The standing decision's table: jurisdiction group to tier."""
    sector_tiers: Mapping[str, Mapping[str, TierId]]
    """Cells of end-user sectors that differ from their group's tier."""
    channels: frozenset[str]
    restricted_organizations: frozenset[str] = frozenset()
    restricted_countries: frozenset[str] = frozenset()
    restricted_channels: frozenset[str] = frozenset()
    restricted_tiers: tuple[TierId, ...] = ()
    restricted_groups: frozenset[str] = frozenset()
    upstream: str | None = None
    """The base URL of the server the developer named for the model (`upstream_url`); the
    gateway calls it unless its upstreams file names the model."""
    valid_until: float | None = None
    """Epoch seconds at which the standing decision's table lapses (None: none stands)."""

    def at(self, now: float) -> ModelEntry:
        """This model as it stands at `now`: past `valid_until`, with no decision's table (an
        approval has lapsed; a restriction stays, over nothing the decision opened)."""
        if self.valid_until is None or now < self.valid_until:
            return self
        status = "lapsed" if self.status == "approved" else self.status
        return replace(self, status=status, tier=None, tiers={}, sector_tiers={}, valid_until=None)


@dataclass(frozen=True, slots=True)
class GrantEntry:
    """A grant's scope, limits and expiry (epoch seconds; None: no expiry)."""

    id: str
    organization_id: str
    model_id: str
    state: str
    channels: frozenset[str] = frozenset()
    use_cases: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    retain_content: bool = False
    expires_at: float | None = None
    testing: bool = False
    """The authority's testing grant on a model under review: admits its holder whatever the
    model's status, and sends its calls to `upstream` when the developer named one."""
    upstream: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything a decision reads, with its version, digest and validity window."""

    version: int
    digest: str
    issued_at: float
    expires_at: float
    organizations: Mapping[str, OrgEntry]
    keys: Mapping[str, KeyEntry]
    models: Mapping[str, ModelEntry]
    grants: Mapping[tuple[str, str], tuple[GrantEntry, ...]] = field(default_factory=dict)
    """(organization id, model id) to that organization's grants for the model."""
    content: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The snapshot as JSON data: the payload the register signs."""
        return {
            "schema": SCHEMA,
            "version": self.version,
            "digest": self.digest,
            "issued_at": _iso(self.issued_at),
            "expires_at": _iso(self.expires_at),
            "content": dict(self.content),
        }

    def payload(self) -> bytes:
        """RFC 8785 canonical bytes of `to_json()`."""
        return bytes(rfc8785.dumps(self.to_json()))


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()


def _epoch(value: dt.datetime | str | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.timestamp()


def content_digest(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a snapshot's content."""
    return hashlib.sha256(rfc8785.dumps(dict(content))).hexdigest()


def compile_content(
    *,
    framework: Framework | None,
    organizations: Iterable[Organization],
    principals: Iterable[tuple[Principal, str, str]],
    models: Iterable[ModelConfig],
    statuses: Iterable[ModelStatus],
    grants: Iterable[Grant],
    now: dt.datetime,
    key_expiry: Mapping[str, dt.datetime] | None = None,
) -> dict[str, Any]:
    """The snapshot's content from register records; `principals` are (principal, key id, hash).

    `key_expiry` gives the keys that end on their own (by key id): a rotated key's grace.
    Statuses come as stored; a decision whose validity ended by `now` counts as lapsed here even
    before the register's clock has written that down. Revoked grants are left out. With no
    framework published yet, no organization is in a jurisdiction group (and no model is
    approved, so the gateway serves nothing).
    """
    by_id = {m.id: m for m in models}
    content_models: dict[str, Any] = {}
    for status in sorted(statuses, key=lambda s: s.name):
        model = by_id.get(status.model_id)
        if model is None:
            continue
        name, tier = status.status, status.tier
        tiers, sector_tiers = status.tiers, status.sector_tiers
        ends = status.valid_until if name in ("approved", "restricted") and tiers else None
        if ends is not None and ends <= now:
            # the decision's validity ended: nothing of its table stands, restricted or not
            name = "lapsed" if name == "approved" else name
            tier, tiers, sector_tiers, ends = None, {}, {}, None
        scope = status.restricted_to
        content_models[model.name] = {
            "id": model.id,
            "organization": model.organization_id,
            "status": name,
            "tier": tier,
            "tiers": dict(tiers),
            "sector_tiers": {g: dict(cells) for g, cells in sector_tiers.items()},
            "channels": sorted(model.channels),
            # only models that name their server carry it, so that others' content is as it was
            **({"upstream": model.upstream_url} if model.upstream_url else {}),
            # when the standing decision's table stops, so that the gateway stops with it
            **({"valid_until": ends.timestamp()} if ends is not None else {}),
            "restricted_to": None
            if scope is None
            else {
                "organizations": sorted(scope.organizations),
                "jurisdictions": sorted(scope.jurisdictions),
                "channels": sorted(scope.channels),
                "tiers": list(scope.tiers),
                "groups": sorted(scope.groups),
            },
        }
    orgs: dict[str, Any] = {}
    for org in sorted(organizations, key=lambda o: o.id):
        group = framework.group_of(org.jurisdiction) if framework is not None else None
        orgs[org.id] = {
            "kind": org.kind,
            "country": org.jurisdiction,
            "group": group.id if group else None,
            "sector": org.sector,
        }
    ending = key_expiry or {}
    keys = {
        key_id: {
            "principal": p.id,
            "organization": p.organization_id,
            "secret_sha256": digest,
            "channel": p.channel,
        }
        | ({"expires_at": ending[key_id].timestamp()} if key_id in ending else {})
        # only reviewers' keys carry it, so that other keys' content is as it was
        | ({"tester": True} if "reviewer" in p.roles else {})
        for p, key_id, digest in sorted(principals, key=lambda item: item[1])
    }
    content_grants = [
        {
            "id": g.id,
            "organization": g.organization_id,
            "model": g.model_id,
            "state": g.state,
            "channels": sorted(g.channels),
            "use_cases": sorted(g.use_cases),
            "jurisdictions": sorted(g.jurisdictions),
            "requests_per_minute": g.limits.requests_per_minute,
            "tokens_per_minute": g.limits.tokens_per_minute,
            "retain_content": g.limits.retain_content,
            "expires_at": g.expires_at.isoformat() if g.expires_at else None,
            # only testing grants carry these, so that other grants' content is as it was
            **(
                {"purpose": "testing", "upstream": g.pre_release_upstream}
                if g.purpose == "testing"
                else {}
            ),
        }
        for g in sorted(grants, key=lambda g: g.id)
        if g.state != "revoked"
    ]
    return {"organizations": orgs, "keys": keys, "models": content_models, "grants": content_grants}


def build_snapshot(
    content: Mapping[str, Any], *, version: int, issued_at: dt.datetime, expires_at: dt.datetime
) -> Snapshot:
    """A snapshot over compiled content, valid from `issued_at` until `expires_at`."""
    return _from_content(
        dict(content),
        version=version,
        digest=content_digest(content),
        issued_at=issued_at.timestamp(),
        expires_at=expires_at.timestamp(),
    )


def parse_snapshot(data: Mapping[str, Any]) -> Snapshot:
    """A snapshot from its JSON form; InvalidInput when it is malformed or its digest is wrong."""
    try:
        if data.get("schema") != SCHEMA:
            raise InvalidInput(f"snapshot: schema is not {SCHEMA}")
        content = data["content"]
        digest = str(data["digest"])
        if content_digest(content) != digest:
            raise InvalidInput("snapshot: the content does not match its digest")
        issued = _epoch(str(data["issued_at"]))
        expires = _epoch(str(data["expires_at"]))
        assert issued is not None and expires is not None
        return _from_content(
            content,
            version=int(data["version"]),
            digest=digest,
            issued_at=issued,
            expires_at=expires,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"snapshot: malformed ({exc!r})") from None


def _from_content(
    content: dict[str, Any], *, version: int, digest: str, issued_at: float, expires_at: float
) -> Snapshot:
    organizations = {
        org_id: OrgEntry(org_id, o["kind"], o["country"], o["group"], o["sector"])
        for org_id, o in content["organizations"].items()
    }
    keys = {
        key_id: KeyEntry(
            key_id,
            k["principal"],
            k["organization"],
            k["secret_sha256"],
            k["channel"],
            k.get("expires_at"),
            k.get("tester", False),
        )
        for key_id, k in content["keys"].items()
    }
    models: dict[str, ModelEntry] = {}
    for name, m in content["models"].items():
        scope = m["restricted_to"] or {}
        models[name] = ModelEntry(
            id=m["id"],
            name=name,
            organization_id=m["organization"],
            status=m["status"],
            tier=m["tier"],
            tiers=dict(m["tiers"]),
            sector_tiers={g: dict(cells) for g, cells in m["sector_tiers"].items()},
            channels=frozenset(m["channels"]),
            restricted_organizations=frozenset(scope.get("organizations", ())),
            restricted_countries=frozenset(scope.get("jurisdictions", ())),
            restricted_channels=frozenset(scope.get("channels", ())),
            restricted_tiers=tuple(scope.get("tiers", ())),
            restricted_groups=frozenset(scope.get("groups", ())),
            upstream=m.get("upstream"),
            valid_until=m.get("valid_until"),
        )
    grants: dict[tuple[str, str], list[GrantEntry]] = {}
    for g in content["grants"]:
        entry = GrantEntry(
            id=g["id"],
            organization_id=g["organization"],
            model_id=g["model"],
            state=g["state"],
            channels=frozenset(g["channels"]),
            use_cases=frozenset(g["use_cases"]),
            countries=frozenset(g["jurisdictions"]),
            requests_per_minute=g["requests_per_minute"],
            tokens_per_minute=g["tokens_per_minute"],
            retain_content=bool(g["retain_content"]),
            expires_at=_epoch(g["expires_at"]),
            testing=g.get("purpose") == "testing",
            upstream=g.get("upstream"),
        )
        grants.setdefault((entry.organization_id, entry.model_id), []).append(entry)
    return Snapshot(
        version=version,
        digest=digest,
        issued_at=issued_at,
        expires_at=expires_at,
        organizations=organizations,
        keys=keys,
        models=models,
        grants={k: tuple(v) for k, v in grants.items()},
        content=content,
    )


def caller_cell(model: ModelEntry, org: OrgEntry) -> tuple[TierId | None, TierId | None]:
    """(the caller's group tier, the caller's cell) for this model, restrictions applied.

    None where the caller's group is not served. A restriction on a model with no standing
    decision still lets the organizations it names (who received grants in the same act) use it,
    as if approved for partners, in the groups the restriction serves.
    """
    group_tier: TierId | None
    tier: TierId | None
    if model.tier is None and model.status == "restricted" and model.restricted_organizations:
        # no standing decision at all: the restriction's named organizations alone
        group_tier = tier = "approved_partners"
    elif not model.tiers and model.tier == "internal":
        # an approval for internal deployment only: the same cell everywhere
        group_tier = tier = "internal"
    else:
        group_tier, tier = cell(model.tiers, model.sector_tiers, org.group, org.sector)
    if model.status == "restricted" and group_tier is not None and tier is not None:
        if model.restricted_groups and org.group not in model.restricted_groups:
            return None, None
        if model.restricted_tiers:
            group_tier = most_closed(group_tier, *model.restricted_tiers)
            tier = most_closed(tier, *model.restricted_tiers)
    return group_tier, tier
