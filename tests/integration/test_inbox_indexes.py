"""Inbox queries over 100k tasks use indexes: the query plans on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import shutil
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text

from engine.clock import SettableClock
from engine.db.tables import HumanTask, Instance
from engine.services.actor import SYSTEM
from engine.services.container import Landflow
from engine.services.inbox import TaskFilter, _order
from tests.bpmn_builder import laned_process
from tests.conftest import BACKENDS, START, _reset, make_settings

TASKS = 100_000
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
        session.execute(insert(Instance), cases)
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
                    "department": rng.choice(departments),
                    "created_at": now,
                    "due_at": now + timedelta(days=rng.randint(1, 30)),
                }
            )
        session.execute(insert(HumanTask), rows)
    with lf.uow.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return lf


def plan(lf, actor, where: TaskFilter) -> str:
    with lf.uow.read() as session:
        query = lf.inbox._query(session, actor, where)
        query = query.order_by(*_order(where.sort), HumanTask.id).limit(where.limit)
        dialect = lf.uow.engine.dialect
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
        lines = session.execute(text(prefix + sql)).all()
    return "\n".join(str(line[-1]) for line in lines)


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
        ("admin", "unroutable"),
    ],
)
def test_inbox_queries_use_indexes(big_inbox, user, scope):
    lf = big_inbox
    actor = lf.auth.actor_for(user)
    text_plan = plan(lf, actor, TaskFilter(scope=scope))
    if lf.uow.engine.dialect.name == "sqlite":
        assert "SCAN tasks" not in text_plan, text_plan
        assert "INDEX" in text_plan, text_plan
    else:
        assert "Seq Scan on tasks" not in text_plan, text_plan
        assert "Index" in text_plan, text_plan
    result = lf.inbox.list(actor, TaskFilter(scope=scope, limit=20))
    assert result["total"] >= len(result["items"])


def test_the_big_inbox_answers_correctly(big_inbox):
    lf = big_inbox
    clerk = lf.auth.actor_for("zrzy.330702")
    with lf.uow.read() as session:
        expected = session.scalar(
            select(text("count(*)"))
            .select_from(HumanTask)
            .where(
                HumanTask.department == "zrzy.330702",
                HumanTask.state == "open",
                HumanTask.assignee.is_(None),
            )
        )
    assert lf.inbox.list(clerk, TaskFilter(scope="queue"))["total"] == expected
