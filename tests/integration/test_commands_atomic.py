"""Each command is one transaction: concurrent completions, a crash mid-command, failing scripts."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from engine.db.tables import HistoryEntry, HumanTask, Instance
from engine.errors import Conflict
from engine.services.actor import Actor

APPLICATION = {"parcel_area": 250.5, "use": "工业", "reviewers": ["发改局"]}


def actor(lf, name: str) -> Actor:
    return lf.auth.actor_for(name)


def first_task(lf, case_id: str) -> str:
    with lf.uow.read() as session:
        return session.scalar(
            select(HumanTask.id).where(HumanTask.instance_id == case_id, HumanTask.state == "open")
        )


def snapshot(lf, case_id: str) -> tuple:
    with lf.uow.read() as session:
        instance = session.get(Instance, case_id)
        tasks = session.execute(
            select(HumanTask.id, HumanTask.state)
            .where(HumanTask.instance_id == case_id)
            .order_by(HumanTask.id)
        ).all()
        history = session.scalar(
            select(HistoryEntry.id)
            .where(HistoryEntry.instance_id == case_id)
            .order_by(HistoryEntry.id.desc())
            .limit(1)
        )
        return instance.state_json, instance.revision, instance.status, tuple(tasks), history


def test_two_clients_completing_one_task_exactly_one_wins(lf):
    case = lf.instances.start(actor(lf, "alice"), "sample_review", "330702101201")
    task_id = first_task(lf, case["id"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def complete(name: str) -> None:
        barrier.wait()
        try:
            lf.tasks.complete(actor(lf, name), task_id, APPLICATION)
            outcomes.append("won")
        except Conflict:
            outcomes.append("409")

    threads = [threading.Thread(target=complete, args=(n,)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409", "won"]
    with lf.uow.read() as session:
        completions = session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.instance_id == case["id"], HistoryEntry.action == "task_completed"
            )
        ).all()
        assert len(completions) == 1
        open_names = session.scalars(
            select(HumanTask.task_spec).where(
                HumanTask.instance_id == case["id"], HumanTask.state == "open"
            )
        ).all()
    assert open_names == ["precheck"]


def test_a_crash_before_commit_leaves_the_previous_state(lf):
    case = lf.instances.start(actor(lf, "alice"), "sample_review", "330702101201")
    task_id = first_task(lf, case["id"])
    before = snapshot(lf, case["id"])

    def crash(session: Session) -> None:
        raise RuntimeError("power cut")

    event.listen(Session, "before_commit", crash)
    try:
        with pytest.raises(RuntimeError, match="power cut"):
            lf.tasks.complete(actor(lf, "alice"), task_id, APPLICATION)
    finally:
        event.remove(Session, "before_commit", crash)
    assert snapshot(lf, case["id"]) == before
    lf.tasks.complete(actor(lf, "alice"), task_id, APPLICATION)  # and it can be done again
    assert snapshot(lf, case["id"])[1] == before[1] + 1


def test_stale_revision_is_a_conflict(pg_lf):
    """On PostgreSQL commands do not lock the case while they compute; a concurrent change
    in between makes the revision check fail. (SQLite takes the write lock up front.)"""
    lf = pg_lf
    case = lf.instances.start(actor(lf, "alice"), "sample_review", "330702101201")
    task_id = first_task(lf, case["id"])
    original_restore = lf.instances.restore

    def restore_then_race(session, instance):
        execution = original_restore(session, instance)
        with lf.uow.engine.begin() as other:
            other.execute(
                text("UPDATE instances SET revision = revision + 1 WHERE id = :id"),
                {"id": case["id"]},
            )
        return execution

    lf.instances.restore = restore_then_race
    try:
        with pytest.raises(Conflict):
            lf.tasks.complete(actor(lf, "alice"), task_id, APPLICATION)
    finally:
        lf.instances.restore = original_restore
