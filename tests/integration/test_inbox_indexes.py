"""Inbox queries over 100k tasks use indexes: the query plans on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import re
import shutil
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text

from engine.clock import SettableClock
from engine.db.tables import HumanTask, Instance
from engine.services.actor import SYSTEM
from engine.services.container import Landflow
from engine.services.inbox import NO_DUE, TaskFilter, _order
from engine.services.task_pages import AFTER, COUNT_CAP, Cursor
from tests.bpmn_builder import laned_process
from tests.conftest import BACKENDS, START, _reset, make_settings

TASKS = int(os.environ.get("INBOX_PLAN_TASKS", "100000"))
CASES = 2_000


@pytest.fixture(scope="module", params=BACKENDS)
def big_inbox(request, sqlite_template, tmp_path_factory, organisation_rows):
    """One database per backend with 100k tasks, shared by the tests of this module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("big") / "landflow.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database")
        _reset(url, organisation_rows)
    lf = Landflow.build(make_settings(url), SettableClock(START))
    lf.start_up()
    yield fill(lf)
    lf.close()
    if request.param == "postgresql":
        _reset(url, organisation_rows)


def fill(lf):
    lf.definitions.deploy(
        {
            "parcel.bpmn": laned_process(
                "parcel", [("check", {"dept_type": "zrzy", "level": "county"}, {})]
            )
        },
        SYSTEM,
    )
    seed = lf.instances.start(SYSTEM, "parcel", "330702101201")
    rng = random.Random(7)
    with lf.uow.write() as session:
        template = session.get(Instance, seed["id"])
        regions = [
            r
            for r in session.execute(
                text("SELECT code, path FROM regions WHERE level = 'village'")
            ).all()
        ]
        departments = [r[0] for r in session.execute(text("SELECT code FROM departments")).all()]
        now = lf.clock.now()
        cases = []
        for n in range(CASES):
            code, path = rng.choice(regions)
            cases.append(
                {
                    "id": str(uuid.uuid4()),
                    "process_version_id": template.process_version_id,
                    "process_id": "parcel",
                    "version": 1,
                    "region": code,
                    "region_path": path,
                    "business_key": f"B{n}",
                    "status": "running",
                    "data": {},
                    "state_json": template.state_json,
                    "revision": 1,
                    "started_by": "admin",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        # Core inserts: the ORM's bulk path costs more than the database here
        session.connection().execute(insert(Instance.__table__), cases)
        rows = []
        for n in range(TASKS):
            case = cases[n % CASES]
            state = "open" if rng.random() < 0.2 else "done"
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "instance_id": case["id"],
                    "process_id": "parcel",
                    "task_spec": "check",
                    "title": "审查",
                    "lane": "zrzy",
                    "state": state,
                    "assignee": rng.choice([None, None, f"user{n % 300}"]),
                    "form_key": None,
                    "properties": {},
                    "region": case["region"],
                    "region_path": case["region_path"],
                    # a fifth in the clerk's department, as in the measured province
                    "department": "zrzy.330702" if rng.random() < 0.2 else rng.choice(departments),
                    "created_at": now,
                    "due_at": None
                    if rng.random() < 0.1
                    else now + timedelta(days=rng.randint(1, 30)),
                }
            )
        session.connection().execute(insert(HumanTask.__table__), rows)
    # what autovacuum keeps up in production: statistics, and PostgreSQL's visibility map
    with lf.uow.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE"))
    return lf


def explain(lf, session, query) -> str:
    dialect = lf.uow.engine.dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
    return "\n".join(str(line[-1]) for line in session.execute(text(prefix + sql)).all())


def page_plans(lf, actor, where: TaskFilter) -> list[str]:
    """The plan of every branch of the scope, as the service runs it for a second page."""
    order = _order(where.sort)
    cursor = Cursor(where.sort, START + timedelta(days=9), "8", AFTER)
    with lf.uow.read() as session:
        return [
            explain(
                lf,
                session,
                branch.where(order.past(cursor)).order_by(*order.by(False)).limit(where.limit),
            )
            for branch in lf.inbox._branches(session, actor, where)
        ]


