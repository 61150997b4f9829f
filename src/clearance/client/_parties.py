"""Client operations on parties, models, frameworks and evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from clearance.api._bodies import (
    NewEvidenceGrant,
    NewModel,
    NewOrganization,
    NewPrincipal,
    Rotation,
)
from clearance.client._http import Session, chunks, digest_of, operation, read_file
from clearance.client._models import (
    Evidence,
    EvidenceGrant,
    Model,
    Organization,
    Principal,
    Publication,
)
from clearance.register import Channel, ModelStatus, Role


class Parties(Session):
    """Organizations, principals, models, frameworks, evidence and the event feed."""

    @operation("POST", "/organizations")
    def add_organization(
        self,
        name: str,
        kind: Literal["developer", "partner", "reporter", "authority"],
        jurisdiction: str,
        *,
        sector: str = "",
        name_public: bool = True,
    ) -> Organization:
        """Add an organization (administrators)."""
        body = NewOrganization(
            name=name, kind=kind, jurisdiction=jurisdiction, sector=sector, name_public=name_public
        )
        return Organization.model_validate(
            self.json("POST", "/organizations", json=body.model_dump(mode="json"))
        )

    @operation("GET", "/organizations")
    def organizations(self, *, page_size: int = 100) -> Iterator[Organization]:
        """Every organization (a withheld name reads as withheld)."""
        return self.pages("/organizations", Organization, page_size=page_size)

    @operation("GET", "/organizations/{organization_id}/name-opening")
    def name_opening(self, organization_id: str) -> dict[str, Any]:
        """The name and salt behind a withheld name's commitment (administrators)."""
        found: dict[str, Any] = self.json("GET", f"/organizations/{organization_id}/name-opening")
        return found

    @operation("POST", "/principals")
    def add_principal(
        self,
        organization: str,
        name: str,
        roles: list[Role],
        *,
        expertise: list[str] | None = None,
        conflicts: list[str] | None = None,
        channel: Channel = "api",
    ) -> Principal:
        """Add a principal to an organization (id or name); its `api_key` is shown this once."""
        body = NewPrincipal(
            organization_id=organization,
            name=name,
            roles=roles,
            expertise=expertise or [],
            conflicts=conflicts or [],
            channel=channel,
        )
        return Principal.model_validate(
            self.json("POST", "/principals", json=body.model_dump(mode="json"))
        )

    @operation("GET", "/principals/me")
    def me(self) -> Principal:
        """The principal this client's key belongs to."""
        return Principal.model_validate(self.json("GET", "/principals/me"))

    @operation("POST", "/principals/{principal_id}/revoke")
    def revoke_keys(self, principal_id: str = "me") -> dict[str, Any]:
        """End every key of a principal now (administrators, or oneself with `me`)."""
        found: dict[str, Any] = self.json("POST", f"/principals/{principal_id}/revoke")
        return found

    @operation("POST", "/principals/{principal_id}/keys")
    def rotate_key(self, principal_id: str = "me", *, grace_seconds: int = 0) -> dict[str, Any]:
        """A new key for a principal (its `api_key` shown this once); the others end after
        `grace_seconds`."""
        body = Rotation(grace_seconds=grace_seconds)
        found: dict[str, Any] = self.json(
            "POST", f"/principals/{principal_id}/keys", json=body.model_dump(mode="json")
        )
        return found

    @operation("GET", "/principals/{principal_id}/keys")
    def list_keys(self, principal_id: str = "me") -> list[dict[str, Any]]:
        """A principal's keys: made, last used, ends, active; never a secret."""
        found: list[dict[str, Any]] = self.json("GET", f"/principals/{principal_id}/keys")["items"]
        return found

    @operation("POST", "/models")
    def add_model(
        self,
        name: str,
        version: str,
        weights_digest: str,
        *,
        variant: str = "standard",
        channels: list[str] | None = None,
        upstream_url: str | None = None,
        sibling: str | None = None,
    ) -> Model:
        """Register a model configuration of the caller's organization (developers)."""
        body = NewModel(
            name=name,
            version=version,
            variant=variant,
            weights_digest=weights_digest,
            channels=channels or ["api"],
            upstream_url=upstream_url,
            sibling=sibling,
        )
        return Model.model_validate(self.json("POST", "/models", json=body.model_dump(mode="json")))

    @operation("GET", "/models")
    def models(self, *, status: str | None = None, page_size: int = 100) -> Iterator[ModelStatus]:
        """Every model's status, optionally only those in one status."""
        return self.pages("/models", ModelStatus, {"status": status}, page_size)

    @operation("GET", "/models/{name}")
    def model(self, name: str) -> Model:
        """A model by name or id, with its status."""
        return Model.model_validate(self.json("GET", f"/models/{name}"))

    @operation("GET", "/models/{name}/status")
    def model_status(self, name: str) -> ModelStatus:
        """A model's status: what the gateway enforces."""
        return ModelStatus.model_validate(self.json("GET", f"/models/{name}/status"))

    @operation("GET", "/events")
    def events(self, *, model: str | None = None, after: int = 0) -> Iterator[dict[str, Any]]:
        """Every event after a sequence number, in order (each with its `seq`)."""
        while True:
            page = self.json(
                "GET", "/events", params={"after": after, "limit": 500, "model": model}
            )
            yield from page["items"]
            if page.get("next") is None:
                return
            after = int(page["next"])

    @operation("POST", "/frameworks")
    def publish_framework(self, source: str | Path) -> Publication:
        """Publish a framework version (administrators) from its YAML text or a file."""
        text = read_file(source) if isinstance(source, Path) else source.encode()
        headers = {"Content-Type": "application/yaml"}
        return Publication.model_validate(
            self.json("POST", "/frameworks", content=text, headers=headers)
        )

    @operation("GET", "/frameworks")
    def frameworks(self) -> list[dict[str, Any]]:
        """Every published framework version, newest first, with its state."""
        items: list[dict[str, Any]] = self.json("GET", "/frameworks")["items"]
        return items

    @operation("GET", "/frameworks/{digest}")
    def framework(self, digest: str = "current") -> dict[str, Any]:
        """A published framework as data (`current` by default): `sha256` and `framework`."""
        name = "current" if digest == "current" else digest_of(digest)
        found: dict[str, Any] = self.json("GET", f"/frameworks/{name}")
        return found

    @operation("POST", "/evidence")
    def upload_evidence(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        confidential: bool | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Evidence:
        """Upload an evidence file; `progress` is told the bytes sent as they go."""
        data = read_file(path)
        params = {"name": name or Path(path).name, "confidential": confidential}
        return Evidence.model_validate(
            self.json(
                "POST",
                "/evidence",
                params=params,
                content=chunks(data, progress) if progress else data,
                headers={"Content-Type": "application/octet-stream"},
            )
        )

    @operation("GET", "/evidence/{sha256}")
    def evidence_bytes(self, digest: str) -> bytes:
        """An evidence file's bytes (confidential ones only to those entitled)."""
        return self.request("GET", f"/evidence/{digest_of(digest)}").content

    @operation("GET", "/evidence/{sha256}/summary")
    def evidence_summary(self, digest: str) -> dict[str, Any]:
        """What anyone may know of an evidence file."""
        found: dict[str, Any] = self.json("GET", f"/evidence/{digest_of(digest)}/summary")
        return found

    @operation("POST", "/evidence/{sha256}/grants")
    def grant_evidence(self, digest: str, principal_id: str, reason: str) -> EvidenceGrant:
        """Let one more principal read confidential evidence (reviewers)."""
        body = NewEvidenceGrant(principal_id=principal_id, reason=reason)
        return EvidenceGrant.model_validate(
            self.json(
                "POST", f"/evidence/{digest_of(digest)}/grants", json=body.model_dump(mode="json")
            )
        )
