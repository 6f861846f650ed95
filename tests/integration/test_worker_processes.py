"""Jobs across real processes: two `landflow worker`s on one PostgreSQL fire every escalation
rung exactly once, and a server stopped over a timer's due time fires it once after restart."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
from sqlalchemy import func, select

from engine.db.tables import HistoryEntry, Job, SlaEscalation, SupervisionOrder
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process, linear_process, timer_catch
from tests.processes_support import Server, landflow_env, spawn, wait_for

CASES = 30
RUNGS = ("yellow", "red", "red+3", "red+10")


def test_two_workers_on_postgresql_fire_each_rung_once(pg_lf, clock, tmp_path):
    lf = pg_lf
    clock.set(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # all rungs fall due in March 2026
    lf.definitions.deploy(
        {
            "ladder.bpmn": laned_process(
                "ladder",
                [("review", {"dept_type": "zrzy", "level": "county"}, {"sla_statutory": "2wd"})],
            )
        },
        SYSTEM,
    )
    for n in range(CASES):
        lf.instances.start(SYSTEM, "ladder", "330702101201", f"L-{n}")
    env = landflow_env(
        lf.settings.database_url, scheduler_interval_seconds="0.05", job_batch_size="3"
    )
    workers = [spawn(["worker"], env, tmp_path / f"worker{i}.log") for i in range(2)]
    try:

        def all_fired():
            with lf.uow.read() as session:
                return session.scalar(
                    select(func.count()).select_from(SlaEscalation)
                ) == CASES * len(RUNGS)

        wait_for(all_fired, seconds=120)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=20)
    with lf.uow.read() as session:
        fired = session.execute(select(SlaEscalation.clock_id, SlaEscalation.rung)).all()
        assert len(fired) == len(set(fired)) == CASES * len(RUNGS)
        workers_seen = set(session.scalars(select(SlaEscalation.worker)).all())
        orders = session.scalar(select(func.count()).select_from(SupervisionOrder))
        left = session.scalars(select(Job).where(Job.kind == "sla")).all()
    assert len(workers_seen) == 2, "both workers took part"
    assert orders == CASES * 3  # red, red+3, red+10 each write one supervision order
    assert left == []


def test_a_timer_due_while_the_server_was_down_fires_once_after_restart(sqlite_template, tmp_path):
    database = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, database)
    processes = tmp_path / "processes"
    processes.mkdir()
    (processes / "wait_a_day.bpmn").write_bytes(
        linear_process("wait_a_day", timer_catch("timeDuration", '"P1D"'))
    )
    env = landflow_env(
        f"sqlite:///{database}",
        processes_dir=str(processes),
        allow_clock_override="true",
        scheduler_interval_seconds="0.1",
    )
    log = tmp_path / "server.log"
    server = Server(env, log)
    try:
        admin = _sign_in(server.url)
        two_days_ago = datetime.now(UTC) - timedelta(days=2)
        response = httpx.post(
            f"{server.url}/api/v1/admin/clock",
            headers=admin,
            json={"now": two_days_ago.isoformat()},
        )
        assert response.status_code == 200, response.text
        case = httpx.post(
            f"{server.url}/api/v1/instances",
            headers=admin,
            json={"process_id": "wait_a_day", "region": "330702101201"},
        ).json()
        assert case["status"] == "waiting"
    finally:
        server.stop()
    # the timer fell due a day ago, while no server ran; a new one fires it on its first tick
    for _ in range(2):
        server = Server(env, log)
        try:
            wait_for(partial(_completed, server.url, _sign_in(server.url), case["id"]))
        finally:
            server.stop()
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        fired = conn.execute(
            select(func.count())
            .select_from(HistoryEntry)
            .where(HistoryEntry.instance_id == case["id"], HistoryEntry.action == "timer_fired")
        ).scalar()
    engine.dispose()
    assert fired == 1


def _completed(url: str, headers: dict[str, str], case_id: str) -> bool:
    response = httpx.get(f"{url}/api/v1/instances/{case_id}", headers=headers)
    return response.json()["status"] == "completed"


def _sign_in(url: str) -> dict[str, str]:
    token = httpx.post(
        f"{url}/api/v1/auth/token", json={"username": "admin", "password": "demo"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
