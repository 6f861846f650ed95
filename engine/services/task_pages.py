"""Keyset (cursor) paging for the long lists, in index order.

A list is the union of one or more *branches*: each branch is a query that one index serves in
(sort key, id) order, e.g. `department = d AND state = 'open' ORDER BY sort_due, id` on
ix_tasks_department_state_sort. Each branch reads at most limit + 1 rows after the cursor; the
branches are merged in Python and duplicates (a task both assigned to me and in my department)
dropped. No statement sorts more than a page, none counts more than COUNT_CAP + 1 rows."""

from __future__ import annotations

import base64
import binascii
import heapq
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, select, tuple_, union
from sqlalchemy.orm import Session

from engine.errors import BadRequest

COUNT_CAP = 1000  # counts are exact up to this, then shown as 1000+
AFTER, BEFORE = "after", "before"


@dataclass(frozen=True)
class Cursor:
    """The key and id of the row a page starts after (or ends before), for one sort order."""

    sort: str
    key: datetime
    id: str
    direction: str = AFTER

    def encode(self) -> str:
        raw = json.dumps([self.sort, self.key.isoformat(), self.id, self.direction])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: str) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            sort_of, key, row_id, direction = json.loads(base64.urlsafe_b64decode(padded))
            cursor = cls(str(sort_of), datetime.fromisoformat(key), str(row_id), str(direction))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as bad:
            raise BadRequest(
                "cursor is not valid; use next_cursor or prev_cursor as given"
            ) from bad
        if (
            cursor.sort != sort
            or cursor.direction not in (AFTER, BEFORE)
            or cursor.key.tzinfo is None
        ):
            raise BadRequest("翻页位置属于另一种排序，请从第一页重新开始")
        return cursor


@dataclass(frozen=True)
class Order:
    """A sort order: the key column (non-null) and its direction; the row id breaks ties."""

    key: Any
    id: Any
    descending: bool = False

    def by(self, backwards: bool) -> tuple[Any, Any]:
        down = self.descending != backwards
        return (self.key.desc(), self.id.desc()) if down else (self.key, self.id)

    def past(self, cursor: Cursor):
        """Rows on the far side of the cursor in the direction being read."""
        down = self.descending != (cursor.direction == BEFORE)
        mark = tuple_(literal(cursor.key, self.key.type), literal(cursor.id, self.id.type))
        row = tuple_(self.key, self.id)
        return row < mark if down else row > mark


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str | None
    prev_cursor: str | None


def read_page(
    session: Session,
    branches: Sequence[Select],
    order: Order,
    sort: str,
    limit: int,
    cursor: Cursor | None,
    offset: int = 0,
    key_of: Callable[[Any], datetime] | None = None,
) -> Page:
    """One page of the union of `branches` (each a select of one mapped entity)."""
    backwards = cursor is not None and cursor.direction == BEFORE
    want = offset + limit + 1
    streams = []
    for branch in branches:
        query = branch
        if cursor is not None:
            query = query.where(order.past(cursor))
        streams.append(session.scalars(query.order_by(*order.by(backwards)).limit(want)).all())
    key_of = key_of or (lambda row: getattr(row, order.key.key))
    down = order.descending != backwards
    merged: list[Any] = []
    seen: set[str] = set()
    for row in heapq.merge(*streams, key=lambda r: (key_of(r), r.id), reverse=down):
        if row.id not in seen:
            seen.add(row.id)
            merged.append(row)
        if len(merged) == want:
            break
    more = len(merged) > offset + limit
    rows = merged[offset : offset + limit]
    if backwards:
        rows.reverse()

    def mark(row: Any, direction: str) -> str:
        return Cursor(sort, key_of(row), row.id, direction).encode()

    if not rows:
        back = (
            Cursor(sort, cursor.key, cursor.id, BEFORE).encode()
            if cursor and not backwards
            else None
        )
        return Page(rows, None, back)
    has_next = (more and not backwards) or backwards
    has_prev = (more and backwards) or (cursor is not None and not backwards) or offset > 0
    return Page(
        rows,
        mark(rows[-1], AFTER) if has_next else None,
        mark(rows[0], BEFORE) if has_prev else None,
    )


def capped_count(session: Session, branches: Sequence[Select], id_column: Any) -> int:
    """The number of distinct rows in the union, exact up to COUNT_CAP; COUNT_CAP + 1 means
    "more than COUNT_CAP"."""
    if not branches:
        return 0
    return session.scalar(capped_count_query(branches, id_column)) or 0


def capped_count_query(branches: Sequence[Select], id_column: Any) -> Select:
    """Each branch stops at COUNT_CAP + 1 ids on its index; the union of those is counted. A
    lone branch counts constants, which its index answers without reading the rows."""
    if len(branches) == 1:
        lone = branches[0].with_only_columns(literal(1).label("one")).limit(COUNT_CAP + 1)
        return select(func.count()).select_from(lone.subquery())
    parts = [
        select(sub.c.id)
        for sub in (
            branch.with_only_columns(id_column.label("id")).limit(COUNT_CAP + 1).subquery()
            for branch in branches
        )
    ]
    return select(func.count()).select_from(union(*parts).limit(COUNT_CAP + 1).subquery())
