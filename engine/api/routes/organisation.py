from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.organisation import (
    Catalogue,
    DepartmentCreated,
    DepartmentList,
    ImportDone,
    MembershipAdded,
    RegionList,
    RegionOut,
    UserCreated,
    UserList,
)
from engine.api.schemas.params import RowId
from engine.domain.organisation import DEPARTMENT_TYPES, LEVELS, ROLES
from engine.errors import BadRequest
from engine.services import admin_uploads
from engine.services.organisation import DepartmentSpec, RegionSpec

router = APIRouter(prefix="/api/v1/org", tags=["organisation"])


class RegionIn(BaseModel):
    code: str = Field(min_length=6, max_length=12)
    name: str = Field(min_length=1, max_length=200)
    level: str
    parent: str | None = None


class DepartmentIn(BaseModel):
    dept_type: str = Field(min_length=1, max_length=20)
    region: str = Field(min_length=6, max_length=12)
    name: str | None = Field(default=None, max_length=200)


class MembershipIn(BaseModel):
    department: str = Field(min_length=1, max_length=60)
    role: str = "handler"


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=200)  # the policy: auth_passwords
    memberships: list[MembershipIn] = Field(default_factory=list)
    is_admin: bool = False


class SubstitutionIn(BaseModel):
    absent: str
    substitute: str
    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=400)


class UserOut(BaseModel):
    username: str
    display_name: str
    is_admin: bool
    is_active: bool
    memberships: list[MembershipIn]
    claimed_tasks: int = Field(description="open tasks the user holds")


class UserState(BaseModel):
    username: str
    is_active: bool
    released_tasks: list[str] = Field(description="claimed tasks put back in their queues")


class MembershipRemoved(BaseModel):
    username: str
    department: str
    role: str
    released_tasks: list[str]


class SubstitutionOut(BaseModel):
    id: int
    absent: str
    substitute: str
    starts_on: str
    ends_on: str
    reason: str
    created_by: str
    state: str = Field(description="upcoming | running | ended | cancelled")


class SubstitutionList(BaseModel):
    items: list[SubstitutionOut]
    total: int


class ImportIn(BaseModel):
    csv: str = Field(min_length=1, description="the CSV text, UTF-8, header row first")
    start: int = Field(default=0, ge=0, description="apply: first row of the plan")
    count: int | None = Field(default=None, ge=1, le=10_000, description="apply: rows")


class ImportProblem(BaseModel):
    field: str
    message: str


class ImportRow(BaseModel):
    line: int = Field(description="line of the file; the header is line 1")
    key: str
    label: str
    action: str = Field(description="add | change | same | refused")
    changes: list[str]
    problems: list[ImportProblem]


class ImportPreview(BaseModel):
    kind: str
    total: int
    counts: dict[str, int]
    rows: list[ImportRow]


class ImportSlice(BaseModel):
    kind: str
    total: int
    start: int
    next: int | None = Field(description="where the next slice starts; null when done")
    applied: int
    unchanged: int
    refused: list[ImportRow]
    rerouted_tasks: int


@router.get("/types", response_model=Catalogue)
def types(actor: ActorDep) -> dict[str, Any]:
    return {"department_types": DEPARTMENT_TYPES, "levels": list(LEVELS), "roles": ROLES}


@router.get("/regions", response_model=RegionList)
def regions(
    actor: ActorDep,
    lf: LandflowDep,
    parent: Annotated[str | None, Query(max_length=12)] = None,
) -> dict[str, Any]:
    items = lf.organisation.regions(actor, parent)
    return {"items": items, "total": len(items)}


