"""Organizations, principals and model configurations: the register's parties and subjects."""

from __future__ import annotations

import datetime as dt
import hashlib

from clearance.errors import InvalidInput
from clearance.framework import Framework
from clearance.register._deployment import check_known
from clearance.register._duties import require_member, require_role
from clearance.register._events import Change, Event
from clearance.register._records import CHANNELS, ModelConfig, Organization, Principal
from clearance.register._testing import check_upstream_url

NAME_SALT_BYTES = 32


def name_commitment(name: str, salt: bytes) -> str:
    """SHA-256 (hex) of the salt's bytes followed by the name's UTF-8 bytes.

    Published in place of a withheld name; revealing the salt and the name later proves which
    organization it was, while without the salt no list of candidate names can be tested.
    """
    if len(salt) != NAME_SALT_BYTES:
        raise ValueError(f"a name salt is {NAME_SALT_BYTES} bytes")
    return hashlib.sha256(salt + name.encode("utf-8")).hexdigest()


def create_organization(
    organization: Organization, admin: Principal | None, framework: Framework | None = None
) -> Change:
    """An administrator adds an organization (the first one, the authority, at set-up).

    A sector must be one the current framework knows, since its caps bind on every call. An
    organization whose name is withheld must carry the commitment the log shows instead.
    """
    if admin is not None:
        require_role(admin, "admin")
    if not organization.name_public and organization.name_commitment is None:
        raise InvalidInput("name_public: a withheld name needs its commitment")
    if organization.sector:
        if framework is None:
            raise InvalidInput(
                "sector: no framework is published yet, so no sector can be checked; publish "
                "one first, or leave sector empty"
            )
        check_known("sector", (organization.sector,), framework.sector_ids(), "sector")
    event = Event(
        kind="organization.created",
        subject=organization.id,
        actor=admin.id if admin else "setup",
        at=organization.created_at,
        data={"kind": organization.kind, "jurisdiction": organization.jurisdiction},
    )
    return Change((organization,), (event,))


def create_principal(
    principal: Principal, organization: Organization, admin: Principal | None
) -> Change:
    """An administrator adds a principal; roles must suit the organization's kind."""
    if admin is not None:
        require_role(admin, "admin")
    authority_roles = {"admin", "reviewer", "appeal_panel"}
    if organization.kind != "authority" and authority_roles & set(principal.roles):
        raise InvalidInput(
            "roles: admin, reviewer and appeal_panel belong to principals of the authority"
        )
    if organization.kind == "authority" and "developer" in principal.roles:
        raise InvalidInput("roles: the authority does not develop models in this register")
    event = Event(
        kind="principal.created",
        subject=principal.id,
        actor=admin.id if admin else "setup",
        at=principal.created_at,
        data={
            "organization": organization.id,
            "roles": list(principal.roles),
            "channel": principal.channel,
        },
    )
    return Change((principal,), (event,))


def register_model(
    model: ModelConfig, principal: Principal, now: dt.datetime, sibling: ModelConfig | None = None
) -> Change:
    """A developer registers a model configuration of their own organization.

    A restricted variant may name its public sibling (`model.sibling`, given as `sibling`): a
    model of the same organization, so that the register shows the two side by side.
    """
    require_role(principal, "developer")
    require_member(principal, model.organization_id, f"model {model.name}")
    check_known("channel", model.channels, CHANNELS, "channels")
    if model.upstream_url is not None and (
        check_upstream_url(model.upstream_url, "upstream_url") != model.upstream_url
    ):
        raise InvalidInput(
            f"upstream_url: {model.upstream_url[:80]!r} has a trailing slash or spaces"
        )
    if model.sibling is not None and (
        sibling is None or sibling.id != model.sibling or sibling.id == model.id
    ):
        raise ValueError("the sibling record must be given with the sibling's id")
    if sibling is not None and sibling.organization_id != model.organization_id:
        raise InvalidInput(
            f"sibling: {sibling.name} belongs to another organization; a variant's sibling is "
            "a model of the same developer"
        )
    event = Event(
        kind="model.registered",
        subject=model.id,
        model_id=model.id,
        actor=principal.id,
        at=now,
        data={
            "name": model.name,
            "version": model.version,
            "variant": model.variant,
            "weights_digest": model.weights_digest,
            "channels": list(model.channels),
            "sibling": model.sibling,
        },
    )
    return Change((model,), (event,))


MAX_GRACE_SECONDS = 30 * 24 * 3600
"""The longest a rotated key may stay valid beside its successor: 30 days."""


def _may_manage_keys(principal: Principal, caller: Principal) -> None:
    if caller.id != principal.id:
        require_role(caller, "admin")


def revoke_keys(principal: Principal, caller: Principal, now: dt.datetime, ended: int) -> Change:
    """Every key of a principal ends now (an administrator's act, or the principal's own)."""
    _may_manage_keys(principal, caller)
    event = Event(
        kind="principal.keys_revoked",
        subject=principal.id,
        actor=caller.id,
        at=now,
        data={"keys": ended},
    )
    return Change((), (event,))


def issue_key(
    principal: Principal, caller: Principal, now: dt.datetime, grace_seconds: int
) -> Change:
    """A principal gets a new key; its others stay valid for `grace_seconds`, then end."""
    _may_manage_keys(principal, caller)
    if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
        raise InvalidInput(f"grace_seconds: between 0 and {MAX_GRACE_SECONDS}")
    event = Event(
        kind="principal.key_issued",
        subject=principal.id,
        actor=caller.id,
        at=now,
        data={"grace_seconds": grace_seconds},
    )
    return Change((), (event,))
