"""The checks of an office issuing a 督办单 by hand: what it is about (a case or one of its open
steps the office sees), which of the actor's offices issues it (the one nearest the case), and
which department it goes to (the step's, or one the office names, within its territory)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import Department, HumanTask, Instance, Region
from engine.domain.organisation import LEADERSHIP_OFFICE
from engine.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

from .access import Access
from .actor import Actor
from .supervision_records import GRADES

MAX_REPLY_DAYS = 30
OFFICES_ONLY = "只有领导小组办公室可以下达督办单"
APPLICANT = "applicant"


@dataclass(frozen=True)
class IssueRequest:
    instance_id: str | None = None  # the case; or
    task_id: str | None = None  # one of its steps (its department is the one supervised)
    department: str | None = None  # for an order about a case without a step
    grade: str = "blue"
    text: str = ""
    reply_days: int | None = None  # working days; the reply step's committed limit if omitted
    office: str | None = None  # which of the actor's offices issues; the one over the case


def check_request(request: IssueRequest) -> None:
    errors = []
    if not request.instance_id and not request.task_id:
        errors.append(FieldError("instance_id", "请指定被督办的办件或环节"))
    if request.grade not in GRADES:
        errors.append(FieldError("grade", "督办等级应为蓝色、橙色或红色"))
    if not request.text.strip() or len(request.text) > 2000:
        errors.append(FieldError("text", "请写明督办事项及要求（不超过2000字）"))
    days = request.reply_days
    if days is not None and not 1 <= days <= MAX_REPLY_DAYS:
        errors.append(FieldError("reply_days", f"反馈期限应为1至{MAX_REPLY_DAYS}个工作日"))
    if errors:
        raise ValidationFailed("督办单无效", errors)


def offices_of(actor: Actor) -> list[str]:
    return sorted(d for d in actor.departments if d.startswith(f"{LEADERSHIP_OFFICE}."))


def subject(
    session: Session, access: Access, actor: Actor, instance_id: str | None, task_id: str | None
) -> tuple[Instance, HumanTask | None]:
    """The case (and step) an order is about, as far as the actor sees it."""
    task = access.visible_task(session, actor, task_id) if task_id else None
    instance_id = task.instance_id if task is not None else instance_id
    instance = session.get(Instance, instance_id or "")
    if instance is None or not access.can_see_instance(session, actor, instance):
        raise NotFound("未找到该办件，或您无权查看")
    if task is not None and task.state != "open":
        raise Conflict("该环节已办理完毕，不能再督办")
    return instance, task


def covering_offices(session: Session, actor: Actor, path: str) -> dict[str, str]:
    """The actor's offices whose territory holds `path`, with their region paths."""
    found = {}
    for office in offices_of(actor):
        region = region_path(session, office)
        if region and path.startswith(region):
            found[office] = region
    return found


def issuing_office(
    session: Session, actor: Actor, wanted: str | None, instance: Instance, names
) -> str:
    offices = offices_of(actor)
    if not offices:
        raise PermissionDenied(OFFICES_ONLY)
    covering = covering_offices(session, actor, instance.region_path)
    if wanted:
        if wanted not in offices:
            raise PermissionDenied(f"您不是{names.department(wanted)}的工作人员")
        if wanted not in covering:
            raise PermissionDenied("该办件不在该办公室辖区内")
        return wanted
    if not covering:
        raise PermissionDenied("该办件不在本办公室辖区内")
    return max(covering, key=lambda o: len(covering[o]))  # the office nearest the case


def supervised_department(
    session: Session, office: str, task: HumanTask | None, wanted: str | None
) -> str:
    if task is not None:
        if task.department is None:
            raise Conflict("该环节尚未派发到办理部门，暂不能督办")
        department = task.department
    elif not wanted:
        raise ValidationFailed("督办单无效", [FieldError("department", "请选择被督办部门")])
    else:
        department = wanted
    row = session.execute(
        select(Department.dept_type, Department.is_active, Region.path)
        .join(Region, Region.code == Department.region_code)
        .where(Department.code == department)
    ).first()
    office_region = region_path(session, office) or ""
    problem = None
    if row is None or not row.is_active:
        problem = "没有这个部门"
    elif row.dept_type == APPLICANT:
        problem = "申请人的环节只提醒，不督办"
    elif department == office:
        problem = "不能督办本办公室"
    elif not row.path.startswith(office_region):
        problem = "被督办部门不在本办公室辖区内"
    if problem:
        raise ValidationFailed("督办单无效", [FieldError("department", problem)])
    return department


def region_path(session: Session, department: str) -> str | None:
    return session.scalar(
        select(Region.path)
        .join(Department, Department.region_code == Region.code)
        .where(Department.code == department)
    )
