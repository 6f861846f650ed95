"""Unit of work: one command, one transaction. Write commands take SQLite's write lock up front
(BEGIN IMMEDIATE) so that concurrent commands serialize instead of failing half-way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.db.connection import WRITE_OPTION
from engine.errors import Conflict


class UnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        self._writer = sessionmaker(
            bind=engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    def session_factories(self) -> tuple[sessionmaker, sessionmaker]:
        """For session events that must hold in every transaction (the dashboard's roll-up)."""
        return self._reader, self._writer

    @contextmanager
    def write(self) -> Iterator[Session]:
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
