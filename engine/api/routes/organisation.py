from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from engine.api.deps import ActorDep, LandflowDep
from engine.domain.organisation import DEPARTMENT_TYPES, LEVELS, ROLES
from engine.errors import BadRequest
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
    password: str = Field(min_length=8, max_length=200)
    memberships: list[MembershipIn] = Field(default_factory=list)
    is_admin: bool = False


class SubstitutionIn(BaseModel):
    absent: str
    substitute: str
    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=400)


@router.get("/types")
def types(actor: ActorDep) -> dict[str, Any]:
    return {"department_types": DEPARTMENT_TYPES, "levels": list(LEVELS), "roles": ROLES}


@router.get("/regions")
def regions(actor: ActorDep, lf: LandflowDep, parent: str | None = None) -> dict[str, Any]:
    items = lf.organisation.regions(actor, parent)
    return {"items": items, "total": len(items)}


@router.post("/regions", status_code=201)
def create_region(body: RegionIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.create_region(
        actor, RegionSpec(body.code, body.name, body.level, body.parent)
    )


@router.get("/departments")
def departments(actor: ActorDep, lf: LandflowDep, region: str | None = None) -> dict[str, Any]:
    items = lf.organisation.departments(actor, region)
    return {"items": items, "total": len(items)}


@router.post("/departments", status_code=201)
def create_department(body: DepartmentIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.create_department(
        actor, DepartmentSpec(body.dept_type, body.region, body.name)
    )


@router.get("/users")
def users(actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    items = lf.organisation.users(actor)
    return {"items": items, "total": len(items)}


@router.post("/users", status_code=201)
def create_user(body: UserIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.create_user(
        actor,
        body.username,
        body.display_name,
        body.password,
        [(m.department, m.role) for m in body.memberships],
        body.is_admin,
    )


@router.post("/users/{username}/memberships", status_code=201)
def add_membership(
    username: str, body: MembershipIn, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    return lf.organisation.add_membership(actor, username, body.department, body.role)


@router.post("/substitutions", status_code=201)
def add_substitution(body: SubstitutionIn, actor: ActorDep, lf: LandflowDep) -> dict[str, Any]:
    return lf.organisation.add_substitution(
        actor, body.absent, body.substitute, body.starts_on, body.ends_on, body.reason
    )


@router.post("/import/{kind}")
async def import_csv(
    kind: str, request: Request, actor: ActorDep, lf: LandflowDep
) -> dict[str, Any]:
    lf.access.require_admin(actor)
    form = await request.form(max_files=1, max_fields=5)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise BadRequest("send the CSV as multipart field 'file'")
    content = await upload.read(lf.settings.max_upload_bytes + 1)
    if len(content) > lf.settings.max_upload_bytes:
        raise BadRequest("the file is too large")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the CSV must be UTF-8") from None
    return lf.organisation.import_csv(actor, kind, text)
