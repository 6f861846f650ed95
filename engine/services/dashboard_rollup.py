"""The roll-up of finished steps (table dispatch_finished_days): per local day a step was
finished, the day it opened, its process, step, department, region and clock outcome, how many
steps. The dashboard reads its figures of work finished in a period from here (a year of a city
is a few thousand rows instead of 130,000 steps); drill-downs still read the steps themselves.

It stays equal to the steps by construction: every flush of a session of the unit of work that
inserts, changes or deletes a task row moves that row's count from its old key (read from the
database, which still holds what the previous flush wrote) to its new one, in the same
transaction — completing a step, reopening it on a retry, or any later change of its outcome.
Rows written around the ORM (bulk loads) are taken in by `rebuild`, which the migration that
created the table ran once (the backfill).

Working days are not stored: the days are, and the dashboard turns them into working days on
the calendar of the moment (a holiday published later changes the figures as it would on the
raw steps). Day numbers use the zone's fixed offset, as engine.services.dashboard_workdays
does."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import chain
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, event, func, insert, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from engine.db.dispatch_tables import DispatchFinishedDay
from engine.db.tables import HumanTask

from .dashboard_months import MonthRollUp, add_counts
from .dashboard_workdays import local_day_number, zone_minutes

ROLLUP = cast(Table, DispatchFinishedDay.__table__)
TASKS = HumanTask.__table__
DONE = "done"
KEY = ("closed_day", "region_path", "process_id", "task_spec", "department", "sla_state")
KEY_COLUMNS = (*KEY, "opened_day")
WATCHED: tuple[str, ...] = (
    "state",
    "created_at",
    "completed_at",
    "region_path",
    "process_id",
    "task_spec",
)
WATCHED += ("department", "sla_state")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK = 500

Key = tuple[int, str, str, str, str, str, int]


class RollUp:
    """Keeps dispatch_finished_days in step with the task rows of the sessions it watches."""

    def __init__(self, zone: tzinfo, months: MonthRollUp | None = None) -> None:
        self.offset = timedelta(minutes=zone_minutes(zone))
        self.zone = zone
        self.months = months  # the coarser roll-up that follows this one's moves

    def watch(self, *factories: sessionmaker) -> None:
        for factory in factories:
            event.listen(factory, "before_flush", self._before_flush)

    def day(self, moment: datetime) -> int:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return (aware + self.offset - EPOCH) // timedelta(days=1)

    def key(self, row: Any) -> Key | None:
        """The roll-up key of a task row (object or selected row); None unless finished."""
        if row.state != DONE or row.completed_at is None or row.created_at is None:
            return None
        return (
            self.day(row.completed_at),
            row.region_path,
            row.process_id,
            row.task_spec,
            row.department or "",
            row.sla_state or "",
            self.day(row.created_at),
        )

    def _before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        added = [o for o in session.new if isinstance(o, HumanTask)]
        changed = [
            o
            for o in chain(session.dirty, session.deleted)
            if isinstance(o, HumanTask) and (o in session.deleted or _touched(o))
        ]
        if not added and not changed:
            return
        moves: Counter[Key] = Counter()
        connection = session.connection()
        for row in _stored(connection, [o.id for o in changed]):
            key = self.key(row)
            if key is not None:
                moves[key] -= 1
        for task in chain(added, (o for o in changed if o not in session.deleted)):
            key = self.key(task)
            if key is not None:
                moves[key] += 1
        apply(connection, moves)
        if self.months is not None:
            self.months.follow(session, connection, moves)

    def rebuild(self, connection: Connection) -> int:
        """Recount the roll-up from the task rows (after a bulk load); returns its rows."""
        connection.execute(delete(ROLLUP))
        dialect = connection.dialect.name
        closed = local_day_number(TASKS.c.completed_at, self.zone, dialect)
        opened = local_day_number(TASKS.c.created_at, self.zone, dialect)
        finished = select(
            closed.label("closed_day"),
            TASKS.c.region_path,
            TASKS.c.process_id,
            TASKS.c.task_spec,
            func.coalesce(TASKS.c.department, "").label("department"),
            func.coalesce(TASKS.c.sla_state, "").label("sla_state"),
            opened.label("opened_day"),
        ).where(TASKS.c.state == DONE, TASKS.c.completed_at.is_not(None))
        rows = finished.subquery()
        grouped = select(*rows.c, func.count()).group_by(*rows.c)
        connection.execute(insert(ROLLUP).from_select([*KEY_COLUMNS, "steps"], grouped))
        return connection.scalar(select(func.count()).select_from(ROLLUP)) or 0


def _touched(task: HumanTask) -> bool:
    state = inspect(task)
    return any(state.attrs[name].history.has_changes() for name in WATCHED)


def _stored(connection: Connection, ids: list[str]) -> Iterable[Any]:
    """The rows as the database holds them before this flush."""
    columns = [TASKS.c[name] for name in WATCHED]
    for start in range(0, len(ids), CHUNK):
        yield from connection.execute(
            select(*columns).where(TASKS.c.id.in_(ids[start : start + CHUNK]))
        )


def apply(connection: Connection, moves: Counter[Key]) -> None:
    """Add each key's count; keys whose count falls to zero are removed."""
    add_counts(connection, ROLLUP, KEY_COLUMNS, moves, ("closed_day",))
