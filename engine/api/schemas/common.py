"""Shared pieces of the response models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Open(BaseModel):
    """A view whose listed fields are always there; a few views add more (kept as sent)."""

    model_config = ConfigDict(extra="allow")


class Deleted(BaseModel):
    deleted: int
