"""The tamper-evident audit log: every action is appended to a hash chain in the same
transaction; editing, deleting or reordering entries (or the case history they record) is
found and named by its first broken seq; entries outlive their case; time never runs back."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text, update

from engine.api.app import create_app
from engine.db.audit_tables import AuditEntry
from engine.db.tables import HistoryEntry, Instance
from engine.services.actor import SYSTEM
from engine.services.audit import note
from engine.services.audit_chain import entry_content, entry_hash
from tests.bpmn_builder import laned_process

REGION = "330702101201"


def deploy(lf) -> None:
    lf.definitions.deploy(
        {
            "parcel.bpmn": laned_process(
                "parcel",
                [
                    ("check", {"dept_type": "zrzy", "level": "county"}, {}),
                    ("approve", {"dept_type": "zrzy", "level": "county"}, {}),
                ],
            )
        },
        SYSTEM,
    )


def walk_a_case(lf) -> str:
    case = lf.instances.start(SYSTEM, "parcel", REGION, "WC-1")
    clerk = lf.auth.actor_for("zrzy.330702")
    [task] = [t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open"]
    lf.tasks.claim(clerk, task["id"])
    lf.tasks.comment(clerk, task["id"], "材料齐全")
    lf.tasks.complete(clerk, task["id"], {})
    return case["id"]


def entries(lf) -> list[AuditEntry]:
    with lf.uow.read() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def verify(lf) -> dict:
    return lf.audit.verify(SYSTEM)


def execute(lf, statement) -> None:
    with lf.uow.engine.begin() as connection:
        connection.execute(statement)


def test_every_case_action_is_chained_in_the_same_transaction(lf):
    deploy(lf)
    case_id = walk_a_case(lf)
    log = entries(lf)
    with lf.uow.read() as session:
        history = session.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == case_id)
        ).all()
    recorded = {e.history_id: e for e in log if e.history_id is not None}
    assert history and {h.id for h in history} <= set(recorded)
    for row in history:
        assert recorded[row.id].action == row.action
        assert recorded[row.id].instance_id == case_id
    assert {"process_version_deployed", "definitions_deployed"} <= {e.action for e in log}
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    for before, after in itertools.pairwise(log):
        assert after.prev_hash == before.hash and after.at >= before.at
    outcome = verify(lf)
    assert outcome["ok"] and outcome["first_broken"] is None
    assert outcome["entries"] == len(log) and outcome["head"]["seq"] == log[-1].seq
    assert outcome["history"]["checked"] >= len(history)


def test_a_rolled_back_command_appends_nothing(lf):
    deploy(lf)
    before = len(entries(lf))
    with pytest.raises(RuntimeError), lf.uow.write() as session:
        note(session, lf.clock.now(), "alice", "something")
        raise RuntimeError("the command fails")
    assert len(entries(lf)) == before and verify(lf)["ok"]


@pytest.fixture
def chained(lf):
    deploy(lf)
    walk_a_case(lf)
    log = entries(lf)
    assert len(log) >= 8
    return lf, log


def test_changed_details_name_the_entry(chained):
    lf, log = chained
    target = log[4]
    execute(
        lf,
        update(AuditEntry).where(AuditEntry.seq == target.seq).values(details='{"x":1}'),
    )
    broken = verify(lf)
    assert not broken["ok"]
    assert broken["first_broken"]["seq"] == target.seq
    assert broken["first_broken"]["problem"] == "content"
    assert f"第 {target.seq} 条" in broken["first_broken"]["message"]


def test_an_entry_rewritten_with_a_matching_hash_breaks_the_next_link(chained):
    lf, log = chained
    forged = log[2]
    forged.details = '{"forged":true}'
    forged.hash = entry_hash(forged.prev_hash, entry_content(forged))
    execute(
        lf,
        update(AuditEntry)
        .where(AuditEntry.seq == forged.seq)
        .values(details=forged.details, hash=forged.hash),
    )
    broken = verify(lf)["first_broken"]
    assert (broken["seq"], broken["problem"]) == (forged.seq + 1, "link")


def test_a_deleted_entry_is_found(chained):
    lf, _ = chained
    execute(lf, delete(AuditEntry).where(AuditEntry.seq == 5))
    broken = verify(lf)["first_broken"]
    assert broken == {"seq": 5, "problem": "missing", "message": broken["message"]}
    assert "第 5 条记录缺失" in broken["message"]


def test_reordered_entries_are_found(chained):
    lf, _ = chained
    parking = 10_000_000
    execute(lf, update(AuditEntry).where(AuditEntry.seq == 3).values(seq=parking))
    execute(lf, update(AuditEntry).where(AuditEntry.seq == 4).values(seq=3))
    execute(lf, update(AuditEntry).where(AuditEntry.seq == parking).values(seq=4))
    broken = verify(lf)["first_broken"]
    assert (broken["seq"], broken["problem"]) == (3, "link")


def test_deleting_the_newest_entries_shows_against_the_head(chained):
    lf, log = chained
    execute(lf, delete(AuditEntry).where(AuditEntry.seq == log[-1].seq))
    broken = verify(lf)["first_broken"]
    assert (broken["seq"], broken["problem"]) == (log[-1].seq, "head")


def test_the_chain_goes_on_after_its_head_row_is_lost(chained):
    lf, log = chained
    execute(lf, text("DELETE FROM audit_head"))
    with lf.uow.write() as session:
        note(session, lf.clock.now(), "alice", "after_the_loss")
    after = entries(lf)
    assert after[-1].seq == log[-1].seq + 1 and after[-1].prev_hash == log[-1].hash
    assert verify(lf)["ok"]


def test_history_edited_or_written_around_the_application_is_found(chained):
    lf, _ = chained
    with lf.uow.read() as session:
        completed = session.scalar(
            select(HistoryEntry).where(HistoryEntry.action == "task_completed")
        )
        case_id = completed.instance_id
    execute(
        lf,
        update(HistoryEntry)
        .where(HistoryEntry.id == completed.id)
        .values(actor="someone-else", details={"forged": True}),
    )
    execute(
        lf,
        HistoryEntry.__table__.insert().values(
            instance_id=case_id,
            at=lf.clock.now(),
            actor="ghost",
            action="task_completed",
            details={},
        ),
    )
    outcome = verify(lf)
    assert outcome["first_broken"] is None and not outcome["ok"]
    problems = {(p["history_id"], p["problem"]) for p in outcome["history"]["problems"]}
    assert (completed.id, "changed") in problems
    assert any(kind == "unrecorded" for _, kind in problems)


def test_history_deleted_while_the_case_remains_is_found(chained):
    lf, _ = chained
    with lf.uow.read() as session:
        first = session.scalar(select(HistoryEntry).order_by(HistoryEntry.id))
    execute(lf, delete(HistoryEntry).where(HistoryEntry.id == first.id))
    problems = verify(lf)["history"]["problems"]
    assert [(p["history_id"], p["problem"]) for p in problems] == [(first.id, "deleted")]


def test_a_deleted_case_keeps_its_audit_entries(lf):
    deploy(lf)
    case_id = walk_a_case(lf)
    with lf.uow.read() as session:
        kept = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.instance_id == case_id)
        )
    assert kept >= 4
    execute(lf, delete(Instance).where(Instance.id == case_id))
    with lf.uow.read() as session:
        assert not session.scalars(
            select(HistoryEntry).where(HistoryEntry.instance_id == case_id)
        ).all()
        after = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.instance_id == case_id)
        )
    assert after == kept
    assert verify(lf)["ok"]


def test_the_clock_moved_back_cannot_date_entries_in_the_past(lf, clock):
    deploy(lf)
    clock.advance(timedelta(days=30))
    case_id = walk_a_case(lf)
    latest = entries(lf)[-1]
    clock.advance(timedelta(days=-60))
    lf.instances.terminate(SYSTEM, case_id, "撤回")
    newest = entries(lf)[-1]
    assert newest.action == "instance_terminated"
    assert newest.at == latest.at  # clamped to the previous entry's time
    assert newest.action_at == clock.now()  # the action's own time is kept
    assert verify(lf)["ok"]


def test_concurrent_commands_keep_one_chain_on_postgresql(pg_lf):
    deploy(pg_lf)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(6):
                pg_lf.instances.start(SYSTEM, "parcel", REGION, f"T{n}-{i}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    log = entries(pg_lf)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert sum(e.action == "instance_started" for e in log) == 24
    outcome = verify(pg_lf)
    assert outcome["ok"], outcome


def test_the_verify_api_is_for_administrators(lf):
    deploy(lf)
    walk_a_case(lf)
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        admin = _bearer(client, "admin", "admin-pass")
        clerk = _bearer(client, "zrzy.330702", "demo")
        body = client.get("/api/v1/admin/audit/verify", headers=admin).json()
        assert body["ok"] and body["first_broken"] is None and body["entries"] > 0
        assert client.get("/api/v1/admin/audit/verify", headers=clerk).status_code == 403
        chain = client.get(
            "/api/v1/admin/audit/chain", headers=admin, params={"after": 2, "limit": 3}
        ).json()["items"]
        assert [e["seq"] for e in chain] == [3, 4, 5]
        assert chain[1]["prev_hash"] == chain[0]["hash"]
        execute(lf, update(AuditEntry).where(AuditEntry.seq == 2).values(actor="x"))
        broken = client.get("/api/v1/admin/audit/verify", headers=admin).json()
        assert not broken["ok"] and broken["first_broken"]["seq"] == 2


def _bearer(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
