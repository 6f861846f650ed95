"""The signed-in user's Actor, kept per user between requests.

A request still reads its token row (one indexed statement), so a revoked, expired or
deactivated sign-in fails on the very next request in every process. What is kept is the
Actor built from memberships, substitutions and offices (two statements): for at most `ttl`
of wall time, for the same day, and dropped in this process as soon as any statement writes
to the organisation's tables. Another process sees an organisation change within `ttl`."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, event

from .actor import Actor

_ORGANISATION_WRITE = re.compile(
    r'\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(users|memberships|departments|substitutions'
    r"|regions)\b",
    re.IGNORECASE,
)


class ActorCache:
    def __init__(self, engine: Engine, ttl: timedelta = timedelta(seconds=30)) -> None:
        self.ttl = ttl
        self._actors: dict[tuple[int | None, bool, date], tuple[Actor, datetime]] = {}
        self._lock = threading.Lock()
        event.listen(engine, "after_cursor_execute", self._watch)

    def get(self, user_id: int, is_admin: bool, today: date, now: datetime) -> Actor | None:
        found = self._actors.get((user_id, is_admin, today))
        if found is None or now - found[1] >= self.ttl or now < found[1]:
            return None
        return found[0]

    def put(self, actor: Actor, is_admin: bool, today: date, now: datetime) -> None:
        with self._lock:
            if len(self._actors) > 10_000:
                self._actors.clear()
            self._actors[(actor.user_id, is_admin, today)] = (actor, now)

    def clear(self) -> None:
        with self._lock:
            self._actors.clear()

    def _watch(self, _conn, _cursor, statement: str, _params, _context, _many) -> None:
        if statement[:1] in "IUDiud " and _ORGANISATION_WRITE.match(statement):
            self.clear()
