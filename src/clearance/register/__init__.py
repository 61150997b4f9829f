"""The register: applications, reviews, decisions, appeals, directives, grants and their clocks.

Pure domain: each act is a function from records, a principal and the time to a Change (records
in their new state plus the events that say what happened). Storage lives in clearance.store.
"""

from clearance.register._access import (
    decide_access,
    expire_grant,
    file_report,
    request_access,
    revoke_grant,
)
from clearance.register._appeals import (
    Ruling,
    appoint_panel,
    close_appeal_window,
    file_appeal,
    rule_on_appeal,
)
from clearance.register._applications import (
    answer_information,
    assign_reviewer,
    citable_rules,
    decide,
    deem_decision,
    file_application,
    prescribed_tier,
    request_information,
    withdraw,
)
from clearance.register._clock import (
    Due,
    application_due,
    decision_due,
    directive_due,
    grant_due,
)
from clearance.register._directives import expire_directive, issue_directive, renew_directive
from clearance.register._events import SCHEDULER, Change, Event, EventKind
from clearance.register._parties import create_organization, create_principal, register_model
from clearance.register._records import (
    AccessRequest,
    Appeal,
    Application,
    Decision,
    Directive,
    EvidenceRef,
    Grant,
    InformationRequest,
    Limits,
    ModelConfig,
    Organization,
    Principal,
    Reason,
    Record,
    Renewal,
    RiskReport,
    Role,
    Scope,
)
from clearance.register._status import ModelStatus, model_status

__all__ = [
    "SCHEDULER",
    "AccessRequest",
    "Appeal",
    "Application",
    "Change",
    "Decision",
    "Directive",
    "Due",
    "Event",
    "EventKind",
    "EvidenceRef",
    "Grant",
    "InformationRequest",
    "Limits",
    "ModelConfig",
    "ModelStatus",
    "Organization",
    "Principal",
    "Reason",
    "Record",
    "Renewal",
    "RiskReport",
    "Role",
    "Ruling",
    "Scope",
    "answer_information",
    "application_due",
    "appoint_panel",
    "assign_reviewer",
    "citable_rules",
    "close_appeal_window",
    "create_organization",
    "create_principal",
    "decide",
    "decide_access",
    "decision_due",
    "deem_decision",
    "directive_due",
    "expire_directive",
    "expire_grant",
    "file_appeal",
    "file_application",
    "file_report",
    "grant_due",
    "issue_directive",
    "model_status",
    "prescribed_tier",
    "register_model",
    "renew_directive",
    "request_access",
    "request_information",
    "revoke_grant",
    "rule_on_appeal",
    "withdraw",
]
