"""The filters the inbox and the case list share (process, region, date range, cursor), read from
the query string leniently: a value the user could not have chosen is ignored, never an error
page; a mistyped date is ignored and pointed out next to the field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request

from engine.services.actor import Actor
from engine.services.container import Landflow

PAGE_SIZE = 20
# 2026-03-01, 2026/3/1, 2026.3.1 or 2026年3月1日
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
DATE_HINT = "日期请写作 2026-03-01"
_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,400}$")


@dataclass
class ListFilters:
    process: str = ""
    region: str = ""
    since: str = ""  # YYYY-MM-DD, local
    until: str = ""
    cursor: str = ""  # where the page starts (next_cursor / prev_cursor of the list)
    extra: dict[str, str] = field(default_factory=dict)  # the page's own filters (light, …)
    problems: dict[str, str] = field(default_factory=dict)  # field → what is wrong with it
    typed: dict[str, str] = field(default_factory=dict)  # what was typed into a wrong field

    def created_from(self, zone: ZoneInfo) -> datetime | None:
        day = _day(self.since)
        return datetime.combine(day, time.min, zone) if day else None

    def created_to(self, zone: ZoneInfo) -> datetime | None:
        day = _day(self.until)
        return datetime.combine(day + timedelta(days=1), time.min, zone) if day else None

    def query(self, **changes: Any) -> dict[str, str]:
        values = {
            "process": self.process,
            "region": self.region,
            "since": self.since,
            "until": self.until,
            **self.extra,
            "cursor": self.cursor,
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}

    def url(self, path: str, **changes: Any) -> str:
        query = self.query(**changes)
        return f"{path}?{urlencode(query)}" if query else path


def read_filters(request: Request, lf: Landflow, actor: Actor, *extra: str) -> ListFilters:
    params = request.query_params
    options = filter_options(lf, actor)
    process = params.get("process", "")
    region = params.get("region", "")
    cursor = params.get("cursor", "")
    days = {name: _day(params.get(name, "")) for name in ("since", "until")}
    wrong = [name for name, day in days.items() if params.get(name, "").strip() and not day]
    return ListFilters(
        process=process if process in options["processes"] else "",
        region=region if region in options["regions"] else "",
        since=days["since"].isoformat() if days["since"] else "",
        until=days["until"].isoformat() if days["until"] else "",
        cursor=cursor if _CURSOR.match(cursor) else "",
        extra={name: params.get(name, "") for name in extra},
        problems={name: DATE_HINT for name in wrong},
        typed={name: params[name][:40] for name in wrong},
    )


def filter_options(lf: Landflow, actor: Actor) -> dict[str, dict[str, str]]:
    """Processes by name, and the regions the user works in or watches (all for admins),
    each by its full name, in tree order."""
    tables = lf.names.tables()
    reach = tuple(actor.region_paths) + tuple(actor.territories)
    regions = sorted(
        (path, code)
        for code, path in tables.region_paths.items()
        if actor.is_admin or any(path.startswith(p) for p in reach)
    )
    return {
        "processes": dict(sorted(tables.processes.items(), key=lambda item: item[1])),
        "regions": {code: lf.names.region_full(code) for _, code in regions},
    }


def _day(text: str) -> date | None:
    match = _DATE.match(text or "")
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
