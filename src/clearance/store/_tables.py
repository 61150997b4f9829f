"""The database schema: one table per kind of record, plus events, frameworks and evidence.

Every record table keeps the whole record as JSON in `body` and copies out only the columns that
queries filter or sort on, so the schema stays small while reads stay indexed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()


def _record_table(name: str, *columns: Column[object], indexes: tuple[str, ...] = ()) -> Table:
    table = Table(
        name,
        metadata,
        Column("id", String(64), primary_key=True),
        *columns,
        Column("body", JSON, nullable=False),
    )
    for column in indexes:
        Index(f"ix_{name}_{column}", table.c[column])
    return table


organizations = _record_table(
    "organizations",
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
)
principals = _record_table(
    "principals",
    Column("organization_id", String(64), ForeignKey("organizations.id"), nullable=False),
    indexes=("organization_id",),
)
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Index("ix_api_keys_principal_id", "principal_id"),
)
"""A principal's API keys (SHA-256 of each secret): a key is valid until it is revoked or,
after a rotation, until the grace period the rotation gave it ends (`expires_at`)."""
models = _record_table(
    "models",
    Column("organization_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(128), nullable=False, unique=True),
    indexes=("organization_id",),
)
applications = _record_table(
    "applications",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("state", String(32), nullable=False),
    Column("deadline", DateTime(timezone=True), nullable=False),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    indexes=("model_id", "state", "deadline", "filed_at"),
)
information_requests = _record_table(
    "information_requests",
    Column("application_id", String(64), ForeignKey("applications.id"), nullable=False),
    indexes=("application_id",),
)
decisions = _record_table(
    "decisions",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("application_id", String(64), ForeignKey("applications.id"), nullable=False),
    Column("final", Boolean, nullable=False),
    Column("appeal_deadline", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("lapsed", Boolean, nullable=True),
    indexes=("model_id", "final", "decided_at", "valid_until"),
)
appeals = _record_table(
    "appeals",
    Column("decision_id", String(64), ForeignKey("decisions.id"), nullable=True),
    Column("state", String(20), nullable=False),
    Column("act", String(20), nullable=False),
    Column("act_id", String(64), nullable=True),
    Column("model_id", String(64), nullable=True),
    Column("decide_by", DateTime(timezone=True), nullable=True),
    indexes=("decision_id", "act_id", "model_id", "decide_by"),
)
hearings = _record_table(
    "hearings",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("act_id", String(64), nullable=False),
    Column("state", String(20), nullable=False),
    Column("hold_by", DateTime(timezone=True), nullable=False),
    indexes=("model_id", "act_id", "state", "hold_by"),
)
directives = _record_table(
    "directives",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("sunset_at", DateTime(timezone=True), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    indexes=("model_id", "state", "sunset_at"),
)
obligations = _record_table(
    "obligations",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("decision_id", String(64), ForeignKey("decisions.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    indexes=("model_id", "decision_id", "state", "due_at"),
)
access_requests = _record_table(
    "access_requests",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("organization_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("state", String(20), nullable=False),
    indexes=("model_id", "state"),
)
grants = _record_table(
    "grants",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("organization_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("purpose", String(20), nullable=False, server_default="access"),
    indexes=("model_id", "organization_id", "state", "expires_at", "purpose"),
)
reports = _record_table(
    "reports",
    Column("model_id", String(64), ForeignKey("models.id"), nullable=False),
    Column("filed_at", DateTime(timezone=True), nullable=False),
    indexes=("model_id",),
)
model_status = _record_table(
    "model_status",
    Column("name", String(128), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    indexes=("status",),
)

events = Table(
    "events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("kind", String(40), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("model_id", String(64), nullable=True),
    Column("actor", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("data", JSON, nullable=False),
)
Index("ix_events_model_id_seq", events.c.model_id, events.c.seq)
Index("ix_events_subject", events.c.subject)

clock_applied = Table(
    "clock_applied",
    metadata,
    Column("kind", String(40), primary_key=True),
    Column("subject", String(128), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)
"""One row per clock transition applied: the primary key makes each happen exactly once."""

frameworks = Table(
    "frameworks",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("framework_id", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("current", Boolean, nullable=False),
    Column("state", String(20), nullable=False),
    Column("effective_date", Date, nullable=False),
    UniqueConstraint("framework_id", "version", name="uq_frameworks_id_version"),
)
"""Published versions; `state` is scheduled (effective later), current (one), or superseded."""

evidence = Table(
    "evidence",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("parsed", JSON, nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("confidential", Boolean, nullable=False, server_default=false()),
    Column("organization_id", String(64), nullable=True),
    Column("uploaded_by", String(64), nullable=True),
)
"""Evidence bytes as uploaded; a confidential file's bytes go only to those entitled to them."""

