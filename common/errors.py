"""The failures services report, in the contract's vocabulary (API.md "Errors").

Services know nothing of HTTP: they raise `ServiceError` with a code from `ErrorCode`, a
sentence the user can act on and machine-readable details; common.api turns it into the
contract's error body and status.
"""

from __future__ import annotations

from typing import Any


class ErrorCode:
    INVALID_FILE_FORMAT = "INVALID_FILE_FORMAT"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    STORAGE_QUOTA_EXCEEDED = "STORAGE_QUOTA_EXCEEDED"
    UNAUTHORIZED_ACCESS = "UNAUTHORIZED_ACCESS"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    VIRUS_DETECTED = "VIRUS_DETECTED"
    UPLOAD_INCOMPLETE = "UPLOAD_INCOMPLETE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"


class ServiceError(Exception):
    """Raised by services; the API renders it as the contract's error body."""

    code = ErrorCode.VALIDATION_ERROR

    def __init__(
        self, message: str, details: dict[str, Any] | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code
