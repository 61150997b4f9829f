"""Roles and the separation of duties: who may do what, and who may never."""

from __future__ import annotations

from clearance.errors import Forbidden
from clearance.register._records import Principal, Role


def require_role(principal: Principal, *roles: Role) -> None:
    """Refuse unless the principal holds one of the roles."""
    if not set(roles) & set(principal.roles):
        wanted = " or ".join(roles)
        raise Forbidden(f"this needs the {wanted} role; {principal.name} has {_roles(principal)}")


def require_member(principal: Principal, organization_id: str, what: str) -> None:
    """Refuse unless the principal acts for the organization."""
    if principal.organization_id != organization_id:
        raise Forbidden(f"only the organization that owns {what} may do this")


def require_independent(principal: Principal, organization_id: str, what: str) -> None:
    """Nobody decides a case of their own organization or one they declared a conflict with."""
    if principal.organization_id == organization_id:
        raise Forbidden(f"{principal.name} may not act on {what}: it is their own organization's")
    if organization_id in principal.conflicts:
        raise Forbidden(
            f"{principal.name} declared a conflict of interest with the organization behind {what}"
        )


def _roles(principal: Principal) -> str:
    return ", ".join(principal.roles)
