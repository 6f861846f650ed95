"""Unit of work: one command, one transaction. Write commands take SQLite's write lock up front
(BEGIN IMMEDIATE) so that concurrent commands serialize instead of failing half-way.

On SQLite the threads of one process also queue for that lock on an in-process lock first:
SQLite's busy handler lets a waiting writer sleep in growing steps (up to 100 ms) and retry,
so under load some writers lose the race again and again (seconds of tail latency); a thread
waiting on the process's lock is woken the moment the previous command ends. Writers of other
processes (a second server, the worker) still meet at SQLite's lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.db.connection import WRITE_OPTION
from engine.errors import Conflict

WRITER_WAIT_SECONDS = 30  # as SQLite's busy_timeout


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        self._writer = sessionmaker(
            bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        # reentrant: a nested write in one thread waits at SQLite's lock as it always did
        self._writers = threading.RLock() if engine.dialect.name == "sqlite" else None

    def session_factories(self) -> tuple[sessionmaker, sessionmaker]:
        """For session events that must hold in every transaction (the dashboard's roll-up)."""
        return self._reader, self._writer

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._queue(), self._transaction() as session:
            yield session

    @contextmanager
    def _queue(self) -> Iterator[None]:
        if self._writers is None:
            yield
            return
        if not self._writers.acquire(timeout=WRITER_WAIT_SECONDS):
            raise Conflict("系统正忙于处理同时提交的修改，请稍后重试")
        try:
            yield
        finally:
            self._writers.release()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        session = self._writer()
        try:
            yield session
            session.commit()
        except StaleDataError as exc:
            session.rollback()
            raise Conflict("办件刚刚已被他人修改，请刷新后重试") from exc
        except OperationalError as exc:
            session.rollback()
            if "locked" in str(exc).lower() or "deadlock" in str(exc).lower():
                raise Conflict("系统正忙于处理同时提交的修改，请稍后重试") from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._reader()
        try:
            yield session
        finally:
            session.close()  # ends the transaction; loaded rows stay readable
