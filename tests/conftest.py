"""Shared fixtures: real SQLite and PostgreSQL databases, a settable clock, the wired app."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.clock import SettableClock
from engine.db.migrate import upgrade
from engine.db.tables import Base
from engine.services.container import Landflow
from engine.settings import Settings

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
PROJECT = HERE.parent
PG_ADMIN_URL = os.environ.get(
    "LANDFLOW_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_TEST_DB = os.environ.get("LANDFLOW_TEST_PG_DB", "landflow_test")
PG_START_HINT = (
    "PostgreSQL is not reachable at 127.0.0.1:5432. Start it with:\n"
    "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
    "(or point LANDFLOW_TEST_PG_ADMIN_URL at a server). The store, job and API "
    "suites run on both SQLite and PostgreSQL and are never skipped."
)
BACKENDS = ["sqlite", "postgresql"]
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def pg_url(database: str = PG_TEST_DB) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
def postgres_database() -> str:
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_TEST_DB}"'))
        admin.dispose()
    except Exception as exc:
        pytest.exit(f"{PG_START_HINT}\n({exc.__class__.__name__}: {exc})", returncode=3)
    upgrade(pg_url())
    return pg_url()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "landflow.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "landflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database")
        _truncate(url)
        yield url


def _truncate(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        processes_dir=FIXTURES / "processes",
        forms_dir=FIXTURES / "forms",
        scheduler_enabled=False,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def lf(database_url, clock) -> Iterator[Landflow]:
    yield from _landflow(database_url, clock)


@pytest.fixture
def pg_lf(postgres_database, clock) -> Iterator[Landflow]:
    _truncate(postgres_database)
    yield from _landflow(postgres_database, clock)


@pytest.fixture
def product_lf(database_url, clock) -> Iterator[Landflow]:
    """Landflow with the product's own processes/ and forms/ (the five approval processes)."""
    yield from _landflow(
        database_url, clock, processes_dir=PROJECT / "processes", forms_dir=PROJECT / "forms"
    )


def _landflow(database_url: str, clock: SettableClock, **overrides) -> Iterator[Landflow]:
    landflow = Landflow.build(make_settings(database_url, **overrides), clock)
    landflow.start_up()
    landflow.auth.ensure_user("admin", "admin-pass", "管理员", is_admin=True)
    landflow.auth.ensure_user("alice", "alice-pass", "Alice")
    landflow.auth.ensure_user("bob", "bob-pass", "Bob")
    yield landflow
    landflow.close()
