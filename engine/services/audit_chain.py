"""The audit chain: how an entry's content is written down and hashed, and how entries are
appended after the chain's head inside the command's own transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.db.audit_tables import AuditEntry, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1
LOG = cast(Table, AuditEntry.__table__)
HEAD = cast(Table, AuditHead.__table__)


@dataclass
class AuditEvent:
    """One action to append: who did what, when, to what."""

    at: datetime
    actor: str
    action: str
    details: dict[str, Any] = field(default_factory=dict)
    on_behalf_of: str | None = None
    instance_id: str | None = None
    task_id: str | None = None
    history_id: int | None = None
    subject: str | None = None


def canonical_details(details: dict[str, Any]) -> str:
    return json.dumps(
        details, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment else None


def entry_content(row: Any) -> str:
    """The canonical text of an entry (a mapping or row with the audit_log columns)."""
    return json.dumps(
        [
            row.seq,
            _iso(row.at),
            _iso(row.action_at),
            row.actor,
            row.on_behalf_of,
            row.action,
            row.instance_id,
            row.task_id,
            row.history_id,
            row.subject,
            row.details,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def entry_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


@dataclass
class _Row:
    """An entry being written, with the attributes entry_content reads."""

    seq: int
    at: datetime
    action_at: datetime | None
    actor: str
    on_behalf_of: str | None
    action: str
    instance_id: str | None
    task_id: str | None
    history_id: int | None
    subject: str | None
    details: str
    prev_hash: str = ""
    hash: str = ""


def append(session: Session, events: list[AuditEvent]) -> None:
    """Append the events in order. The head row is locked first (FOR UPDATE on PostgreSQL;
    on SQLite the write transaction already excludes other writers) and moved last.

    Time never runs backwards in the log: an event dated before the previous entry (the test
    clock moved back) is entered at the previous entry's time, its own time kept as
    action_at."""
    if not events:
        return
    seq, prev_hash, last_at = _locked_head(session)
    rows = []
    for event in events:
        seq += 1
        at = event.at if last_at is None or event.at >= last_at else last_at
        row = _Row(
            seq=seq,
            at=at,
            action_at=event.at if at != event.at else None,
            actor=event.actor[:80],
            on_behalf_of=event.on_behalf_of,
            action=event.action[:60],
            instance_id=event.instance_id,
            task_id=event.task_id,
            history_id=event.history_id,
            subject=event.subject[:200] if event.subject else None,
            details=canonical_details(event.details),
            prev_hash=prev_hash,
        )
        row.hash = entry_hash(prev_hash, entry_content(row))
        rows.append(row.__dict__)
        prev_hash, last_at = row.hash, at
    session.execute(insert(LOG), rows)
    session.execute(
        update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=seq, hash=prev_hash, at=last_at)
    )


def _locked_head(session: Session) -> tuple[int, str, datetime | None]:
    locked = (
        select(HEAD.c.seq, HEAD.c.hash, HEAD.c.at).where(HEAD.c.id == HEAD_ID).with_for_update()
    )
    row = session.execute(locked).first()
    if row is None:
        # A new database (or one whose head row was lost): start from the newest entry, so
        # that appending never collides with the entries already there.
        last = session.execute(
            select(LOG.c.seq, LOG.c.hash, LOG.c.at).order_by(LOG.c.seq.desc()).limit(1)
        ).first()
        values = {
            "id": HEAD_ID,
            "seq": last.seq if last else 0,
            "hash": last.hash if last else GENESIS,
            "at": last.at if last else None,
        }
        dialect = session.get_bind().dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(make(HEAD).values(**values).on_conflict_do_nothing(index_elements=["id"]))
        row = session.execute(locked).one()
    return row.seq, row.hash, row.at
