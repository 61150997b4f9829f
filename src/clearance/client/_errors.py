"""The client's errors: one family, each carrying the register's error code and message."""

from __future__ import annotations

from typing import Any

from clearance.errors import ClearanceError


class RegisterError(ClearanceError):
    """The register refused or failed a call: its HTTP status, error code, message and field."""

    exit_code = 2

    def __init__(
        self, message: str, *, status: int = 0, code: str = "unreachable", field: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.http_status = status or 502
        self.code = code
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.status else self.message


class Unreachable(RegisterError):
    """No answer: the URL is wrong, or the register is down."""


class Unauthorized(RegisterError):
    """401: no API key, or one the register does not know."""


class Forbidden(RegisterError):
    """403: the key's principal may not do that."""


class NotFound(RegisterError):
    """404: no such record (or one the caller may not see)."""


class Conflict(RegisterError):
    """409: the record's state does not allow the act."""


class Invalid(RegisterError):
    """422: the request broke the API's schema or a rule of the register."""


_BY_STATUS: dict[int, type[RegisterError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


def error_from(status: int, body: Any, text: str) -> RegisterError:
    """The exception for an error answer, from the API's one error shape when it has it."""
    error = body.get("error") if isinstance(body, dict) else None
    kind = _BY_STATUS.get(status, RegisterError)
    if isinstance(error, dict):
        return kind(
            str(error.get("message") or text),
            status=status,
            code=str(error.get("code") or "http_error"),
            field=error.get("field"),
        )
    return kind(f"HTTP {status}: {text[:300]}", status=status, code="http_error")
