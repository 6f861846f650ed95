"""Checking the audit chain: every entry's hash, every link to the entry before, no gaps, time
never running back, the head row; then the case histories against what the log recorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from engine.db.audit_tables import AuditEntry, AuditHead
from engine.db.tables import HistoryEntry, Instance

from .audit_chain import GENESIS, HEAD_ID, canonical_details, entry_content, entry_hash

BATCH = 1000
MAX_LISTED = 20


def verify_chain(session: Session) -> dict[str, Any]:
    """{"ok", "entries", "head": {"seq", "hash"}, "first_broken": None or {"seq", "problem",
    "message"}, "history": {"checked", "problems", "total_problems"}}."""
    broken, checked, last = _walk(session)
    head = session.get(AuditHead, HEAD_ID)
    if broken is None and head is not None:
        last_seq, last_hash = last
        if head.seq != last_seq or head.hash != last_hash:
            broken = _problem(
                max(head.seq, last_seq),
                "head",
                f"链头记着第 {head.seq} 条记录，但日志只连到第 {last_seq} 条："
                "最新的记录被删除或改动",
            )
    history = _check_history(session)
    return {
        "ok": broken is None and not history["problems"],
        "entries": checked,
        "head": {"seq": head.seq, "hash": head.hash} if head else {"seq": 0, "hash": GENESIS},
        "first_broken": broken,
        "history": history,
    }


def _walk(session: Session) -> tuple[dict[str, Any] | None, int, tuple[int, str]]:
    """The first broken link, how many entries were checked, and the last (seq, hash)."""
    expected, prev_hash, prev_at, checked = 1, GENESIS, None, 0
    rows = session.execute(
        select(AuditEntry.__table__).order_by(AuditEntry.seq).execution_options(yield_per=BATCH)
    )
    for row in rows:
        if row.seq != expected:
            return (
                _problem(
                    expected,
                    "missing",
                    f"第 {expected} 条记录缺失（其后是第 {row.seq} 条）：记录被删除或顺序被改动",
                ),
                checked,
                (expected - 1, prev_hash),
            )
        if row.prev_hash != prev_hash:
            return (
                _problem(
                    row.seq,
                    "link",
                    f"第 {row.seq} 条记录所记的前一条哈希与第 {row.seq - 1} 条不符："
                    "前一条被改动、替换或顺序被调换",
                ),
                checked,
                (row.seq, row.hash),
            )
        if entry_hash(row.prev_hash, entry_content(row)) != row.hash:
            return (
                _problem(row.seq, "content", f"第 {row.seq} 条记录的内容与其哈希不符：记录被改动"),
                checked,
                (row.seq, row.hash),
            )
        if prev_at is not None and row.at < prev_at:
            return (
                _problem(row.seq, "time", f"第 {row.seq} 条记录的时间早于上一条"),
                checked,
                (row.seq, row.hash),
            )
        expected, prev_hash, prev_at, checked = row.seq + 1, row.hash, row.at, checked + 1
    return None, checked, (expected - 1, prev_hash)


def _problem(seq: int, problem: str, message: str) -> dict[str, Any]:
    return {"seq": seq, "problem": problem, "message": message}


def _check_history(session: Session) -> dict[str, Any]:
    """History rows with no audit entry (written around the application), rows that differ
    from their entry (edited in the database), and rows gone while their case remains."""
    problems: list[dict[str, Any]] = []
    total = 0

    def found(problem: dict[str, Any]) -> None:
        nonlocal total
        total += 1
        if len(problems) < MAX_LISTED:
            problems.append(problem)

    checked = 0
    pairs = session.execute(
        select(HistoryEntry, AuditEntry)
        .outerjoin(AuditEntry, AuditEntry.history_id == HistoryEntry.id)
        .order_by(HistoryEntry.id)
        .execution_options(yield_per=BATCH)
    )
    for history, entry in pairs:
        checked += 1
        if entry is None:
            found(
                _history_problem(
                    history.id,
                    history.instance_id,
                    "unrecorded",
                    f"办理记录 {history.id} 没有对应的审计记录：它是绕过系统写入的",
                )
            )
        elif _differs(history, entry):
            found(
                _history_problem(
                    history.id,
                    history.instance_id,
                    "changed",
                    f"办理记录 {history.id} 与审计日志第 {entry.seq} 条不符：记录被改动",
                    entry.seq,
                )
            )
        session.expunge(history)
        if entry is not None:
            session.expunge(entry)
    gone = session.execute(
        select(AuditEntry.seq, AuditEntry.history_id, AuditEntry.instance_id)
        .where(
            AuditEntry.history_id.is_not(None),
            ~exists().where(HistoryEntry.id == AuditEntry.history_id),
            exists().where(and_(Instance.id == AuditEntry.instance_id)),
        )
        .order_by(AuditEntry.seq)
    )
    for seq, history_id, instance_id in gone:
        found(
            _history_problem(
                history_id,
                instance_id,
                "deleted",
                f"办理记录 {history_id}（审计日志第 {seq} 条）已被删除，而办件仍在",
                seq,
            )
        )
    return {"checked": checked, "problems": problems, "total_problems": total}


def _history_problem(
    history_id: int | None,
    instance_id: str | None,
    problem: str,
    message: str,
    seq: int | None = None,
) -> dict[str, Any]:
    return {
        "history_id": history_id,
        "instance_id": instance_id,
        "seq": seq,
        "problem": problem,
        "message": message,
    }


def _differs(history: HistoryEntry, entry: AuditEntry) -> bool:
    return (
        history.instance_id != entry.instance_id
        or history.task_id != entry.task_id
        or history.actor != entry.actor
        or history.on_behalf_of != entry.on_behalf_of
        or history.action != entry.action
        or history.at != (entry.action_at or entry.at)
        or canonical_details(history.details or {}) != entry.details
    )
