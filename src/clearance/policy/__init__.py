"""Access policy for the gateway: the snapshot compiled from the register, Cedar, a cache.

Pure: no network, database or wall clock. Records come in; a snapshot and verdicts go out.
"""

from clearance.policy._decide import (
    HTTP_STATUS,
    PRECEDENCE,
    Decider,
    Verdict,
    default_policies,
)
from clearance.policy._snapshot import (
    PAYLOAD_TYPE,
    SCHEMA,
    GrantEntry,
    KeyEntry,
    ModelEntry,
    OrgEntry,
    Snapshot,
    build_snapshot,
    caller_cell,
    compile_content,
    content_digest,
    parse_snapshot,
)

__all__ = [
    "HTTP_STATUS",
    "PAYLOAD_TYPE",
    "PRECEDENCE",
    "SCHEMA",
    "Decider",
    "GrantEntry",
    "KeyEntry",
    "ModelEntry",
    "OrgEntry",
    "Snapshot",
    "Verdict",
    "build_snapshot",
    "caller_cell",
    "compile_content",
    "content_digest",
    "default_policies",
    "parse_snapshot",
]
