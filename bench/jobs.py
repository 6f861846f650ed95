"""Benchmark: the job runner on PostgreSQL with real `landflow worker` processes, 1 worker
against 2 in the same run.

  burst    --burst timer jobs all due at once (cases waiting at a timer that fell due):
           fires/s from the first fire to the last, p50/p99 of each fire's wait after the first
  steady   timers falling due at --rate per second for --seconds (2 workers):
           p50/p99/max lateness (fired at - due at)
  sla      --sla yellow rungs of SLA clocks all due at once (no workflow is loaded for a rung):
           rungs/s

Every case is seeded by the service layer (the bench's clock set to when the case must have
started), then the workers are started with a 0.2 s tick. Duplicates are counted for every
scenario (a timer fired or a rung escalated twice).

Usage: python -m bench.jobs [--burst 800] [--rate 100] [--seconds 10] [--sla 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

from bench.run import PG_ADMIN, drop_database

VILLAGE = "330702101201"
TICK = "0.2"


def timer_process() -> bytes:
    from tests.bpmn_builder import linear_process, timer_catch

    return linear_process("bench_timer", timer_catch("timeDuration", '"PT1H"'))


def ladder_process() -> bytes:
    from tests.bpmn_builder import laned_process

    return laned_process(
        "bench_ladder",
        [("review", {"dept_type": "zrzy", "level": "county"}, {"sla_statutory": "5wd"})],
    )


def new_database() -> str:
    name = f"landflow_jobs_{int(time.time() * 1000)}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def build(url: str, workdir: Path):
    from engine.clock import SettableClock
    from engine.demo import load_demo_organisation
    from engine.services.actor import SYSTEM
    from engine.services.container import Landflow
    from engine.settings import Settings

    settings = Settings(
        database_url=url,
        processes_dir=workdir,
        forms_dir=workdir,
        scheduler_enabled=False,
        deploy_on_startup=False,
    )
    clock = SettableClock()
    lf = Landflow.build(settings, clock)
    lf.start_up()
    load_demo_organisation(lf)
    lf.definitions.deploy(
        {"bench_timer.bpmn": timer_process(), "bench_ladder.bpmn": ladder_process()}, SYSTEM
    )
    return lf, clock


def seed_timers(lf, clock, dues: list[datetime], key: str) -> None:
    from engine.services.actor import SYSTEM

    for n, due in enumerate(dues):
        clock.set(due - timedelta(hours=1))
        lf.instances.start(SYSTEM, "bench_timer", VILLAGE, f"{key}-{n}")
    clock.release()


def seed_rungs(lf, clock, count: int, key: str) -> None:
    """Cases whose clock has turned yellow (due within the day) but not red."""
    from engine.db.tables import SlaClock
    from engine.services.actor import SYSTEM

    now = datetime.now(UTC)
    for days in range(1, 15):
        clock.set(now - timedelta(days=days))
        case = lf.instances.start(SYSTEM, "bench_ladder", VILLAGE, f"probe-{key}-{days}")
        with lf.uow.read() as session:
            row = session.scalars(select(SlaClock).where(SlaClock.instance_id == case["id"])).one()
        lf.instances.terminate(SYSTEM, case["id"], "bench probe")  # its clocks stop
        if row.yellow_at <= now < row.due_at - timedelta(minutes=10):
            break
    else:
        raise RuntimeError("no start day puts a clock between yellow and red")
    for n in range(count):
        lf.instances.start(SYSTEM, "bench_ladder", VILLAGE, f"{key}-{n}")
    clock.release()


def run_workers(url: str, workers: int, done, workdir: Path, limit: float = 600) -> float:
    """Start `workers` worker processes, wait for done(), stop them; seconds it took."""
    from tests.processes_support import landflow_env, spawn

    env = landflow_env(url, scheduler_interval_seconds=TICK, processes_dir=str(workdir))
    began = time.monotonic()
    procs = [spawn(["worker"], env, workdir / f"worker{i}.log") for i in range(workers)]
    try:
        while not done():
            if time.monotonic() - began > limit:
                raise RuntimeError("the workers did not finish in time")
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    return time.monotonic() - began


def fires(lf, key: str) -> list[tuple[datetime, datetime]]:
    """(fired at, due at) of the timer_fired entries of the cases with business key `key-*`."""
    from engine.db.tables import HistoryEntry, Instance

    with lf.uow.read() as session:
        rows = session.execute(
            select(HistoryEntry.at, HistoryEntry.details)
            .join(Instance, Instance.id == HistoryEntry.instance_id)
            .where(HistoryEntry.action == "timer_fired", Instance.business_key.like(f"{key}-%"))
        ).all()
    return [(at, datetime.fromisoformat(d["due_at"])) for at, d in rows]


def count_fired(lf, key: str) -> int:
    from engine.db.tables import HistoryEntry, Instance

    with lf.uow.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(HistoryEntry)
            .join(Instance, Instance.id == HistoryEntry.instance_id)
            .where(HistoryEntry.action == "timer_fired", Instance.business_key.like(f"{key}-%"))
        )


def rungs(lf, key: str) -> list[datetime]:
    from engine.db.tables import Instance, SlaClock, SlaEscalation

    with lf.uow.read() as session:
        return list(
            session.scalars(
                select(SlaEscalation.fired_at)
                .join(SlaClock, SlaClock.id == SlaEscalation.clock_id)
                .join(Instance, Instance.id == SlaClock.instance_id)
                .where(Instance.business_key.like(f"{key}-%"))
            )
        )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * p) - 1))]


def burst(lf, clock, url: str, workdir: Path, size: int) -> dict[int, float]:
    print(f"\n== burst: {size} timers due at once, PostgreSQL")
    rates = {}
    for workers in (1, 2):
        key = f"burst{workers}"
        due = datetime.now(UTC) - timedelta(seconds=5)
        seed_timers(lf, clock, [due] * size, key)
        run_workers(url, workers, lambda k=key: count_fired(lf, k) >= size, workdir)
        fired = sorted(at for at, _ in fires(lf, key))
        first = fired[0]
        waits = [(at - first).total_seconds() for at in fired]
        span = max(waits[-1], 1e-3)
        rates[workers] = size / span
        duplicates = len(fired) - size
        print(
            f"workers {workers}: {rates[workers]:7.1f} fires/s   wait after the first fire "
            f"p50 {pct(waits, 0.5):5.2f} s  p99 {pct(waits, 0.99):5.2f} s   "
            f"duplicates {duplicates}"
        )
    print(f"2 workers / 1 worker: x{rates[2] / rates[1]:.2f}")
    return rates


def steady(lf, clock, url: str, workdir: Path, rate: int, seconds: int) -> None:
    count = rate * seconds
    print(f"\n== steady: {rate} timers/s for {seconds} s, 2 workers, PostgreSQL")
    key = "steady"
    lead = timedelta(seconds=30 + count * 0.03)  # seeding time, then the workers warm up
    start = datetime.now(UTC) + lead
    seed_timers(lf, clock, [start + timedelta(seconds=n / rate) for n in range(count)], key)
    wait = (start - datetime.now(UTC)).total_seconds() - 8
    if wait > 0:
        time.sleep(wait)  # a benchmark waits for wall time; the workers start 8 s early
    run_workers(url, 2, lambda: count_fired(lf, key) >= count, workdir)
    late = [(at - due).total_seconds() for at, due in fires(lf, key)]
    print(
        f"lateness p50 {pct(late, 0.5):5.2f} s  p99 {pct(late, 0.99):5.2f} s  "
        f"max {max(late):5.2f} s   fired {len(late)} of {count}   "
        f"duplicates {len(late) - count}"
    )


def sla(lf, clock, url: str, workdir: Path, size: int) -> None:
    print(f"\n== sla: {size} yellow rungs due at once (no workflow load), PostgreSQL")
    rates = {}
    for workers in (1, 2):
        key = f"sla{workers}"
        seed_rungs(lf, clock, size, key)
        run_workers(url, workers, lambda k=key: len(rungs(lf, k)) >= size, workdir)
        fired = sorted(rungs(lf, key))
        span = max((fired[-1] - fired[0]).total_seconds(), 1e-3)
        rates[workers] = len(fired) / span
        print(f"workers {workers}: {rates[workers]:7.1f} rungs/s   ({len(fired)} rungs)")
    print(f"2 workers / 1 worker: x{rates[2] / rates[1]:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--burst", type=int, default=800)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--sla", type=int, default=1000)
    parser.add_argument("--scenario", choices=["burst", "steady", "sla", "all"], default="all")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="landflow-bench-jobs-"))
    url = new_database()
    lf, clock = build(url, workdir)
    try:
        if args.scenario in ("burst", "all"):
            burst(lf, clock, url, workdir, args.burst)
        if args.scenario in ("steady", "all"):
            steady(lf, clock, url, workdir, args.rate, args.seconds)
        if args.scenario in ("sla", "all"):
            sla(lf, clock, url, workdir, args.sla)
    finally:
        lf.close()
        drop_database(url)


if __name__ == "__main__":
    main()
