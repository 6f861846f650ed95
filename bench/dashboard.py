"""Benchmark: the leadership-group office's dispatch dashboard over many cases, against the raw
SQL of its main aggregate in the same run.

  raw SQL    the finished-steps aggregate (steps finished in the period by step, department,
             area, working days taken and outcome) over the steps themselves, as one statement
             on the DB-API connection (what the dashboard read before the roll-up)
  roll-up    the same aggregate over the roll-up of finished steps per day, as the dashboard
             reads it (checked equal to the raw one before timing)
  dashboard  DashboardService.dashboard() for 金华市领导小组办公室 (ldxz.330700): every figure of
             the page (open work, lights, on-time rate, 督办, working days per step, indicators)
  heatmap    DashboardService.heatmap() of 入市 for the same office

The database holds the demo organisation, the five shipped processes and `--cases` cases bulk
inserted with their steps, in every demo county: nine in ten finished (started over the last
three years, each through about 70 % of its process's user tasks), one in ten open at a step
opened days or weeks ago; lights, late marks, 督办 orders and indicator data. Times are server
time (the service call in this process), for the default view (this month) and for the year so
far. Target: dashboard < 300 ms.

  python -m bench.dashboard [--cases 100000] [--runs 20] [--postgresql] [--keep FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import create_engine, func, insert, select, text

PROJECT = Path(__file__).resolve().parent.parent
OFFICE = "ldxz.330700"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 in Beijing
PG_ADMIN = os.environ.get(
    "LANDFLOW_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_BENCH_DB = "landflow_bench_dashboard"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
REGION_LEVEL = {  # where a case of each process lives
    "joint_review_entry": "village",
    "collective_decision": "village",
    "homestead_withdrawal": "village",
    "consolidation_project": "township",
    "pilot_plan_approval": "city",
}
INDICATOR_DATA = {
    "consolidation_project": lambda r: {
        "new_farmland_mu": round(r.uniform(50, 500), 1),
        "high_standard_farmland_mu": round(r.uniform(500, 3000), 1),
        "reclaimed_village_land_mu": round(r.uniform(5, 60), 1),
    },
    "homestead_withdrawal": lambda r: {
        "new_cultivated_land_mu": round(r.uniform(0.1, 0.5), 2),
        "reclaimed_area_mu": round(r.uniform(0.1, 0.5), 2),
        "paid_yuan": r.randrange(100_000, 600_000, 1000),
    },
    "joint_review_entry": lambda r: {"contract_price_yuan": r.randrange(1_000_000, 9_000_000)},
}
LIMIT_DAYS = 10  # calendar days a seeded step may take before it is late
HISTORY_DAYS = 3 * 365  # finished cases started over the last three years
OPEN_SHARE = 0.1  # cases still open
SKIPPED = 0.3  # share of a process's user tasks a case does not pass
STEP_HOURS = (2, 20, 30, 50, 70, 100, 150, 200, 260, 340)  # how long seeded steps take
OPEN_AGE_HOURS = (1, 5, 26, 50, 74, 100, 130, 170, 200, 240, 290, 400)  # how long open ones wait


def steps_of(process_id: str) -> list[tuple[str, str, str | None, str | None]]:
    """(task id, name, department type, level) of the process's user tasks, diagram order."""
    root = etree.parse(str(PROJECT / "processes" / f"{process_id}.bpmn")).getroot()
    process = next(p for p in root.iter(f"{BPMN}process") if p.get("id") == process_id)
    lanes: dict[str, tuple[str | None, str | None]] = {}
    for lane in process.iter(f"{BPMN}lane"):
        props = {p.get("name"): p.get("value") for p in lane.iter(f"{SPIFF}property")}
        for ref in lane.iter(f"{BPMN}flowNodeRef"):
            lanes[ref.text.strip()] = (props.get("dept_type"), props.get("level"))
    return [
        (t.get("id"), t.get("name"), *lanes.get(t.get("id"), (None, None)))
        for t in process.iter(f"{BPMN}userTask")
    ]