evidence_grants = _record_table(
    "evidence_grants",
    Column("sha256", String(64), ForeignKey("evidence.sha256"), nullable=False),
    Column("principal_id", String(64), ForeignKey("principals.id"), nullable=False),
    indexes=("sha256",),
)

application_evidence = Table(
    "application_evidence",
    metadata,
    Column("application_id", String(64), ForeignKey("applications.id"), primary_key=True),
    Column("sha256", String(64), primary_key=True),
)
"""Which applications filed which evidence (and a safeguards declaration), by digest."""
Index("ix_application_evidence_sha256", application_evidence.c.sha256)

organization_salts = Table(
    "organization_salts",
    metadata,
    Column("organization_id", String(64), ForeignKey("organizations.id"), primary_key=True),
    Column("salt", LargeBinary, nullable=False),
)
"""The secret salt of each withheld name's commitment: never served, except to administrators."""

log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
)
"""One row (id 1): the log's size and right-edge subtree hashes; writers lock it to append."""

log_tiles = Table(
    "log_tiles",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("width", SmallInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
"""The widest version of each Merkle tile; narrower (older partial) versions are its prefixes."""

log_entry_bundles = Table(
    "log_entry_bundles",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("width", SmallInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)
"""The widest version of each entry bundle (the leaves themselves, length-prefixed)."""

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", DateTime(timezone=True), nullable=False),
)
"""Every signed checkpoint, oldest first: the newest is served, the others show consistency."""
Index("ix_log_checkpoints_tree_size", log_checkpoints.c.tree_size)

log_cosignatures = Table(
    "log_cosignatures",
    metadata,
    Column("checkpoint_id", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(512), primary_key=True),
    Column("line", Text, nullable=False),
    Column("cosigned_at", BigInteger, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)
"""Each witness's verified cosignature on a checkpoint (`witness`: its vkey; `cosigned_at`: the
cosignature's own POSIX timestamp); served as extra signature lines on the checkpoint."""

statements = Table(
    "statements",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(64), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("envelope_sha256", String(64), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("subject_name", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""Each log entry's DSSE envelope, by log index, exactly as its leaf's SHA-256 names it."""
Index("ix_statements_subject", statements.c.subject)
Index("ix_statements_kind", statements.c.kind)

usage = Table(
    "usage",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("organization_id", String(64), primary_key=True),
    Column("grant_id", String(64), primary_key=True),
    Column("calls", BigInteger, nullable=False),
    Column("failures", BigInteger, nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("refusals", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""Gateway usage totals per model, organization and grant ("-": none): counts, never content."""

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""An organization's webhook endpoints; the signing secret is shown once and never served."""
Index("ix_webhook_endpoints_organization_id", webhook_endpoints.c.organization_id)

outbox = Table(
    "outbox",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("endpoint_id", String(64), ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("organization_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
)
"""One notice to one endpoint, written in the act's own transaction; the id is its webhook-id."""
Index("ix_outbox_state_next_attempt_at", outbox.c.state, outbox.c.next_attempt_at)
Index("ix_outbox_organization_id", outbox.c.organization_id)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("message_id", String(64), ForeignKey("outbox.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("status", Integer, nullable=True),
    Column("error", Text, nullable=True),
)
"""Every delivery attempt: the answer's status, or why there was none."""
Index("ix_webhook_deliveries_message_id", webhook_deliveries.c.message_id)
usage_sources = Table(
    "usage_sources",
    metadata,
    Column("source", String(80), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""How far each gateway's usage journal segment has been applied: each range counts once."""
snapshot_versions = Table(
    "snapshot_versions",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""The version and content digest of the last policy snapshot compiled: the same content keeps
its version, new content takes the next one, across restarts and a server's workers."""
