"""The month roll-up of finished steps (dispatch_finished_months) on both backends, over the
seeded year of test_dashboard_rollup: once the `rollup` job has built it, the dashboard reads a
period's whole months from it and the rest from the days, and every figure equals the raw
computation over the steps — for every scope and period, the whole dashboard and the heatmap
unchanged; the rows each flush writes equal a rebuild; after a change of the calendar the
dashboard reads days (still right on the new calendar) until the job, run once every process
has the new calendar, builds the months again; a month holding a row counted on another
calendar is read from the days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, insert, select

from engine.db.dispatch_tables import DispatchFinishedMonth, DispatchMonthBuild
from engine.db.tables import HumanTask, Job
from engine.services.dashboard_months import ROLLUP_JOB, SETTLE, plan, whole_months
from tests.integration.test_dashboard import BEIJING
from tests.integration.test_dashboard_rollup import (
    PERIODS,
    SCOPES,
    open_task,
    parcel_case,
    reads_equal_raw,
    seeded_year,
)

MONTHS = DispatchFinishedMonth.__table__


@pytest.fixture
def year(product_lf):
    return seeded_year(product_lf)


@pytest.fixture
def parcel(lf):
    return parcel_case(lf)


def local_date(moment) -> date:
    return moment.astimezone(BEIJING).date()


CITY_YEAR = (date(2026, 1, 1), date(2026, 11, 30))


def month_rows(lf) -> list[tuple]:
    with lf.uow.read() as session:
        return sorted(tuple(r) for r in session.execute(select(MONTHS)))


def build(lf) -> None:
    """What a worker does at its start on a database without a build: arm, then run the job."""
    assert lf.dispatch.months.arm() is True
    assert lf.jobs.run_due() >= 1
    assert lf.dispatch.months.arm() is False


def served(lf, actor, region, since, until) -> frozenset[int]:
    with lf.uow.read() as session:
        scope, metrics, _today = lf.dispatch.open_in(session, actor, region, since, until)
        return plan(session, scope, metrics.workdays).served


def assert_equal_to_raw(lf, actor, regions=SCOPES, periods=PERIODS) -> int:
    def as_the_dashboard(_session, metrics, process):
        return metrics.finished_rows(process)

    return reads_equal_raw(lf, actor, as_the_dashboard, regions, periods)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (date(2026, 1, 1), date(2026, 11, 30), (date(2026, 1, 1), date(2026, 11, 30))),
        (date(2026, 1, 1), date(2026, 12, 3), (date(2026, 1, 1), date(2026, 11, 30))),
        (date(2026, 1, 15), date(2026, 3, 31), (date(2026, 2, 1), date(2026, 3, 31))),
        (date(2024, 2, 1), date(2024, 2, 29), (date(2024, 2, 1), date(2024, 2, 29))),
        (date(2026, 11, 2), date(2026, 11, 30), None),
        (date(2026, 10, 5), date(2026, 11, 20), None),
        (date(2025, 12, 1), date(2026, 1, 31), (date(2025, 12, 1), date(2026, 1, 31))),
    ],
)
def test_a_period_splits_into_its_whole_months_and_the_days_around_them(since, until, expected):
    assert whole_months(since, until) == expected


def test_whole_months_come_from_the_month_rollup_and_equal_the_raw_steps(year):
    lf, _seeded = year
    admin, city = lf.auth.actor_for("admin"), lf.auth.actor_for("ldxz.330700")
    assert served(lf, city, None, *CITY_YEAR) == frozenset()  # no build yet: days only
    before = {region: lf.dispatch.dashboard(admin, region, *CITY_YEAR) for region in SCOPES} | {
        "heatmap": lf.dispatch.heatmap(city, "joint_review_entry", None, *CITY_YEAR)
    }
    build(lf)
    assert served(lf, city, None, *CITY_YEAR) == frozenset(range(202601, 202612))
    assert served(lf, admin, "330702", date(2026, 3, 14), date(2026, 5, 2)) == {202604}
    assert served(lf, admin, "330702101", *CITY_YEAR) == frozenset()  # areas are villages
    assert assert_equal_to_raw(lf, admin) > 1000
    after = {region: lf.dispatch.dashboard(admin, region, *CITY_YEAR) for region in SCOPES} | {
        "heatmap": lf.dispatch.heatmap(city, "joint_review_entry", None, *CITY_YEAR)
    }
    assert after == before  # suspensions, averages, 90th percentiles, areas: all the same


def test_the_rows_each_flush_writes_equal_a_rebuild(year):
    lf, _seeded = year
    written = month_rows(lf)
    assert len(written) > 50 and sum(r[-1] for r in written) > 200
    build(lf)
    assert month_rows(lf) == written


def test_finishing_reopening_and_deleting_a_step_keep_the_months_equal_to_a_rebuild(parcel):
    lf, case = parcel

    def settled() -> list[tuple]:
        rows = month_rows(lf)
        lf.dispatch.rebuild_rollup()
        assert month_rows(lf) == rows
        return rows

    task = open_task(lf, case)
    lf.tasks.complete(lf.auth.actor_for("zrzy.330702"), task["id"], {})
    rows = settled()
    township = "330000/330700/330702/330702101/"
    assert [(r[2], r[4], r[-1]) for r in rows] == [(township, "check", 1)]
    with lf.uow.write() as session:
        session.get(HumanTask, task["id"]).sla_state = "missed"
    assert [r[6] for r in settled()] == ["missed"]
    with lf.uow.write() as session:
        row = session.get(HumanTask, task["id"])
        row.state, row.completed_at = "open", None
    assert settled() == []
    with lf.uow.write() as session:
        row = session.get(HumanTask, task["id"])
        row.state, row.completed_at = "done", lf.clock.now() + timedelta(days=9)
        opened, closed = row.created_at, row.completed_at
    expected = lf.calendar.current().workdays_between(local_date(opened), local_date(closed))
    assert [r[7] for r in settled()] == [expected]
    with lf.uow.write() as session:
        session.delete(session.get(HumanTask, task["id"]))
    assert settled() == []


def test_a_calendar_change_reads_days_until_the_job_counts_the_months_again(year):
    lf, _seeded = year
    admin, city = lf.auth.actor_for("admin"), lf.auth.actor_for("ldxz.330700")
    build(lf)
    old = lf.dispatch.dashboard(city, None, *CITY_YEAR)
    lf.calendar.set_day(admin, date(2026, 6, 10), "holiday", "防汛调休")  # a Wednesday
    assert served(lf, city, None, *CITY_YEAR) == frozenset()
    assert assert_equal_to_raw(lf, admin, (None, "330700"), (CITY_YEAR,)) > 100
    changed = lf.dispatch.dashboard(city, None, *CITY_YEAR)
    assert changed["steps"] != old["steps"]  # the holiday shortened some steps
    with lf.uow.read() as session:
        job = session.scalars(select(Job).where(Job.kind == ROLLUP_JOB)).one()
        assert (job.status, job.due_at) == ("pending", lf.clock.now() + SETTLE)
    lf.jobs.run_due()
    assert served(lf, city, None, *CITY_YEAR) == frozenset()  # not before every process knows
    lf.clock.advance(SETTLE)
    assert lf.jobs.run_due() >= 1
    assert served(lf, city, None, *CITY_YEAR) == frozenset(range(202601, 202612))
    assert lf.dispatch.dashboard(city, None, *CITY_YEAR) == changed
    assert assert_equal_to_raw(lf, admin, (None, "330700"), (CITY_YEAR,)) > 100
    with lf.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(DispatchMonthBuild)) == 1


def test_a_month_holding_a_row_of_another_calendar_is_read_from_the_days(year):
    lf, _seeded = year
    admin, city = lf.auth.actor_for("admin"), lf.auth.actor_for("ldxz.330700")
    build(lf)
    expected = lf.dispatch.dashboard(city, None, *CITY_YEAR)
    stray = {
        "calendar": "0" * 16,  # a writer that counted on the calendar before a change
        "month": 202606,
        "region_path": "330000/330700/330702/330702101/",
        "process_id": "joint_review_entry",
        "task_spec": "x",
        "department": "",
        "sla_state": "",
        "taken": 99,
        "steps": 5,
    }
    with lf.uow.write() as session:
        session.execute(insert(MONTHS), stray)
    assert served(lf, city, None, *CITY_YEAR) == frozenset(range(202601, 202612)) - {202606}
    assert lf.dispatch.dashboard(city, None, *CITY_YEAR) == expected
    assert assert_equal_to_raw(lf, admin, (None,), (CITY_YEAR,)) > 100
    with lf.uow.write() as session:
        session.execute(delete(MONTHS).where(MONTHS.c.calendar == stray["calendar"]))
    assert served(lf, city, None, *CITY_YEAR) == frozenset(range(202601, 202612))
