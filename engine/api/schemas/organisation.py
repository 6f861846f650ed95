"""Regions, departments and users as the API shows them (organisation_records.py)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RegionOut(BaseModel):
    code: str = Field(description="GB/T 2260 code")
    name: str
    level: str
    parent: str | None
    path: str


class RegionList(BaseModel):
    items: list[RegionOut]
    total: int


class DepartmentOut(BaseModel):
    code: str
    dept_type: str
    type_name: str
    region: str
    name: str
    is_active: bool


class DepartmentCreated(DepartmentOut):
    rerouted_tasks: list[str] = Field(description="open tasks routed to the new department")


class DepartmentList(BaseModel):
    items: list[DepartmentOut]
    total: int


class Membership(BaseModel):
    department: str
    role: str


class UserSummary(BaseModel):
    username: str
    display_name: str
    is_admin: bool
    is_active: bool
    memberships: list[Membership]


class UserList(BaseModel):
    items: list[UserSummary]
    total: int
    page: int | None = Field(default=None, description="when paged")
    per_page: int | None = None


class UserCreated(BaseModel):
    username: str
    display_name: str
    memberships: list[Membership]
    is_admin: bool = False


class MembershipAdded(BaseModel):
    username: str
    department: str
    role: str


class Catalogue(BaseModel):
    department_types: dict[str, str]
    levels: list[str]
    roles: dict[str, str]


class ImportDone(BaseModel):
    regions: int
    departments: int
    users: int
    rerouted_tasks: int