def assert_index_walk(lf, text_plan: str, sorted_here: bool = False) -> None:
    if lf.uow.engine.dialect.name == "sqlite":
        assert "SCAN tasks" not in text_plan, text_plan
        assert "INDEX" in text_plan, text_plan
        assert sorted_here or "TEMP B-TREE" not in text_plan, text_plan
    else:
        assert "Seq Scan on tasks" not in text_plan, text_plan
        assert "Index" in text_plan, text_plan
        # PostgreSQL may fetch a handful of rows by the same index and sort them, when it
        # expects fewer than a page or two: never a sort of a department's tasks
        for rows in re.findall(r"Sort  \(cost=\S+ rows=(\d+)", text_plan):
            assert sorted_here or int(rows) <= 50, text_plan


@pytest.mark.parametrize(
    ("user", "scope"),
    [
        ("zrzy.330702", "mine"),
        ("zrzy.330702", "queue"),
        ("zrzy.330702", "all"),
        ("zrzy.330702", "own"),
        ("zrzy.330702", "supervised"),
        ("ldxz.330700", "watch"),
        ("ldxz.330700", "all"),
        ("admin", "all"),
        ("admin", "unroutable"),
    ],
)
def test_every_page_walks_an_index_in_order(big_inbox, user, scope):
    lf = big_inbox
    actor = lf.auth.actor_for(user)
    plans = page_plans(lf, actor, TaskFilter(scope=scope))
    assert plans
    for text_plan in plans:
        # the supervised scope looks up the few tasks with an open order by id and sorts them
        assert_index_walk(lf, text_plan, sorted_here=scope == "supervised")
        if scope == "supervised":
            assert "autoindex_tasks" in text_plan or "tasks_pkey" in text_plan, text_plan
    first = lf.inbox.list(actor, TaskFilter(scope=scope, limit=20))
    assert first["total"] >= len(first["items"])
    if first["next_cursor"]:
        second = lf.inbox.list(
            actor, TaskFilter(scope=scope, limit=20, cursor=first["next_cursor"])
        )
        assert {t["id"] for t in first["items"]}.isdisjoint(t["id"] for t in second["items"])
        due = [t["due_at"] or "9999" for t in first["items"] + second["items"]]
        assert due == sorted(due)


@pytest.mark.parametrize("scope", ["queue", "all", "watch"])
def test_counts_stop_at_the_cap(big_inbox, scope):
    lf = big_inbox
    actor = lf.auth.actor_for("ldxz.330700" if scope == "watch" else "zrzy.330702")
    with lf.uow.read() as session:
        branches = lf.inbox._branches(session, actor, TaskFilter(scope=scope), walk=False)
        for branch in branches:
            query = branch.with_only_columns(HumanTask.id).limit(COUNT_CAP + 1)
            assert_index_walk(lf, explain(lf, session, query))


def test_the_big_inbox_answers_correctly(big_inbox):
    lf = big_inbox
    clerk = lf.auth.actor_for("zrzy.330702")
    with lf.uow.read() as session:
        expected = session.scalars(
            select(HumanTask.id)
            .where(
                HumanTask.department == "zrzy.330702",
                HumanTask.state == "open",
                HumanTask.assignee.is_(None),
            )
            .order_by(func.coalesce(HumanTask.due_at, NO_DUE), HumanTask.id)
        ).all()
    page = lf.inbox.list(clerk, TaskFilter(scope="queue", limit=500))
    if TASKS == 100_000:  # the fixture makes the queue longer than the cap
        assert len(expected) > COUNT_CAP
    capped = len(expected) > COUNT_CAP
    assert page["total"] == min(len(expected), COUNT_CAP) and page["count_capped"] is capped
    walked, cursor = [], None
    while True:
        page = lf.inbox.list(clerk, TaskFilter(scope="queue", limit=500, cursor=cursor))
        walked += [t["id"] for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert walked == list(expected)
    back = lf.inbox.list(clerk, TaskFilter(scope="queue", limit=500, cursor=page["prev_cursor"]))
    last = len(page["items"])
    assert [t["id"] for t in back["items"]] == list(expected)[-last - 500 : -last]
