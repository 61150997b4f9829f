"""The one error family: every failure a user can cause is a ClearanceError with a message.

Each kind carries the exit status the CLI uses and the HTTP status and code the REST API uses,
so that the edges never have to guess how to report a failure.
"""

from __future__ import annotations


class ClearanceError(Exception):
    """Base of every error a user can cause; its message is meant for a person."""

    exit_code = 1
    http_status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ClearanceError):
    """Input that does not follow its schema: a framework, an evidence file, a request body."""

    exit_code = 2
    http_status = 422
    code = "invalid_input"


class FrameworkError(InvalidInput):
    """A framework text that cannot be read or does not follow the schema.

    Its message starts with the place (`FILE:LINE: ...`) wherever the problem has one.
    """


class EvidenceRefused(ClearanceError):
    """Evidence that cannot be counted: unreadable, unfinished, or not comparable."""

    exit_code = 2
    http_status = 422
    code = "evidence_refused"


class NotFound(ClearanceError):
    """No record with that id or name."""

    http_status = 404
    code = "not_found"


class Conflict(ClearanceError):
    """A transition the state machine forbids in the record's current state."""

    http_status = 409
    code = "conflict"


class Unauthorized(ClearanceError):
    """A missing or wrong API key."""

    http_status = 401
    code = "unauthorized"


class Forbidden(ClearanceError):
    """A principal whose role or duties do not allow the act."""

    http_status = 403
    code = "forbidden"