def seed(lf, cases: int, rng: random.Random) -> dict[str, int]:
    from engine.db.tables import HumanTask, Instance, ProcessVersion, Region, SupervisionOrder

    with lf.uow.read() as session:
        regions = {r.code: (r.level, r.path) for r in session.scalars(select(Region))}
        versions = {
            v.process_id: (v.id, v.version) for v in session.scalars(select(ProcessVersion))
        }
    by_level: dict[str, list[str]] = {}
    for code, (level, _path) in regions.items():
        by_level.setdefault(level, []).append(code)
    processes = sorted(REGION_LEVEL)
    steps = {p: steps_of(p) for p in processes}
    counts = {"cases": 0, "tasks": 0, "orders": 0}
    instances: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []

    def flush(final: bool = False) -> None:
        if len(tasks) < 20_000 and not final:
            return
        with lf.uow.write() as session:
            for table, rows in (
                (Instance.__table__, instances),
                (HumanTask.__table__, tasks),
                (SupervisionOrder.__table__, orders),
            ):
                if rows:
                    session.execute(insert(table), rows)
        for key, rows in (("cases", instances), ("tasks", tasks), ("orders", orders)):
            counts[key] += len(rows)
            rows.clear()

    for n in range(cases):
        process_id = processes[n % len(processes)]
        region = rng.choice(by_level[REGION_LEVEL[process_id]])
        path = regions[region][1]
        ancestors = {regions[c][0]: c for c in path.strip("/").split("/")}
        case_id = str(uuid.uuid4())
        # a case skips the branches it does not take (refusal, rework, design changes, …)
        plan = [s for n, s in enumerate(steps[process_id]) if n == 0 or rng.random() >= SKIPPED]
        # most cases are finished; the open ones (Little's law: about a tenth) stand at a step
        # opened a few days or weeks ago
        stage = len(plan) if rng.random() >= OPEN_SHARE else rng.randrange(len(plan))
        takes = [timedelta(hours=rng.choice(STEP_HOURS)) for _ in plan[:stage]]
        gaps = [timedelta(hours=rng.choice((0, 1, 16))) for _ in plan[:stage]]
        walked = sum(takes, timedelta()) + sum(gaps, timedelta())
        if stage == len(plan):
            started = NOW - walked - timedelta(minutes=rng.randrange(0, HISTORY_DAYS * 24 * 60))
        else:
            started = NOW - walked - timedelta(hours=rng.choice(OPEN_AGE_HOURS))
        moment, status, ended = started, "running", None
        for number, (task_spec, name, dept_type, level) in enumerate(plan):
            department = (
                f"{dept_type}.{ancestors[level]}" if dept_type and level in ancestors else None
            )
            row = _task(case_id, process_id, task_spec, name, region, path, department, moment)
            if number == stage:  # the open step: its light from how long it has waited
                age = (NOW - moment).days
                row["sla_state"] = (
                    "red" if age > LIMIT_DAYS else "yellow" if age > LIMIT_DAYS - 3 else "normal"
                )
                tasks.append(row)
                if row["sla_state"] == "red" and department:
                    orders.append(_order(case_id, row, ancestors))
                break
            late = takes[number] > timedelta(days=LIMIT_DAYS)
            row.update(
                state="done",
                completed_at=moment + takes[number],
                completed_by=department or "admin",
                sla_state="missed" if late else "met",
            )
            tasks.append(row)
            if late and department and rng.random() < 0.5:
                orders.append(_order(case_id, row, ancestors))
            moment += takes[number] + gaps[number]
        else:
            status, ended = "completed", moment
        data = INDICATOR_DATA.get(process_id, lambda r: {})(rng)
        version_id, version = versions[process_id]
        instances.append(
            {
                "id": case_id,
                "process_version_id": version_id,
                "process_id": process_id,
                "version": version,
                "region": region,
                "region_path": path,
                "business_key": None,
                "case_no": f"压测{n:07d}",
                "title": f"压测办件 {n}",
                "applicant": None,
                "search_text": f"压测{n:07d}",
                "status": status,
                "data": data,
                "state_json": "",
                "error": None,
                "revision": 1,
                "started_by": "admin",
                "created_at": started,
                "updated_at": moment,
                "ended_at": ended,
            }
        )
        flush()
    flush(final=True)
    return counts


