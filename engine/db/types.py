"""Column types shared by the tables."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every backend and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


JsonDocument = JSON().with_variant(JSONB(), "postgresql")

# Region paths ("330000/330700/330702/") are matched by prefix with a range predicate, which
# needs byte order: PostgreSQL gets the "C" collation, SQLite compares bytes by default.
RegionPath = String(200).with_variant(String(200, collation="C"), "postgresql")
PATH_END = "~"  # sorts after the digits and "/" that paths are made of


def path_prefix(column, path: str):
    """`column` lies within the subtree whose path is `path` (index-friendly on both backends)."""
    return (column >= path) & (column < path + PATH_END)
