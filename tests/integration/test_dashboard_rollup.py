"""The roll-up of finished steps (dispatch_finished_days) on both backends: over a seeded year
of steps finished at every hour of the day, across weekends, National Day and suspensions, the
dashboard's figures read from it equal the raw computation over the steps themselves — the
grouped aggregate for every scope and period, and per step the count, late share, average and
90th percentile recomputed here in Python; the migration's backfill and `rebuild` give the
table the flushes wrote; and completing a step writes its roll-up row in the command's own
transaction (rolled back with it), reopening or deleting it takes it out again."""

from __future__ import annotations

import importlib.util
import math
import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import delete, func, select

from engine.db.dispatch_tables import DispatchFinishedDay
from engine.db.tables import HumanTask
from engine.services.actor import SYSTEM
from engine.services.dashboard_workdays import day_number
from tests.bpmn_builder import laned_process
from tests.conftest import PROJECT
from tests.integration.test_dashboard import BEIJING, Seeder, local

ROLLUP = DispatchFinishedDay.__table__
NOW = local("2026-11-30", 18)
PLACES = {  # case region -> (process, the departments its steps go to; None: unrouted)
    "330702101201": ("joint_review_entry", ("zrzy.330702", "applicant.330702101201", None)),
    "330702102201": ("joint_review_entry", ("zrzy.330702", "applicant.330702102201")),
    "330782101201": ("homestead_withdrawal", ("zrzy.330782", "cz.330782")),
    "330702101": ("consolidation_project", ("xz.330702101", "nync.330702", "zrzy.330702")),
    "330700": ("pilot_plan_approval", ("ldxz.330700", None)),
    "331003101201": ("joint_review_entry", ("zrzy.331003",)),  # 台州市: outside 金华
}
SCOPES = (None, "330700", "330702", "330702101", "330782")
PERIODS = (
    (date(2026, 1, 1), date(2026, 11, 30)),  # the year so far
    (date(2026, 11, 1), date(2026, 11, 30)),  # the default month
    (date(2026, 9, 28), date(2026, 10, 16)),  # across National Day
    (date(2026, 3, 14), date(2026, 3, 14)),  # one Saturday
    (date(2023, 12, 1), date(2026, 11, 30)),  # the longest period one may pick
)
STATES = ("met", "met", "met", "missed", None)


def seed_year(lf, steps: int = 240) -> list[dict[str, Any]]:
    """Steps of a year and a bit, through the ORM; returns what each one was."""
    rng = random.Random(14)
    seeder = Seeder(lf)
    seeded = []
    for region, (process, _departments) in PLACES.items():
        seeder.case(region, process, region)
    first = local("2025-10-20", 0)
    for n in range(steps):
        region = rng.choice(list(PLACES))
        process, departments = PLACES[region]
        spec = rng.choice(list(seeder.names[process]))
        opened = first + timedelta(minutes=rng.randrange(0, 400 * 24 * 60))
        done = opened + timedelta(hours=rng.choice((1, 9, 15, 30, 80, 150, 300, 500)))
        done = None if done > NOW or rng.random() < 0.05 else done
        state = rng.choice(STATES) if done else "normal"
        suspended = rng.choice((0, 0, 0, 0, 2, 3)) if done and state else 0  # a clock's days
        department = rng.choice(departments)
        seeder.step(f"s{n}", region, spec, department, opened, done, state, suspended)
        seeded.append(
            {
                "region_path": seeder.paths[region],
                "process": process,
                "step": spec,
                "department": department,
                "state": state,
                "opened": opened,
                "done": done,
                "suspended": suspended,
            }
        )
    return seeded


@pytest.fixture
def year(product_lf):
    return seeded_year(product_lf)


def seeded_year(lf):
    lf.clock.set(NOW)
    return lf, seed_year(lf)


def rollup_rows(lf) -> list[tuple]:
    with lf.uow.read() as session:
        return sorted(tuple(r) for r in session.execute(select(ROLLUP)))


def test_every_scope_and_period_reads_from_the_rollup_what_the_raw_steps_give(year):
    lf, _seeded = year
    admin = lf.auth.actor_for("admin")
    assert len(rollup_rows(lf)) > 50

    def from_days(session, metrics, process):
        return session.execute(metrics.finished_query(process))

    # the comparison saw the seeded steps, not empty groups
    assert reads_equal_raw(lf, admin, from_days) > 1000


def reads_equal_raw(lf, actor, read, regions=SCOPES, periods=PERIODS) -> int:
    """Asserts `read(session, metrics, process)` groups the finished steps of every scope and
    period as the raw steps do; returns how many groups it compared."""
    compared = 0
    with lf.uow.read() as session:
        for region in regions:
            for since, until in periods:
                _scope, metrics, _today = lf.dispatch.open_in(session, actor, region, since, until)
                for process in (None, "joint_review_entry"):
                    found = ordered(read(session, metrics, process))
                    raw = ordered(session.execute(metrics.raw_finished_query(process)))
                    assert found == raw, (region, since, until, process)
                    compared += len(raw)
    return compared


def ordered(rows) -> list[tuple]:
    return sorted((tuple(r) for r in rows), key=repr)


def p90(values: list[int]) -> int | None:
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1] if ordered else None


