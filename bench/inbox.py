"""Benchmark: the inbox and task lists at 10k / 100k / 1M open tasks, against the raw indexed
query measured in the same run on the same database.

  raw SQL   SELECT * FROM tasks WHERE department = ? AND state = 'open' AND assignee IS NULL
            ORDER BY sort_due, id LIMIT 20, through the bare driver (the floor)
  SQL       the statements the inbox issues for the page: its keyset query (one per branch of
            the scope) and its capped count, compiled and run through the bare driver
  API       GET /api/v1/tasks?scope=…&limit=20 on a real uvicorn server (httpx, loopback, bearer
            token), first page and a page reached by cursor

A fifth of the open tasks are in the clerk's department (婺城区自然资源和规划局), as in the
measured province (194k of 1M); two thirds of those are unclaimed, a tenth have no time limit.
Usage: python -m bench.inbox [--sizes 10000,100000,1000000] [--backends sqlite,postgresql]
                             [--runs 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, text

PROJECT = Path(__file__).resolve().parent.parent
CLERK = "zrzy.330702"  # 婺城区自然资源和规划局
CITY = "ldxz.330700"  # watches the whole city
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "landflow_bench_inbox"
CHUNK = 20_000
PAGE = 20
RAW = (
    "SELECT * FROM tasks WHERE department = '{dept}' AND state = 'open' AND assignee IS NULL "
    "ORDER BY sort_due, id LIMIT {limit}"
)
# (label, user, scope)
SCENARIOS = (
    ("queue", CLERK, "queue"),
    ("mine", CLERK, "mine"),
    ("all (clerk)", CLERK, "all"),
    ("watch (city)", CITY, "watch"),
    ("all (admin)", "admin", "all"),
)


def database(backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix='landflow-bench-inbox-')) / 'bench.db'}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DB}"


def build(url: str, size: int):
    from engine.clock import SettableClock
    from engine.db.tables import HumanTask, Instance
    from engine.demo import load_demo_organisation
    from engine.services.actor import SYSTEM
    from engine.services.container import Landflow
    from engine.settings import Settings
    from tests.bpmn_builder import laned_process

    workdir = Path(tempfile.mkdtemp(prefix="landflow-bench-inbox-files-"))
    settings = Settings(
        database_url=url,
        processes_dir=workdir,
        forms_dir=workdir,
        attachments_dir=workdir / "attachments",
        scheduler_enabled=False,
    )
    lf = Landflow.build(settings, SettableClock())
    lf.start_up()
    load_demo_organisation(lf)
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
        villages = session.execute(
            text("SELECT code, path FROM regions WHERE level = 'village'")
        ).all()
        near = [v for v in villages if v.path.startswith("330000/330700/330702/")] or villages
        departments = [
            d for d in session.scalars(text("SELECT code FROM departments")) if d != CLERK
        ]
        now = lf.clock.now()
        cases = []
        for n in range(max(size // 20, 1)):  # twenty open tasks per case
            code, path = rng.choice(villages)
            cases.append(
                {
                    "id": str(uuid.uuid4()),
                    "process_version_id": template.process_version_id,
                    "process_id": "parcel",
                    "version": 1,
                    "region": code,
                    "region_path": path,
                    "business_key": f"B{n}",
                    "case_no": f"压测{n:08d}",
                    "title": "宅基地审批",
                    "status": "running",
                    "data": {},
                    "state_json": "{}",
                    "revision": 1,
                    "started_by": "admin",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for start in range(0, len(cases), CHUNK):
            session.execute(insert(Instance), cases[start : start + CHUNK])
        rows = []
        for n in range(size):
            case = cases[n // 20]
            ours = rng.random() < 0.2
            code, path = rng.choice(near) if ours else (case["region"], case["region_path"])
            rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "instance_id": case["id"],
                    "process_id": "parcel",
                    "task_spec": "check",
                    "title": "审查",
                    "lane": "zrzy",
                    "state": "open",
                    "assignee": (CLERK if rng.random() < 0.02 else None)
                    if ours and rng.random() < 1 / 3
                    else (None if ours else rng.choice([None, f"user{n % 300}"])),
                    "form_key": None,
                    "properties": {},
                    "region": code,
                    "region_path": path,
                    "department": CLERK if ours else rng.choice(departments),
                    "created_at": now - timedelta(minutes=n % 5000),
                    "due_at": None
                    if rng.random() < 0.1
                    else now + timedelta(hours=rng.randint(1, 24 * 30)),
                }
            )
            if len(rows) == CHUNK:
                session.execute(insert(HumanTask), rows)
                rows = []
        if rows:
            session.execute(insert(HumanTask), rows)
    with lf.uow.engine.connect() as connection:  # what autovacuum keeps up in production
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        postgresql = connection.dialect.name == "postgresql"
        connection.execute(text("VACUUM ANALYZE" if postgresql else "ANALYZE"))
    return lf


def timed(call: Callable[[], object], runs: int) -> list[float]:
    for _ in range(3):  # warm caches, as a clerk's second look would
        call()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return sorted(samples)


def p(samples: list[float], q: float) -> float:
    return samples[min(int(len(samples) * q), len(samples) - 1)]


def bare(lf, sql: list[str]) -> Callable[[], object]:
    """Run compiled statements through the driver's own connection, fetching every row."""
    raw = lf.uow.engine.raw_connection()

    def run() -> None:
        cursor = raw.cursor()
        for statement in sql:
            cursor.execute(statement)
            cursor.fetchall()
        cursor.close()
        raw.rollback()

    return run


