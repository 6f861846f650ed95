"""The jobs table as administrators see it: what is due, scheduled, running, held or failed,
with the last error; and the retry of a failed job. Administrators only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import Instance, Job
from engine.errors import Conflict, NotFound

from .access import Access
from .actor import Actor
from .sla_views import iso
from .uow import UnitOfWork

DUE, SCHEDULED, RUNNING, HELD, FAILED = "due", "scheduled", "running", "held", "failed"
GROUPS = (DUE, SCHEDULED, RUNNING, HELD, FAILED)
DELIVER = "deliver"  # sent by the delivery runner; replayed from the delivery log
PAGE = 50


class JobAdmin:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access

    def counts(self, actor: Actor) -> dict[str, int]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            now = self.clock.now()
            return {
                group: session.execute(
                    select(func.count()).select_from(Job).where(_in_group(group, now))
                ).scalar_one()
                for group in GROUPS
            }

    def list(
        self, actor: Actor, group: str = DUE, kind: str | None = None, page: int = 1
    ) -> dict[str, Any]:
        """One page of the jobs of a group, the most urgent (or most recently failed) first."""
        self.access.require_admin(actor)
        group = group if group in GROUPS else DUE
        page = max(page, 1)
        with self.uow.read() as session:
            now = self.clock.now()
            where = [_in_group(group, now), *([Job.kind == kind] if kind else [])]
            total = session.scalar(select(func.count()).select_from(Job).where(*where))
            query = (
                select(Job, Instance.case_no, Instance.process_id)
                .outerjoin(Instance, Instance.id == Job.instance_id)
                .where(*where)
            )
            order = (Job.due_at.desc(), Job.id.desc()) if group == FAILED else (Job.due_at, Job.id)
            rows = session.execute(
                query.order_by(*order).limit(PAGE).offset((page - 1) * PAGE)
            ).all()
            return {
                "group": group,
                "items": [_view(job, case_no, process_id) for job, case_no, process_id in rows],
                "total": total,
                "page": page,
                "per_page": PAGE,
            }

    def retry(self, actor: Actor, job_id: int) -> dict[str, Any]:
        """Run a failed job again, due now, with a fresh count of attempts."""
        self.access.require_admin(actor)
        with self.uow.write() as session:
            job = _job(session, job_id)
            if job.status != "failed":
                raise Conflict("只有失败的任务可以重试")
            if job.kind == DELIVER:
                raise Conflict("消息发送任务请在“消息发送记录”中重新发送")
            now = self.clock.now()
            job.status, job.due_at, job.attempts = "pending", now, 0
            job.locked_by = job.locked_until = job.done_at = None
            session.flush()
            case_no = (
                session.scalar(select(Instance.case_no).where(Instance.id == job.instance_id))
                if job.instance_id
                else None
            )
            return _view(job, case_no, None)


def _in_group(group: str, now) -> ColumnElement[bool]:
    if group == DUE:
        return and_(Job.status == "pending", Job.due_at <= now)
    if group == SCHEDULED:
        return and_(Job.status == "pending", Job.due_at > now)
    if group == RUNNING:
        return Job.status == "running"
    if group == HELD:
        return Job.status == "held"
    return Job.status == "failed"


def _job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"没有编号为 {job_id} 的后台任务")
    return job


def _view(job: Job, case_no: str | None, process_id: str | None) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "instance_id": job.instance_id,
        "case_no": case_no,
        "process_id": process_id,
        "target": job.target,
        "payload": job.payload,
        "due_at": iso(job.due_at),
        "attempts": job.attempts,
        "last_error": job.last_error,
        "locked_by": job.locked_by,
        "locked_until": iso(job.locked_until),
        "created_at": iso(job.created_at),
        "done_at": iso(job.done_at),
    }
