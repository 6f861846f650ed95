"""Cursor paging of GET /api/v1/tasks on both backends: every task once, in due order (tasks
without a time limit last), forwards and back, ties broken by id; a stale or foreign cursor is a
400, never a 500; the case list pages the same way."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from engine.api.app import create_app
from engine.db.tables import HumanTask, Instance
from engine.services.actor import SYSTEM
from engine.services.search import CaseFilter
from tests.bpmn_builder import laned_process
from tests.support import ApiUser

CLERK = "zrzy.330702"


@pytest.fixture
def clerk(lf):
    lf.definitions.deploy(
        {"p.bpmn": laned_process("p", [("check", {"dept_type": "zrzy", "level": "county"}, {})])},
        SYSTEM,
    )
    seed = lf.instances.start(SYSTEM, "p", "330702101201")
    with lf.uow.write() as session:
        sample = session.scalars(select(HumanTask).where(HumanTask.instance_id == seed["id"])).one()
        columns = [c.key for c in HumanTask.__table__.columns if c.computed is None]
        template = {key: getattr(sample, key) for key in columns}
        now = lf.clock.now()
        # 30 due on five distinct days (ties), 7 without a time limit, 5 of another department
        rows = [
            dict(template, id=str(uuid.uuid4()), due_at=now + timedelta(days=n % 5))
            for n in range(30)
        ]
        rows += [dict(template, id=str(uuid.uuid4()), due_at=None) for _ in range(7)]
        rows += [dict(template, id=str(uuid.uuid4()), department="zrzy.330782") for _ in range(5)]
        session.execute(insert(HumanTask), rows)
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        yield lf, ApiUser(client, CLERK, "demo")


def expected_queue(lf) -> list[str]:
    with lf.uow.read() as session:
        tasks = session.scalars(
            select(HumanTask).where(
                HumanTask.department == CLERK,
                HumanTask.state == "open",
                HumanTask.assignee.is_(None),
            )
        ).all()
    last = lf.clock.now() + timedelta(days=10_000)
    return [t.id for t in sorted(tasks, key=lambda t: (t.due_at or last, t.id))]


def walk(user: ApiUser, **params) -> tuple[list[str], list[dict]]:
    seen, pages, cursor = [], [], None
    while True:
        page = user.get(
            "/api/v1/tasks",
            scope="queue",
            limit=7,
            **params,
            **({"cursor": cursor} if cursor else {}),
        )
        pages.append(page)
        seen += [t["id"] for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            return seen, pages


def test_cursors_walk_every_task_once_in_due_order_and_back(clerk):
    lf, user = clerk
    expected = expected_queue(lf)
    assert len(expected) == 38
    forwards, pages = walk(user)
    assert forwards == expected
    assert pages[0]["prev_cursor"] is None and pages[0]["total"] == 38
    assert pages[0]["count_capped"] is False
    assert [len(p["items"]) for p in pages] == [7, 7, 7, 7, 7, 3]

    backwards, cursor = [], pages[-1]["prev_cursor"]
    while cursor:
        page = user.get("/api/v1/tasks", scope="queue", limit=7, cursor=cursor)
        backwards = [t["id"] for t in page["items"]] + backwards
        cursor = page["prev_cursor"]
    assert backwards == expected[:35]

    reverse, _ = walk(user, sort="-due")
    assert reverse == expected[::-1]


def test_a_cursor_survives_tasks_claimed_meanwhile(clerk):
    lf, user = clerk
    expected = expected_queue(lf)
    first = user.get("/api/v1/tasks", scope="queue", limit=7)
    user.post(f"/api/v1/tasks/{expected[3]}/claim")  # on the page already read
    user.post(f"/api/v1/tasks/{expected[8]}/claim")  # on the next one
    second = user.get("/api/v1/tasks", scope="queue", limit=7, cursor=first["next_cursor"])
    assert [t["id"] for t in second["items"]] == [i for i in expected[7:15] if i != expected[8]]


def test_bad_cursors_and_offsets_are_refused_plainly(clerk):
    _, user = clerk
    page = user.get("/api/v1/tasks", scope="queue", limit=7)
    for cursor in ("x", "bm90LWEtY3Vyc29y", "W10", "WyJkdWUiLCAxLCAyLCAzXQ", "%%%"):
        user.get("/api/v1/tasks", expect=400, scope="queue", cursor=cursor)
    user.get("/api/v1/tasks", expect=400, sort="created", cursor=page["next_cursor"])
    user.get("/api/v1/tasks", expect=400, offset=7, cursor=page["next_cursor"])
    user.get("/api/v1/tasks", expect=400, offset=5001)
    user.get("/api/v1/tasks", expect=422, cursor="x" * 401)
    by_offset = user.get("/api/v1/tasks", scope="queue", limit=7, offset=7)
    by_cursor = user.get("/api/v1/tasks", scope="queue", limit=7, cursor=page["next_cursor"])
    assert by_offset["items"] == by_cursor["items"]


def test_the_case_list_pages_by_cursor(clerk):
    lf, _ = clerk
    with lf.uow.write() as session:
        seed = session.scalars(select(Instance)).first()
        row = {c.key: getattr(seed, c.key) for c in Instance.__table__.columns}
        now = lf.clock.now()
        session.execute(
            insert(Instance),
            [
                dict(
                    row,
                    id=str(uuid.uuid4()),
                    case_no=f"P{n:03d}",
                    created_at=now + timedelta(minutes=n % 9),
                )
                for n in range(25)
            ],
        )
    admin = lf.auth.actor_for("admin")
    seen, cursor = [], None
    while True:
        page = lf.search.list(admin, CaseFilter(limit=10, cursor=cursor))
        seen += [(c["created_at"], c["id"]) for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == 26 and len(set(seen)) == 26
    assert seen == sorted(seen, reverse=True)