@router.post("/regions", status_code=201, response_model=RegionOut)
def create_region(body: RegionIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.create_region(
        actor, RegionSpec(body.code, body.name, body.level, body.parent)
    )


@router.get("/departments", response_model=DepartmentList)
def departments(
    actor: ActorDep,
    lf: LandflowDep,
    region: Annotated[str | None, Query(max_length=12)] = None,
) -> dict[str, Any]:
    items = lf.organisation.departments(actor, region)
    return {"items": items, "total": len(items)}


@router.post("/departments", status_code=201, response_model=DepartmentCreated)
def create_department(body: DepartmentIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.create_department(
        actor, DepartmentSpec(body.dept_type, body.region, body.name)
    )


@router.get("/users", response_model=UserList)
def users(
    actor: ActorDep,
    lf: LandflowDep,
    q: str = Query(default="", max_length=100, description="part of a username or name"),
    department: str | None = Query(default=None, max_length=60),
    page: int | None = Query(
        default=None, ge=1, le=100_000, description="paged (20 a page) when given"
    ),
    per_page: int = Query(default=20, ge=1, le=200),
) -> dict[str, Any]:
    if q or department or page:
        return lf.organisation.find_users(actor, q, department, page or 1, per_page)
    items = lf.organisation.users(actor)
    return {"items": items, "total": len(items)}


@router.get("/users/{username}", response_model=UserOut)
def user(username: str, actor: ActorDep, lf: LandflowDep) -> UserOut:
    return UserOut(**lf.organisation.user(actor, username))


@router.post("/users/{username}/deactivate", response_model=UserState)
def deactivate_user(username: str, actor: ActorDep, lf: LandflowDep) -> UserState:
    """Sign-in refused and every session ended at once; claimed tasks go back to the queue."""
    return UserState(**lf.organisation.deactivate_user(actor, username))


@router.post("/users/{username}/reactivate", response_model=UserState)
def reactivate_user(username: str, actor: ActorDep, lf: LandflowDep) -> UserState:
    return UserState(**lf.organisation.reactivate_user(actor, username))


@router.post("/users", status_code=201, response_model=UserCreated)
def create_user(body: UserIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.create_user(
        actor,
        body.username,
        body.display_name,
        body.password,
        [(m.department, m.role) for m in body.memberships],
        body.is_admin,
    )


@router.post("/users/{username}/memberships", status_code=201, response_model=MembershipAdded)
def add_membership(
    username: str, body: MembershipIn, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.organisation.add_membership(actor, username, body.department, body.role)


@router.delete(
    "/users/{username}/memberships/{department}/{role}", response_model=MembershipRemoved
)
def remove_membership(
    username: str, department: str, role: str, actor: ActorDep, lf: LandflowDep
) -> MembershipRemoved:
    """When it was the user's last role in the department, the tasks of that department they
    had claimed go back to its queue (`released_tasks`)."""
    return MembershipRemoved(**lf.organisation.remove_membership(actor, username, department, role))


@router.get("/substitutions", response_model=SubstitutionList)
def substitutions(
    actor: ActorDep,
    lf: LandflowDep,
    username: str | None = Query(default=None, max_length=80),
    current: bool = False,
) -> SubstitutionList:
    items = lf.organisation.substitutions(actor, username, current)
    return SubstitutionList(items=[SubstitutionOut(**i) for i in items], total=len(items))


@router.post("/substitutions/{substitution_id}/end", response_model=SubstitutionOut)
def end_substitution(substitution_id: RowId, actor: ActorDep, lf: LandflowDep) -> SubstitutionOut:
    """From today on the stand-in no longer counts; one not yet begun is cancelled."""
    return SubstitutionOut(**lf.organisation.end_substitution(actor, substitution_id))


@router.post("/substitutions", status_code=201, response_model=SubstitutionOut)
def add_substitution(body: SubstitutionIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.add_substitution(
        actor, body.absent, body.substitute, body.starts_on, body.ends_on, body.reason
    )


@router.post("/import/{kind}", response_model=ImportDone)
async def import_csv(
    kind: str, request: Request, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    limit = lf.settings.max_upload_bytes
    content = await upload.read(limit + 1) if isinstance(upload, UploadFile) else None
    return admin_uploads.import_organisation(
        lf.access, lf.organisation, actor, kind, content, limit
    )


@router.post("/import/{kind}/preview", response_model=ImportPreview)
def preview_import(kind: str, body: ImportIn, actor: ActorDep, lf: LandflowDep) -> ImportPreview:
    """What importing the CSV would add, change or refuse, row by row; nothing is written."""
    _check_size(body.csv, lf)
    return ImportPreview(**lf.organisation.preview(actor, kind, body.csv))


@router.post("/import/{kind}/apply", response_model=ImportSlice)
def apply_import(kind: str, body: ImportIn, actor: ActorDep, lf: LandflowDep) -> ImportSlice:
    """Apply the rows `start` … `start + count` of the file's plan (all when `count` is
    null), skipping refused rows; call again from `next` until it is null."""
    _check_size(body.csv, lf)
    return ImportSlice(
        **lf.organisation.apply_import(actor, kind, body.csv, body.start, body.count)
    )


def _check_size(text: str, lf) -> None:
    if len(text.encode()) > lf.settings.max_upload_bytes:
        raise BadRequest("文件过大")
