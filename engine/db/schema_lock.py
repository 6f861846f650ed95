"""One migration at a time across processes: `landflow serve` and `landflow worker` started
together on a new database must not both create the schema. PostgreSQL: a session advisory
lock; SQLite: an exclusive lock on a file next to the database. Re-entrant in one process."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

LOCK_KEY = 0x4C46_5343  # "LFSC": Landflow schema
_held = threading.local()


@contextmanager
def schema_lock(database_url: str) -> Iterator[None]:
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    url = make_url(database_url)
    backend = url.get_backend_name()
    with _postgres_lock(database_url) if backend == "postgresql" else _file_lock(url.database):
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0


@contextmanager
def _postgres_lock(database_url: str) -> Iterator[None]:
    url = make_url(database_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    finally:
        engine.dispose()


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    if not database or database == ":memory:":
        yield
        return
    path = Path(database).with_name(Path(database).name + ".schema-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
