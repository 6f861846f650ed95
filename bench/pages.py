"""Benchmark: the clerk's pages with many open tasks, against the raw inbox query in the same run.

  raw SQL   the inbox's first page as one indexed SELECT on the same database (the floor)
  inbox     GET /            (我的待办 / 待认领 for 婺城区自然资源和规划局)
  queue     GET /?scope=queue
  task      GET /tasks/{id}  (a real 入市 step with its summary, clocks, materials)
  case      GET /cases/{id}  (diagram data, timeline, labelled sections)

The database is SQLite with the demo organisation and demo cases of the five processes, plus
`--tasks` extra open tasks spread over the departments (a fifth in the clerk's department).
Times are measured by the client over loopback against a real uvicorn server, so they include
HTTP; the target is < 150 ms per page. Usage: python -m bench.pages [--tasks 100000] [--runs 30]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select

PROJECT = Path(__file__).resolve().parent.parent
CLERK = "zrzy.330702"


def build(extra_tasks: int):
    from engine.clock import SettableClock
    from engine.db.tables import HumanTask, Instance
    from engine.demo import load_demo_organisation
    from engine.demo_cases import start_demo_cases
    from engine.services.container import Landflow
    from engine.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="landflow-bench-pages-"))
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        processes_dir=PROJECT / "processes",
        forms_dir=PROJECT / "forms",
        attachments_dir=workdir / "attachments",
        scheduler_enabled=False,
    )
    lf = Landflow.build(settings, SettableClock())
    lf.start_up()
    load_demo_organisation(lf)
    start_demo_cases(lf)
    with lf.uow.write() as session:
        sample = session.scalars(
            select(HumanTask).where(HumanTask.state == "open", HumanTask.department == CLERK)
        ).first()
        if sample is None:
            raise SystemExit("the demo left no open task for the clerk's department")
        departments = sorted(
            {d for d in session.scalars(select(HumanTask.department)) if d} - {CLERK}
        ) or [CLERK]
        rng = random.Random(7)
        now = lf.clock.now()
        case = session.get(Instance, sample.instance_id)
        case_row = {c.key: getattr(case, c.key) for c in Instance.__table__.columns}
        cases = []
        for n in range(max(extra_tasks // 5, 1)):  # five open tasks per extra case
            copy = dict(case_row, id=str(uuid.uuid4()), case_no=f"压测{n:07d}")
            cases.append(copy)
        for chunk in range(0, len(cases), 10_000):
            session.execute(insert(Instance), cases[chunk : chunk + 10_000])
        columns = {c.key for c in HumanTask.__table__.columns if c.computed is None}
        template = {k: getattr(sample, k) for k in columns}
        rows = []
        for n in range(extra_tasks):
            row = dict(template)
            row.update(
                id=str(uuid.uuid4()),
                instance_id=cases[n // 5]["id"],
                department=CLERK if n % 5 == 0 else rng.choice(departments),
                assignee=None,
                created_at=now - timedelta(minutes=n % 5000),
                due_at=now + timedelta(hours=rng.randint(1, 24 * 30)),
            )
            rows.append(row)
            if len(rows) == 10_000:
                session.execute(insert(HumanTask), rows)
                rows = []
        if rows:
            session.execute(insert(HumanTask), rows)
        task_id, case_id = sample.id, sample.instance_id
    return lf, workdir / "bench.db", task_id, case_id


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm caches once, as a clerk's second page view would
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def raw_inbox(db: Path) -> Callable[[], object]:
    connection = sqlite3.connect(db, check_same_thread=False)
    query = (
        "SELECT id, title, due_at FROM tasks WHERE department = ? AND state = 'open' "
        "AND assignee IS NULL ORDER BY due_at LIMIT 20"
    )
    return lambda: connection.execute(query, (CLERK,)).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from tests.live_server import serving

    began = time.perf_counter()
    lf, db, task_id, case_id = build(args.tasks)
    print(f"built {args.tasks} extra open tasks in {time.perf_counter() - began:.0f} s")
    results: dict[str, list[float]] = {"raw SQL": timed(raw_inbox(db), args.runs)}
    with serving(lf) as url, httpx.Client(base_url=url, timeout=60) as client:
        signed = client.post("/login", data={"username": CLERK, "password": "demo"})
        if signed.status_code >= 400 or not client.cookies:
            raise SystemExit(f"sign-in failed: {signed.status_code}")

        def page(path: str) -> Callable[[], object]:
            def get() -> object:
                response = client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"GET {path} answered {response.status_code}")
                return response

            return get

        results["inbox"] = timed(page("/"), args.runs)
        results["queue"] = timed(page("/?scope=queue"), args.runs)
        results["task"] = timed(page(f"/tasks/{task_id}"), args.runs)
        results["case"] = timed(page(f"/cases/{case_id}"), args.runs)
    lf.close()
    baseline = statistics.median(results["raw SQL"])
    print(f"pages with {args.tasks} extra open tasks (SQLite, this machine), {args.runs} runs")
    for name, samples in results.items():
        ordered = sorted(samples)
        median = statistics.median(ordered)
        p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
        verdict = "" if name == "raw SQL" else ("  ok" if median < 150 else "  over 150 ms")
        print(
            f"{name:<8} median {median:8.2f} ms   p95 {p95:8.2f} ms   "
            f"x{median / baseline:9.1f} of raw SQL{verdict}"
        )


if __name__ == "__main__":
    main()
