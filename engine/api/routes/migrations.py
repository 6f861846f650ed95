"""Migrating running cases to another version of their process (administrators only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.errors import Responses
from engine.services.migrations import MAX_INSTANCES, MigrationRequest

router = APIRouter(prefix="/api/v1/migrations", tags=["migrations"])

_REFUSED: Responses = {
    403: {"description": "administrators only"},
    404: {"description": "no such process or version"},
    422: {"description": "the mapping names an element the target version does not have"},
}
ProcessId = Annotated[str, Path(max_length=120, pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")]


class MigrationIn(BaseModel):
    target_version: int = Field(ge=1, description="the version the cases move to")
    mapping: dict[str, str] = Field(
        default_factory=dict,
        max_length=500,
        description="old element id → element id in the target, for renamed steps "
        "(unmapped elements keep their id)",
    )
    source_version: int | None = Field(
        default=None, ge=1, description="only the cases running on this version"
    )
    instance_ids: list[str] | None = Field(
        default=None, max_length=MAX_INSTANCES, description="only these cases"
    )

    def request(self) -> MigrationRequest:
        return MigrationRequest(
            target_version=self.target_version,
            mapping=dict(self.mapping),
            source_version=self.source_version,
            instance_ids=tuple(self.instance_ids) if self.instance_ids is not None else None,
        )


class Element(BaseModel):
    element_id: str
    element_name: str


class Reason(Element):
    reason: str = Field(description="why the case cannot move (Chinese)")


class CaseRef(BaseModel):
    instance_id: str
    case_no: str | None = None
    title: str | None = None
    version: int | None = Field(default=None, description="the version the case runs on")
    status: str | None = None


class MovableCase(CaseRef):
    waiting_at: list[Element] = Field(description="where the case would wait on the target")


class MigratedCase(MovableCase):
    from_version: int


class BlockedCase(CaseRef):
    reasons: list[Reason]


class FailedCase(BaseModel):
    instance_id: str
    reason: str


class DryRunCounts(BaseModel):
    total: int
    movable: int
    blocked: int


class MigrationCounts(BaseModel):
    total: int
    migrated: int
    blocked: int
    failed: int


class DryRunOut(BaseModel):
    process_id: str
    target_version: int
    movable: list[MovableCase]
    blocked: list[BlockedCase]
    counts: DryRunCounts


class MigrationOut(BaseModel):
    process_id: str
    target_version: int
    migrated: list[MigratedCase]
    blocked: list[BlockedCase]
    failed: list[FailedCase]
    counts: MigrationCounts


class VersionCount(BaseModel):
    version: int
    deployed_at: str
    active_cases: int = Field(description="cases running, waiting or in error on this version")


class VersionsOut(BaseModel):
    process_id: str
    versions: list[VersionCount]


@router.get("/{process_id}", response_model=VersionsOut, responses=_REFUSED)
def versions(process_id: ProcessId, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    """The versions of a process and how many cases run on each."""
    return lf.migrations.versions(actor, process_id)


@router.post("/{process_id}/dry-run", response_model=DryRunOut, responses=_REFUSED)
def dry_run(
    process_id: ProcessId, body: MigrationIn, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    """Which cases would move to the target version, where they would wait, and which cannot
    move and why. Changes nothing."""
    return lf.migrations.dry_run(actor, process_id, body.request())


@router.post("/{process_id}", response_model=MigrationOut, responses=_REFUSED)
def migrate(
    process_id: ProcessId, body: MigrationIn, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    """Move every case that can move, each in its own transaction, recorded on the case."""
    return lf.migrations.migrate(actor, process_id, body.request())
