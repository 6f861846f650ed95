"""The typed error tree. Services raise these; the API maps them to HTTP in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LandflowError(Exception):
    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(LandflowError):
    code = "not_found"


class Conflict(LandflowError):
    code = "conflict"


class BadRequest(LandflowError):
    code = "bad_request"


class AuthenticationRequired(LandflowError):
    code = "authentication_required"


class PermissionDenied(LandflowError):
    code = "permission_denied"


class FeatureDisabled(LandflowError):
    code = "feature_disabled"


class TooManyAttempts(LandflowError):
    """Refused for a while after too many failures; `retry_after_seconds` says how long."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ValidationFailed(LandflowError):
    code = "validation_failed"

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        super().__init__(message, errors=[e.as_dict() for e in errors])
        self.errors = errors


@dataclass(frozen=True)
class DefinitionProblem:
    file: str
    message: str
    element_id: str | None = None
    line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "element_id": self.element_id,
            "line": self.line,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" (element '{self.element_id}')"
        return f"{where}: {self.message}"


class DefinitionInvalid(LandflowError):
    code = "definition_invalid"

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        super().__init__(
            "; ".join(str(p) for p in problems), problems=[p.as_dict() for p in problems]
        )
        self.problems = problems