def _task(case_id, process_id, task_spec, name, region, path, department, opened):
    return {
        "id": str(uuid.uuid4()),
        "instance_id": case_id,
        "process_id": process_id,
        "task_spec": task_spec,
        "title": name,
        "lane": None,
        "state": "open",
        "assignee": None,
        "owner": None,
        "delegation": None,
        "draft": None,
        "form_key": None,
        "properties": {},
        "region": region,
        "region_path": path,
        "department": department,
        "route_dept_type": None,
        "route_region": None,
        "route_problem": None,
        "created_at": opened,
        "claimed_at": None,
        "completed_at": None,
        "completed_by": None,
        "due_at": opened + timedelta(days=LIMIT_DAYS),
        "sla_state": None,
        "sla_provisional": False,
        "returned": None,
        "return_targets": None,
    }


def _order(case_id: str, task: dict[str, Any], ancestors: dict[str, str]) -> dict[str, Any]:
    return {
        "instance_id": case_id,
        "task_id": task["id"],
        "clock_id": None,
        "office": f"ldxz.{ancestors.get('county') or ancestors['city']}",
        "department": task["department"],
        "region_path": task["region_path"],
        "grade": "blue",
        "text": "压测督办",
        "status": "open" if task["state"] == "open" else "closed",
        "created_at": task["due_at"] + timedelta(days=1),
        "closed_at": None,
    }


