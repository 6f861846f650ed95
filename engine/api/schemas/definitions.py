"""Deployed process versions as the API shows them (engine/services/definitions.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class VersionOut(BaseModel):
    id: int
    process_id: str
    version: int
    name: str | None
    file_name: str
    spec_hash: str
    deployed_at: str
    called_processes: list[Any]
    start_form_key: str | None


class VersionList(BaseModel):
    items: list[VersionOut]
    total: int


class ImportWarning(BaseModel):
    model_config = {"extra": "allow"}

    file: str
    message: str


class Deployed(BaseModel):
    deployment_id: int | None = Field(description="null when nothing changed")
    created: list[VersionOut]
    unchanged: list[VersionOut]
    warnings: list[ImportWarning] = Field(description="what the import of a Camunda model left out")
