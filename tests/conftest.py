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
from engine.demo import load_demo_organisation
from engine.services.actor import SYSTEM
from engine.services.container import Landflow
from engine.settings import Settings

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
PROJECT = HERE.parent
ROOT_DIR = PROJECT
PG_ADMIN_URL = os.environ.get(
    "LANDFLOW_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# One database per test run, so parallel runs on one server do not trample each other.
PG_TEST_DB = os.environ.get("LANDFLOW_TEST_PG_DB", f"landflow_test_{os.getpid()}")
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
def postgres_database() -> Iterator[str]:
    try:
        _admin_execute(
            f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)',
            f'CREATE DATABASE "{PG_TEST_DB}"',
        )
    except Exception as exc:
        pytest.exit(f"{PG_START_HINT}\n({exc.__class__.__name__}: {exc})", returncode=3)
    upgrade(pg_url())
    yield pg_url()
    _admin_execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)')


def _admin_execute(*statements: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        admin.dispose()


ORG_TABLES = ("regions", "departments", "users", "memberships")
# what every test database starts with: the organisation and the package's official calendar
SEEDED_TABLES = (*ORG_TABLES, "calendar_years", "calendar_days", "calendar_changes")
SERIAL_TABLES = ("departments", "users", "memberships", "calendar_changes")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database holding the demo organisation and the test users; each test
    gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "landflow.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    seeded = Landflow.build(make_settings(url, deploy_on_startup=False), SettableClock(START))
    seed_organisation(seeded)
    seeded.calendar.seed_from_package()
    seeded.close()
    return path


def seed_organisation(landflow: Landflow) -> None:
    load_demo_organisation(landflow)
    landflow.auth.ensure_user("admin", "admin-pass", "管理员", is_admin=True)
    # alice and bob are colleagues in every department the sample process routes to, so the
    # engine tests can walk it as one clerk; routing and access tests use the demo users.
    for name, display in (("alice", "Alice"), ("bob", "Bob")):
        landflow.auth.ensure_user(name, f"{name}-pass", display)
        for department in CLERK_DEPARTMENTS:
            landflow.organisation.add_membership(SYSTEM, name, department, "handler")


@pytest.fixture(scope="session")
def organisation_rows(sqlite_template) -> dict[str, list[dict]]:
    engine = create_engine(f"sqlite:///{sqlite_template}")
    with engine.connect() as conn:
        rows = {
            t: [dict(r._mapping) for r in conn.execute(Base.metadata.tables[t].select())]
            for t in SEEDED_TABLES
        }
    engine.dispose()
    return rows


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "landflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database")
        _reset(url, request.getfixturevalue("organisation_rows"))
        yield url


EMPTY_ALL = (
    "SET LOCAL session_replication_role = replica;"  # no foreign-key checks while emptying
    + "".join(f'DELETE FROM "{t.name}";' for t in Base.metadata.sorted_tables)
    + "DO $$ DECLARE s record; BEGIN"
    " FOR s IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP"
    " EXECUTE format('ALTER SEQUENCE %I RESTART', s.sequencename); END LOOP; END $$;"
    "SET LOCAL session_replication_role = DEFAULT;"
)


def _reset(url: str, organisation: dict[str, list[dict]]) -> None:
    """Empty every table, then put the seeded organisation and calendar back."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(EMPTY_ALL))  # one round trip; DELETE: most tables hold a few rows
        for table in SEEDED_TABLES:
            if organisation[table]:
                conn.execute(Base.metadata.tables[table].insert(), organisation[table])
            if table in SERIAL_TABLES and organisation[table]:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
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
def wall_clock() -> SettableClock:
    """Wall time for sign-ins, separate from the engine clock that tests move."""
    return SettableClock(START)


@pytest.fixture
def lf(database_url, clock, wall_clock) -> Iterator[Landflow]:
    yield from _landflow(database_url, clock, wall_clock)


@pytest.fixture
def pg_lf(postgres_database, organisation_rows, clock, wall_clock) -> Iterator[Landflow]:
    _reset(postgres_database, organisation_rows)
    yield from _landflow(postgres_database, clock, wall_clock)


@pytest.fixture
def product_lf(database_url, clock, wall_clock) -> Iterator[Landflow]:
    """Landflow with the product's own processes/ and forms/ (the five approval processes)."""
    yield from _landflow(
        database_url,
        clock,
        wall_clock,
        processes_dir=PROJECT / "processes",
        forms_dir=PROJECT / "forms",
    )


VILLAGE = "330702101201"  # 古方村, 白龙桥镇, 婺城区, 金华市
CLERK_DEPARTMENTS = ("applicant.330702101201", "zrzy.330702", "fgw.330702", "cz.330702")


def _landflow(
    database_url: str, clock: SettableClock, wall_clock: SettableClock, **overrides
) -> Iterator[Landflow]:
    landflow = Landflow.build(make_settings(database_url, **overrides), clock, wall_clock)
    landflow.start_up()
    yield landflow
    landflow.close()
