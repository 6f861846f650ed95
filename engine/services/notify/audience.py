"""Who hears of an event: a department's members by role, the people who see its 待认领 queue,
whoever holds a case's open steps, the case's applicant, the administrators. Usernames, sorted;
the outbox drops inactive users again when it writes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from engine.db.tables import Department, HumanTask, Instance, Membership, Substitution, User

APPLICANT_TYPE = "applicant"  # the department type of applicants (农户 / 入市主体)


def members(session: Session, department: str | None, *roles: str) -> list[str]:
    """Active users holding one of `roles` (any role when none is given) in `department`."""
    if not department:
        return []
    query = (
        select(User.username)
        .join(Membership, Membership.user_id == User.id)
        .join(Department, Department.id == Membership.department_id)
        .where(Department.code == department, User.is_active)
    )
    if roles:
        query = query.where(Membership.role.in_(roles))
    return sorted(set(session.scalars(query)))


def admins(session: Session) -> list[str]:
    return sorted(session.scalars(select(User.username).where(User.is_admin, User.is_active)))


def queue_watchers(session: Session, department: str | None, today: date) -> list[str]:
    """Everyone whose 待认领 queue shows the department's unclaimed tasks, i.e. who may claim
    them: its members in any role, and whoever stands in today for one of them
    (engine.services.principals builds the same departments for an actor)."""
    if not department:
        return []
    if not session.scalar(select(Department.is_active).where(Department.code == department)):
        return []
    own = members(session, department)
    if not own:
        return []
    absent, substitute = aliased(User), aliased(User)
    standing_in = session.scalars(
        select(substitute.username)
        .join(Substitution, Substitution.substitute_user_id == substitute.id)
        .join(absent, absent.id == Substitution.absent_user_id)
        .where(
            absent.username.in_(own),
            absent.is_active,
            substitute.is_active,
            Substitution.starts_on <= today,
            Substitution.ends_on >= today,
        )
    )
    return sorted(set(own) | set(standing_in))


def step_holders(session: Session, instance_id: str, today: date) -> list[str]:
    """Who works on the case's open steps: each step's assignee (and a delegating owner), or,
    while a step is unclaimed, the people who see it in their department's queue."""
    people: set[str] = set()
    for task in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
    ):
        if task.assignee:
            people.update(p for p in (task.assignee, task.owner) if p)
        else:
            people.update(queue_watchers(session, task.department, today))
    return sorted(people)


def applicant_department(session: Session, instance: Instance) -> str | None:
    """The applicant department of the case's own region (a village's 申请人), if there is one."""
    return session.scalar(
        select(Department.code).where(
            Department.dept_type == APPLICANT_TYPE,
            Department.region_code == instance.region,
            Department.is_active,
        )
    )


def applicants(session: Session, instance: Instance) -> list[str]:
    """The case's applicant: the members of the applicant department of its region, and the
    user who started it when that user is an applicant (of any region)."""
    people = set(members(session, applicant_department(session, instance)))
    starter_is_applicant = session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .join(Department, Department.id == Membership.department_id)
        .where(
            User.username == instance.started_by,
            User.is_active,
            Department.dept_type == APPLICANT_TYPE,
        )
        .limit(1)
    )
    if starter_is_applicant is not None:
        people.add(instance.started_by)
    return sorted(people)
