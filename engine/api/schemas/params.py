"""Path and query parameters with their bounds, so no number a database cannot hold reaches a
query (PostgreSQL's integer and SQLite's 64-bit limits)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1  # PostgreSQL integer
MAX_OFFSET = 10_000_000

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a positive id")]
CalendarYear = Annotated[int, Path(ge=1949, le=2100, description="calendar year")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Page = Annotated[int, Query(ge=1, le=100_000)]

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
# a day the figures, reports and calendar can be asked about (no walk over millennia)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY, description="2000-01-01 … 2100-12-31")]