def inbox_sql(lf, user: str, scope: str, cursor: str | None) -> tuple[list[str], list[str]]:
    """The page statements and the count statement the service issues, compiled."""
    from engine.db.tables import HumanTask
    from engine.services.inbox import TaskFilter, _order
    from engine.services.task_pages import COUNT_CAP, Cursor, capped_count_query

    actor = lf.auth.actor_for(user)
    where = TaskFilter(scope=scope, limit=PAGE)
    order = _order(where.sort)
    mark = Cursor.decode(cursor, where.sort) if cursor else None
    dialect = lf.uow.engine.dialect

    def compiled(query) -> str:
        return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

    with lf.uow.read() as session:
        total = lf.inbox._count(session, actor, where)
        branches = lf.inbox._branches(session, actor, where, walk=total > COUNT_CAP)
        pages = []
        for branch in branches:
            query = branch.where(order.past(mark)) if mark else branch
            pages.append(compiled(query.order_by(*order.by(False)).limit(PAGE + 1)))
        counted = lf.inbox._branches(session, actor, where, walk=False)
        count = compiled(capped_count_query(counted, HumanTask.id))
    return pages, [count]


def measure(backend: str, size: int, runs: int) -> None:
    url = database(backend)
    began = time.perf_counter()
    lf = build(url, size)
    built = time.perf_counter() - began
    from tests.live_server import serving

    raw_sql = RAW.format(dept=CLERK, limit=PAGE)
    results: list[tuple[str, list[float], list[float], list[float], list[float]]] = []
    baseline = timed(bare(lf, [raw_sql]), runs)
    shown = "0"
    with serving(lf) as base, httpx.Client(base_url=base, timeout=60) as client:
        tokens = {}
        for user in {u for _, u, _ in SCENARIOS}:
            answer = client.post("/api/v1/auth/token", json={"username": user, "password": "demo"})
            answer.raise_for_status()
            tokens[user] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        for label, user, scope in SCENARIOS:
            params = {"scope": scope, "limit": PAGE}

            def api(params=params, user=user) -> object:
                answer = client.get("/api/v1/tasks", params=params, headers=tokens[user])
                if answer.status_code != 200:
                    raise SystemExit(f"{params} answered {answer.status_code}: {answer.text}")
                return answer.json()

            first = api()
            later = first
            for _ in range(4):  # the fifth page, reached by cursors
                if later["next_cursor"]:
                    later = api({**params, "cursor": later["next_cursor"]})
            deep = {**params, "cursor": later["prev_cursor"]} if later["prev_cursor"] else params
            pages, count = inbox_sql(lf, user, scope, None)
            results.append(
                (
                    label,
                    timed(api, runs),
                    timed(lambda deep=deep: api(deep), runs),
                    timed(bare(lf, pages), runs),
                    timed(bare(lf, pages + count), runs),
                )
            )
            if scope == "queue":
                shown = f"{first['total']}{'+' if first['count_capped'] else ''}"
    lf.close()
    floor = statistics.median(baseline)
    print(
        f"\n{backend}, {size:,} open tasks (built in {built:.0f} s), {runs} runs each; "
        f"clerk's queue shows 共 {shown} 条"
    )
    print(f"  raw SQL            p50 {floor:7.3f} ms   p99 {p(baseline, 0.99):7.3f} ms")
    print(
        "  scope          API p50   API p99  (page 5 p99)   x raw  |  SQL page  x raw  |"
        "  +count  x raw"
    )
    for label, api_first, api_deep, sql_page, sql_all in results:
        mid, page_sql, all_sql = (
            statistics.median(api_first),
            statistics.median(sql_page),
            statistics.median(sql_all),
        )
        print(
            f"  {label:<13} {mid:7.2f}   {p(api_first, 0.99):7.2f}   ({p(api_deep, 0.99):7.2f})"
            f"   x{mid / floor:6.1f}  |  {page_sql:7.3f}  x{page_sql / floor:4.1f}  |"
            f"  {all_sql:6.3f}  x{all_sql / floor:4.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            measure(backend.strip(), size, args.runs)


if __name__ == "__main__":
    main()
