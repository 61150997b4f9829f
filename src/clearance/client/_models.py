"""What the register answers, as typed values: the server's own record models, plus what an
answer adds (its log entry index and bundle URL, an application's information requests...)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from clearance import register as records

_ANSWER = ConfigDict(extra="allow", frozen=True)


class Logged(BaseModel):
    """Where an act sits in the transparency log: its entry index and its offline bundle."""

    model_config = _ANSWER

    log_index: int | None = None
    bundle_url: str | None = Field(
        default=None, description="Relative to the register: `/log/bundle/<index>`."
    )


class Organization(records.Organization, Logged):
    """An organization, as the register answers it."""

    model_config = _ANSWER


class Principal(records.Principal, Logged):
    """A principal; `api_key` is set only in the answer that created it (shown once)."""

    model_config = _ANSWER

    api_key: str | None = None


class Model(records.ModelConfig, Logged):
    """A model configuration; `status` when read back."""

    model_config = _ANSWER

    status: records.ModelStatus | None = None


class Application(records.Application, Logged):
    """A release application, with its information requests when read back."""

    model_config = _ANSWER

    information_requests: list[records.InformationRequest] = []


class InformationRequest(records.InformationRequest, Logged):
    """A question to the applicant and, once given, the answer."""

    model_config = _ANSWER


class Decision(records.Decision, Logged):
    """A decision with its reasons, and its appeals when read back."""

    model_config = _ANSWER

    appeals: list[records.Appeal] = []
    obligations: list[records.Obligation] = []


class Obligation(records.Obligation, Logged):
    """A decision's condition as an obligation: terms, fulfilments, review, breach."""

    model_config = _ANSWER


class Appeal(records.Appeal, Logged):
    """An appeal and its ruling."""

    model_config = _ANSWER


class Directive(records.Directive, Logged):
    """A halt, restriction or restoration; `grants_issued`: how many grants a restore issued."""

    model_config = _ANSWER

    grants_issued: int | None = None


class AccessRequest(records.AccessRequest, Logged):
    """A partner's request for access."""

    model_config = _ANSWER


class Grant(records.Grant, Logged):
    """Access granted to a partner."""

    model_config = _ANSWER


class Report(records.RiskReport, Logged):
    """A risk report."""

    model_config = _ANSWER


class Hearing(records.Hearing, Logged):
    """A hearing of an adverse act."""

    model_config = _ANSWER


class EvidenceGrant(records.EvidenceGrant, Logged):
    """Leave for one more principal to read confidential evidence."""

    model_config = _ANSWER


class AccessDecision(Logged):
    """The answer to an access decision: the request, and the grant or hearing it made."""

    access_request: records.AccessRequest = Field(alias="accessrequest")
    grant: records.Grant | None = None
    hearing: records.Hearing | None = None


class Revocation(Logged):
    """A grant's revocation: the grant and the hearing it opened."""

    grant: records.Grant
    hearing: records.Hearing


class Evidence(Logged):
    """An uploaded evidence file: cite it by `digest` (`sha256:<hex>`)."""

    sha256: str
    name: str
    kind: str
    confidential: bool

    @property
    def digest(self) -> str:
        """The digest as pages show it: `sha256:<hex>`."""
        return f"sha256:{self.sha256}"


class Publication(Logged):
    """A published framework version."""

    sha256: str
    id: str
    version: str
    state: str


__all__ = [
    "AccessDecision",
    "AccessRequest",
    "Appeal",
    "Application",
    "Decision",
    "Directive",
    "Evidence",
    "EvidenceGrant",
    "Grant",
    "Hearing",
    "InformationRequest",
    "Logged",
    "Model",
    "Obligation",
    "Organization",
    "Principal",
    "Publication",
    "Report",
    "Revocation",
]
