"""The one error body every API error answers with, and the statuses it comes with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ProblemOut(BaseModel):
    file: str
    element_id: str | None = None
    line: int | None = None
    message: str


class ErrorBody(BaseModel):
    """`error` is a stable code (not_found, conflict, validation_failed, …); `message` is for
    people (Chinese). Some errors add details such as `errors` or `problems`."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="stable machine code, e.g. not_found, validation_failed")
    message: str = Field(description="what went wrong, for people")
    errors: list[FieldErrorOut] | None = Field(
        default=None, description="validation_failed: the fields that were refused"
    )
    problems: list[ProblemOut] | None = Field(
        default=None, description="definition_invalid: located problems in the model files"
    )
    retry_after_seconds: int | None = Field(
        default=None, description="too_many_attempts: seconds until sign-in is allowed again"
    )


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "the request cannot be carried out as sent (bad_request)",
    401: "not signed in, or the sign-in has ended (authentication_required)",
    403: "not allowed for this user, or the feature is off (permission_denied, feature_disabled)",
    404: "no such thing, or not visible to this user (not_found)",
    409: "the state changed or does not allow it (conflict)",
    413: "the body is too large",
    422: "a field, parameter or text is invalid (validation_failed, definition_invalid)",
    429: "too many failed sign-ins; see the Retry-After header (too_many_attempts)",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[s]} for s in statuses}


Responses = dict[int | str, dict[str, Any]]
