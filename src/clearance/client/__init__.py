"""A typed Python client for the register's REST API.

    from clearance.client import Register
    r = Register("http://127.0.0.1:8000", api_key)
    org = r.add_organization("Atlas Labs", "developer", "US")

One method per API operation; request bodies are checked by the server's own models before they
are sent; answers are the server's record models (plus each act's `log_index` and `bundle_url`);
lists are iterators that fetch pages as needed; every failure is a `RegisterError` carrying the
API's error `code`, `message` and HTTP `status`. Digests are accepted as `sha256:<hex>` or hex.
"""

from __future__ import annotations

from clearance.client._cases import Cases
from clearance.client._errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RegisterError,
    Unauthorized,
    Unreachable,
)
from clearance.client._http import digest_of, shown
from clearance.client._log import Log
from clearance.client._models import (
    AccessDecision,
    AccessRequest,
    Appeal,
    Application,
    Decision,
    Directive,
    Evidence,
    EvidenceGrant,
    Grant,
    Hearing,
    InformationRequest,
    Logged,
    Model,
    Obligation,
    Organization,
    Principal,
    Publication,
    Report,
    Revocation,
)
from clearance.client._obligations import Obligations
from clearance.client._orders import Orders
from clearance.client._parties import Parties


class Register(Parties, Cases, Obligations, Orders, Log):
    """A register at `url`, called as the principal holding `api_key` (None: public reads)."""

    def operations(self) -> dict[tuple[str, str], str]:
        """(HTTP method, path) of each API operation, to the name of its method here."""
        found = {}
        for name in dir(type(self)):
            marked = getattr(getattr(type(self), name), "operation", None)
            if marked is not None:
                found[marked] = name
        return found


__all__ = [
    "AccessDecision",
    "AccessRequest",
    "Appeal",
    "Application",
    "Conflict",
    "Decision",
    "Directive",
    "Evidence",
    "EvidenceGrant",
    "Forbidden",
    "Grant",
    "Hearing",
    "InformationRequest",
    "Invalid",
    "Logged",
    "Model",
    "NotFound",
    "Obligation",
    "Organization",
    "Principal",
    "Publication",
    "Register",
    "RegisterError",
    "Report",
    "Revocation",
    "Unauthorized",
    "Unreachable",
    "digest_of",
    "shown",
]
