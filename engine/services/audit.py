"""Every action into the audit log, in the transaction that performs it.

Nothing has to remember to call this: a session hook collects what a command wrote to the
history of a case (`record_history`), the calendar's change log and deployments, plus what
services note explicitly with `note()` (sign-ins, tokens, passwords), and appends all of it
to the hash chain (engine.services.audit_chain) right before the transaction commits. Work
undone by a rolled-back savepoint is not audited; a failed commit appends nothing."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from engine.db.audit_tables import AuditEntry
from engine.db.tables import CalendarChange, Deployment, HistoryEntry, ProcessVersion

from .access import Access
from .actor import Actor
from .audit_chain import AuditEvent, append
from .audit_verify import verify_chain
from .uow import UnitOfWork

_PENDING = "landflow_audit_pending"  # session.info: [(order, ORM row or AuditEvent)]
_order = itertools.count()


def note(
    session: Session, at: datetime, actor: str, action: str, subject: str | None = None, **details
) -> None:
    """Audit an action that leaves no history row (sign-ins, tokens, passwords...)."""
    event_ = AuditEvent(at=at, actor=actor, action=action, subject=subject, details=details)
    session.info.setdefault(_PENDING, []).append((next(_order), event_))


def _from_history(session: Session, row: HistoryEntry) -> AuditEvent:
    return AuditEvent(
        at=row.at,
        actor=row.actor,
        on_behalf_of=row.on_behalf_of,
        action=row.action,
        instance_id=row.instance_id,
        task_id=row.task_id,
        history_id=row.id,
        details=row.details or {},
    )


def _from_calendar(session: Session, row: CalendarChange) -> AuditEvent:
    return AuditEvent(
        at=row.at,
        actor=row.actor,
        action=f"calendar_{row.action}",
        subject="calendar",
        details=row.details or {},
    )


def _from_deployment(session: Session, row: Deployment) -> AuditEvent:
    return AuditEvent(
        at=row.deployed_at,
        actor=row.deployed_by,
        action="definitions_deployed",
        subject=f"deployment:{row.id}",
        details={"source": row.source},
    )


def _from_version(session: Session, row: ProcessVersion) -> AuditEvent:
    deployment = session.get(Deployment, row.deployment_id)
    return AuditEvent(
        at=row.deployed_at,
        actor=deployment.deployed_by if deployment else "system",
        action="process_version_deployed",
        subject=f"deployment:{row.deployment_id}",
        details={
            "process_id": row.process_id,
            "version": row.version,
            "file": row.file_name,
            "spec_hash": row.spec_hash,
        },
    )


CAPTURED: dict[type, Callable[[Session, Any], AuditEvent]] = {
    HistoryEntry: _from_history,
    CalendarChange: _from_calendar,
    Deployment: _from_deployment,
    ProcessVersion: _from_version,
}


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context) -> None:
    rows = [obj for obj in session.new if type(obj) in CAPTURED]
    if rows:
        rows.sort(key=lambda obj: (list(CAPTURED).index(type(obj)), getattr(obj, "id", 0) or 0))
        session.info.setdefault(_PENDING, []).extend((next(_order), obj) for obj in rows)


@event.listens_for(Session, "before_commit")
def _append(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint is being released; the outer commit appends
    session.flush()
    pending = session.info.pop(_PENDING, [])
    events = []
    for _, item in sorted(pending, key=lambda pair: pair[0]):
        if isinstance(item, AuditEvent):
            events.append(item)
        elif inspect(item).has_identity:  # not undone by a rolled-back savepoint
            events.append(CAPTURED[type(item)](session, item))
    append(session, events)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)


class AuditService:
    def __init__(self, uow: UnitOfWork, access: Access) -> None:
        self.uow = uow
        self.access = access

    def verify(self, actor: Actor) -> dict[str, Any]:
        """The chain from its first entry to its head, and the case histories against it."""
        self.access.require_admin(actor)
        with self.uow.read() as session:
            return verify_chain(session)

    def entries(
        self, actor: Actor, after: int = 0, limit: int = 100, instance_id: str | None = None
    ) -> dict[str, Any]:
        """Entries after seq `after`, oldest first (for export and external anchoring)."""
        self.access.require_admin(actor)
        limit = max(1, min(limit, 1000))
        with self.uow.read() as session:
            query = select(AuditEntry).where(AuditEntry.seq > after)
            if instance_id:
                query = query.where(AuditEntry.instance_id == instance_id)
            rows = session.scalars(query.order_by(AuditEntry.seq).limit(limit)).all()
            return {"items": [_entry_view(r) for r in rows]}


def _entry_view(row: AuditEntry) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "action_at": row.action_at.isoformat() if row.action_at else None,
        "actor": row.actor,
        "on_behalf_of": row.on_behalf_of,
        "action": row.action,
        "instance_id": row.instance_id,
        "task_id": row.task_id,
        "history_id": row.history_id,
        "subject": row.subject,
        "details": json.loads(row.details),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }
