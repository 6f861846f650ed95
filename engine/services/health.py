"""The health check: the database answers, and which one it is."""

from __future__ import annotations

from sqlalchemy import text

from engine.clock import Clock

from .uow import UnitOfWork


def check(uow: UnitOfWork, clock: Clock) -> dict[str, str]:
    with uow.read() as session:
        session.execute(text("SELECT 1"))
    return {"status": "ok", "database": uow.engine.dialect.name, "time": clock.now().isoformat()}