def test_the_year_view_equals_a_recount_of_the_steps_in_python(year):
    lf, seeded = year
    city = lf.auth.actor_for("ldxz.330700")
    since, until = date(2026, 1, 1), date(2026, 11, 30)
    figures = lf.dispatch.dashboard(city, None, since, until)
    with lf.uow.read() as session:
        index = lf.dispatch.open_in(session, city, None, since, until)[1].index

    def ordinal(moment) -> int:
        return index.ordinal(day_number(moment.astimezone(BEIJING).date()))

    expected: dict[tuple[str, str], list[tuple[int, bool]]] = {}
    for s in seeded:
        if s["done"] is None or not s["region_path"].startswith("330000/330700/"):
            continue
        if not since <= s["done"].astimezone(BEIJING).date() <= until:
            continue
        taken = ordinal(s["done"]) - ordinal(s["opened"])
        taken = max(taken - s["suspended"], 0) if s["suspended"] else taken
        expected.setdefault((s["process"], s["step"]), []).append((taken, s["state"] == "missed"))
    steps = {(s["process_id"], s["step"]): s for s in figures["steps"] if s["finished"]}
    assert set(steps) == set(expected)
    for key, found in expected.items():
        days = [d for d, _late in found]
        late = sum(1 for _d, is_late in found if is_late)
        assert (
            steps[key]["finished"],
            steps[key]["late"],
            steps[key]["avg_workdays"],
            steps[key]["p90_workdays"],
        ) == (len(found), late, round(sum(days) / len(days), 1), p90(days)), key
    finished = sum(len(v) for v in expected.values())
    late = sum(1 for v in expected.values() for _d, is_late in v if is_late)
    assert (figures["totals"]["finished"], figures["totals"]["late"]) == (finished, late)
    assert finished > 100


def test_the_migration_backfill_and_rebuild_give_the_table_the_flushes_wrote(year):
    lf, _ = year
    written = rollup_rows(lf)
    path = PROJECT / "engine" / "db" / "migrations" / "versions" / "0014_dispatch_rollup.py"
    spec = importlib.util.spec_from_file_location("migration_0014", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with lf.uow.engine.begin() as connection:
        connection.execute(delete(ROLLUP))
        with Operations.context(MigrationContext.configure(connection)):
            migration._backfill()
    assert rollup_rows(lf) == written
    with lf.uow.write() as session:
        session.execute(delete(ROLLUP))
    assert rollup_rows(lf) == []
    assert lf.dispatch.rebuild_rollup() == len(written)
    assert rollup_rows(lf) == written


def lane(dept_type: str, level: str) -> dict[str, str]:
    return {"dept_type": dept_type, "level": level}


@pytest.fixture
def parcel(lf):
    return parcel_case(lf)


def parcel_case(lf):
    """A case of a two-step laned process in 婺城区's village 330702101201."""
    lf.definitions.deploy(
        {
            "parcel.bpmn": laned_process(
                "parcel",
                [("check", lane("zrzy", "county"), {}), ("invest", lane("fgw", "county"), {})],
            )
        },
        SYSTEM,
    )
    case = lf.instances.start(SYSTEM, "parcel", "330702101201", "WC-1")
    return lf, case


def open_task(lf, case: dict) -> dict:
    return next(t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open")


def counted(lf, **where: Any) -> Counter:
    with lf.uow.read() as session:
        query = select(ROLLUP.c.task_spec, func.sum(ROLLUP.c.steps)).group_by(ROLLUP.c.task_spec)
        for name, value in where.items():
            query = query.where(ROLLUP.c[name] == value)
        return Counter(dict(session.execute(query).all()))


def test_completing_a_step_writes_its_rollup_row_in_the_same_transaction(parcel):
    lf, case = parcel
    assert counted(lf) == Counter()
    task = open_task(lf, case)
    lf.tasks.complete(lf.auth.actor_for("zrzy.330702"), task["id"], {})
    village = "330000/330700/330702/330702101/330702101201/"
    assert counted(lf, department="zrzy.330702", region_path=village) == Counter({"check": 1})
    today = lf.clock.now().astimezone(BEIJING).date()
    figures = lf.dispatch.dashboard(lf.auth.actor_for("ldxz.330700"), None, today, today)
    assert figures["totals"]["finished"] == 1

    # the step is finished and rolled up in one transaction: seen inside it, not outside,
    # and gone with it when it rolls back
    following = open_task(lf, case)
    with pytest.raises(RuntimeError), lf.uow.write() as session:
        row = session.get(HumanTask, following["id"])
        row.state, row.completed_at, row.sla_state = "done", lf.clock.now(), "missed"
        session.flush()
        inside = session.execute(
            select(ROLLUP.c.steps).where(ROLLUP.c.task_spec == "invest")
        ).scalar_one()
        assert inside == 1
        assert counted(lf).get("invest") is None  # another transaction does not see it
        raise RuntimeError("the command fails after the step was finished")
    assert counted(lf) == Counter({"check": 1})


def test_reopening_changing_or_deleting_a_finished_step_moves_its_count(parcel):
    lf, case = parcel
    task = open_task(lf, case)
    lf.tasks.complete(lf.auth.actor_for("zrzy.330702"), task["id"], {})
    with lf.uow.write() as session:
        session.get(HumanTask, task["id"]).sla_state = "missed"
    assert counted(lf, sla_state="missed") == Counter({"check": 1})
    assert counted(lf, sla_state="") == Counter()
    with lf.uow.write() as session:  # a failed step retried: the same task opens again
        row = session.get(HumanTask, task["id"])
        row.state, row.completed_at = "open", None
    assert counted(lf) == Counter()
    with lf.uow.write() as session:
        row = session.get(HumanTask, task["id"])
        row.state, row.completed_at = "done", lf.clock.now() + timedelta(days=3)
    assert counted(lf) == Counter({"check": 1})
    with lf.uow.write() as session:
        session.delete(session.get(HumanTask, task["id"]))
    assert counted(lf) == Counter()
    with lf.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(ROLLUP)) == 0
