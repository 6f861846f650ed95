"""`landflow worker`s and `landflow serve --demo` started at the same moment on a database that
does not exist yet: one migrates and seeds while the other waits, and both run."""

from __future__ import annotations

import os
import time

import httpx
import pytest
from sqlalchemy import func, select

from engine.db.tables import CalendarYear
from engine.services.actor import SYSTEM
from engine.services.container import Landflow
from tests.conftest import FIXTURES, _admin_execute, make_settings, pg_url
from tests.live_server import free_port
from tests.processes_support import landflow_env, spawn

WORKERS = 3  # several, so that without the lock two of them collide


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'landflow.db'}"
        return
    request.getfixturevalue("postgres_database")  # the server is reachable
    name = f"landflow_fresh_{os.getpid()}"
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_worker_and_demo_server_start_together_on_a_new_database(fresh_database, tmp_path):
    env = landflow_env(
        fresh_database,
        processes_dir=str(FIXTURES / "processes"),
        forms_dir=str(FIXTURES / "forms"),
    )
    port = free_port()
    workers = [spawn(["worker"], env, tmp_path / f"worker{n}.log") for n in range(WORKERS)]
    server = spawn(["serve", "--demo", "--port", str(port)], env, tmp_path / "server.log")
    logs = [tmp_path / f"worker{n}.log" for n in range(WORKERS)] + [tmp_path / "server.log"]
    try:
        deadline = time.monotonic() + 180
        while not _answers(port) or not all("running due jobs" in w.read_text() for w in logs[:-1]):
            for process, log in zip([*workers, server], logs, strict=True):
                assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server or a worker did not come up"
            time.sleep(0.2)
        time.sleep(1)
        for process, log in zip([*workers, server], logs, strict=True):
            assert process.poll() is None, log.read_text()[-3000:]
            assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    finally:
        for process in (server, *workers):
            process.terminate()
        for process in (server, *workers):
            process.wait(timeout=30)
    lf = Landflow.build(make_settings(fresh_database))
    try:
        with lf.uow.read() as session:
            years = session.scalars(select(CalendarYear.year)).all()
            assert len(years) == len(set(years)) > 0
            assert session.scalar(select(func.count()).select_from(CalendarYear)) == len(years)
        assert lf.audit.verify(SYSTEM)["ok"]
    finally:
        lf.close()


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
