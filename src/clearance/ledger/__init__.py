"""The transparency log: Merkle tree, tiles, signed checkpoints, proofs and signed statements.

Standards spoken: RFC 6962 hashing and proofs; C2SP tlog-tiles layout, signed-note (Ed25519),
tlog-checkpoint, tlog-proof, tlog-cosignature (cosignature/v1) and tlog-witness's add-checkpoint;
DSSE envelopes holding in-toto Statement v1; RFC 8785 leaves; offline bundles (a statement with
its proof), consistency files and split-view proofs.

Pure: no files, network, database or wall clock. Storage comes in as a `TileStore`; times come
in as arguments.
"""

from clearance.ledger._bundle import (
    BUNDLE_FORMAT,
    CONSISTENCY_FORMAT,
    Bundle,
    ConsistencyProof,
    VerifiedBundle,
    check_newer,
    follow_rotations,
    make_consistency,
    verify_bundle,
)
from clearance.ledger._checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from clearance.ledger._cosignature import (
    COSIGNATURE_HEADER,
    Cosignature,
    Cosigner,
    WitnessKey,
    check_quorum,
    cosignature_message,
    cosignatures,
)
from clearance.ledger._dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    Envelope,
    EnvelopeSignature,
    pae,
    sign_envelope,
    verify_envelope,
)
from clearance.ledger._errors import LedgerError, MalformedData, VerificationFailed
from clearance.ledger._keys import SigningKey, VerifierKey, dsse_keyid, key_id
from clearance.ledger._leaf import LeafRecord, build_leaf, parse_leaf
from clearance.ledger._log import (
    TreeState,
    append_entries,
    consistency_proof,
    extend_tree,
    inclusion_proof,
    read_entry,
    recover_state,
    tree_root,
)
from clearance.ledger._merkle import (
    EMPTY_ROOT,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from clearance.ledger._note import (
    Note,
    NoteSignature,
    add_signatures,
    merge_signatures,
    open_note,
    parse_note,
    sign_note,
)
from clearance.ledger._proof import (
    PROOF_HEADER,
    TlogProof,
    VerifiedEntry,
    make_tlog_proof,
    verify_entry_proof,
    verify_tlog_proof,
)
from clearance.ledger._rotation import (
    KEY_ROTATION_PREDICATE,
    KeyRotation,
    rotation_statement,
    sign_key_rotation,
    verify_key_rotation,
)
from clearance.ledger._splitview import SPLIT_VIEW_FORMAT, SplitView, verify_split_view
from clearance.ledger._statement import (
    STATEMENT_TYPE,
    Statement,
    Subject,
    open_statement,
    sign_statement,
)
from clearance.ledger._store import MemoryTileStore, TileStore
from clearance.ledger._tiles import (
    TILE_WIDTH,
    BundleKey,
    TileKey,
    decode_entry_bundle,
    parse_tile_path,
)
from clearance.ledger._witness import (
    MAX_PROOF_LINES,
    TLOG_SIZE_TYPE,
    AddCheckpoint,
    Witnessed,
    WitnessRefusal,
    check_add_checkpoint,
    check_extends,
    verify_add_checkpoint,
)

__all__ = [
    "BUNDLE_FORMAT",
    "CONSISTENCY_FORMAT",
    "COSIGNATURE_HEADER",
    "EMPTY_ROOT",
    "IN_TOTO_PAYLOAD_TYPE",
    "KEY_ROTATION_PREDICATE",
    "MAX_PROOF_LINES",
    "PROOF_HEADER",
    "SPLIT_VIEW_FORMAT",
    "STATEMENT_TYPE",
    "TILE_WIDTH",
    "TLOG_SIZE_TYPE",
    "AddCheckpoint",
    "Bundle",
    "BundleKey",
    "Checkpoint",
    "ConsistencyProof",
    "Cosignature",
    "Cosigner",
    "Envelope",
    "EnvelopeSignature",
    "KeyRotation",
    "LeafRecord",
    "LedgerError",
    "MalformedData",
    "MemoryTileStore",
    "Note",
    "NoteSignature",
    "SigningKey",
    "SplitView",
    "Statement",
    "Subject",
    "TileKey",
    "TileStore",
    "TlogProof",
    "TreeState",
    "VerificationFailed",
    "VerifiedBundle",
    "VerifiedEntry",
    "VerifierKey",
    "WitnessKey",
    "WitnessRefusal",
    "Witnessed",
    "add_signatures",
    "append_entries",
    "build_leaf",
    "check_add_checkpoint",
    "check_extends",
    "check_newer",
    "check_quorum",
    "consistency_proof",
    "cosignature_message",
    "cosignatures",
    "decode_entry_bundle",
    "dsse_keyid",
    "extend_tree",
    "follow_rotations",
    "inclusion_proof",
    "key_id",
    "leaf_hash",
    "make_consistency",
    "make_tlog_proof",
    "merge_signatures",
    "merkle_root",
    "node_hash",
    "open_checkpoint",
    "open_note",
    "open_statement",
    "pae",
    "parse_checkpoint",
    "parse_leaf",
    "parse_note",
    "parse_tile_path",
    "read_entry",
    "recover_state",
    "root_from_inclusion",
    "rotation_statement",
    "sign_checkpoint",
    "sign_envelope",
    "sign_key_rotation",
    "sign_note",
    "sign_statement",
    "tree_root",
    "verify_add_checkpoint",
    "verify_bundle",
    "verify_consistency",
    "verify_entry_proof",
    "verify_envelope",
    "verify_inclusion",
    "verify_key_rotation",
    "verify_split_view",
    "verify_tlog_proof",
]