def build(cases: int, postgresql: bool, keep: Path | None = None):
    """A Landflow on a freshly seeded database. With `keep` (SQLite: the file; PostgreSQL: any
    value) the database is kept, and one seeded by an earlier run is reused as it is."""
    from engine.clock import SettableClock
    from engine.db.tables import Instance
    from engine.demo import load_demo_organisation
    from engine.services.container import Landflow
    from engine.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="landflow-bench-dashboard-"))
    if postgresql:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            reuse = keep is not None and bool(
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": PG_BENCH_DB}
                ).first()
            )
            if not reuse:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{PG_BENCH_DB}"'))
        admin.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"
    else:
        reuse = keep is not None and keep.is_file()
        url = f"sqlite:///{keep or workdir / 'bench.db'}"
    settings = Settings(
        database_url=url,
        processes_dir=PROJECT / "processes",
        forms_dir=PROJECT / "forms",
        attachments_dir=workdir / "attachments",
        scheduler_enabled=False,
    )
    lf = Landflow.build(settings, SettableClock(NOW))
    lf.start_up()
    if reuse:
        if lf.dispatch.months.arm():  # a database seeded before the month roll-up existed
            lf.jobs.run_due()
        with lf.uow.read() as session:
            found = session.scalar(select(func.count()).select_from(Instance))
        return lf, {"cases": found, "tasks": "(reused)", "orders": "(reused)", "rollup": "(reused)"}
    load_demo_organisation(lf)
    lf.dispatch.seed_targets(PROJECT / "processes" / "demo" / "dispatch_targets.csv")
    counts = seed(lf, cases, random.Random(11))
    counts["rollup"] = lf.dispatch.rebuild_rollup()  # the bulk insert went around the ORM
    with lf.uow.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if postgresql else "ANALYZE"))
    return lf, counts


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm the caches once, as the office's second look would
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def raw_main_aggregate(
    lf, actor, since: date, until: date, rollup: bool = False, months: bool = False
) -> Callable[[], object]:
    """The finished-steps aggregate over the steps themselves (what the dashboard computed
    before the roll-ups) or, with `rollup`, the dashboard's statement over the day roll-up, or
    with `months` its statement over the month roll-up for the period's whole months; compiled
    once and run on the raw DB-API connection (no ORM, no Python folding)."""
    from engine.services.dashboard_months import month_query, plan

    service = lf.dispatch
    with lf.uow.read() as session:
        scope, metrics, _today = service.open_in(session, actor, None, since, until)
        if months:
            statement = month_query(scope, plan(session, scope, metrics.workdays), None)
        else:
            statement = metrics.finished_query() if rollup else metrics.raw_finished_query()
        dialect = session.get_bind().dialect
        sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    raw = lf.uow.engine.raw_connection()

    def run() -> object:
        cursor = raw.cursor()
        cursor.execute(sql.replace("%%", "%"))
        rows = cursor.fetchall()
        cursor.close()
        raw.rollback()
        return rows

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--postgresql", action="store_true", help=f"on {PG_ADMIN} (database {PG_BENCH_DB})"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the seeded database (SQLite: this file) and reuse it when it exists",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    lf, counts = build(args.cases, args.postgresql, args.keep)
    backend = "PostgreSQL" if args.postgresql else "SQLite"
    print(
        f"seeded {counts['cases']} cases, {counts['tasks']} steps, {counts['orders']} 督办, "
        f"{counts['rollup']} roll-up rows on {backend} in {time.perf_counter() - began:.0f} s"
    )
    office = lf.auth.actor_for(OFFICE)
    month, year = (date(2026, 11, 1), date(2026, 11, 30)), (date(2026, 1, 1), date(2026, 11, 30))
    for label, (since, until) in (("month", month), ("year", year)):
        figures = lf.dispatch.dashboard(office, None, since, until)
        print(
            f"{OFFICE}, {label} {since}..{until}: {figures['totals']['active_cases']} active "
            f"cases, {figures['totals']['open_steps']} open and "
            f"{figures['totals']['finished']} finished steps"
        )
    for label, (since, until) in (("month", month), ("year", year)):
        raw = sorted(map(tuple, raw_main_aggregate(lf, office, since, until)()))
        same = raw == sorted(map(tuple, raw_main_aggregate(lf, office, since, until, True)()))
        with lf.uow.read() as session:
            _scope, metrics, _today = lf.dispatch.open_in(session, office, None, since, until)
            read = sorted(map(tuple, metrics.finished_rows()))
        print(
            f"{label}: day roll-up aggregate equals the raw one: {same}; "
            f"the dashboard's (whole months from the month roll-up): {raw == read}"
        )
    results = {
        "raw SQL": timed(raw_main_aggregate(lf, office, *month), args.runs),
        "roll-up SQL": timed(raw_main_aggregate(lf, office, *month, rollup=True), args.runs),
        "dashboard": timed(lambda: lf.dispatch.dashboard(office, None, *month), args.runs),
        "heatmap": timed(
            lambda: lf.dispatch.heatmap(office, "joint_review_entry", None, *month), args.runs
        ),
        "year raw SQL": timed(raw_main_aggregate(lf, office, *year), args.runs),
        "year roll-up": timed(raw_main_aggregate(lf, office, *year, rollup=True), args.runs),
        "year months": timed(raw_main_aggregate(lf, office, *year, months=True), args.runs),
        "year view": timed(lambda: lf.dispatch.dashboard(office, None, *year), args.runs),
    }
    lf.close()
    print(f"dispatch dashboard at {args.cases} cases ({backend}, this machine), {args.runs} runs")
    for name, samples in results.items():
        ordered = sorted(samples)
        median = statistics.median(ordered)
        p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
        floor = statistics.median(results["year raw SQL" if "year" in name else "raw SQL"])
        verdict = (
            ""
            if "SQL" in name or "roll-up" in name or "months" in name
            else ("  ok" if median < 300 else "  over 300 ms")
        )
        print(
            f"{name:<13} p50 {median:8.1f} ms   p95 {p95:8.1f} ms   "
            f"x{median / floor:6.2f} of raw SQL{verdict}"
        )


if __name__ == "__main__":
    main()
