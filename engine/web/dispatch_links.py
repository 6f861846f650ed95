"""The dispatch pages' filters (region, period) read from the query string, the links from every
number to the cases behind it, and the chart specifications the page's script draws (each bar
carries the link of its cases)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

DATE_HINT = "日期请写作 2026-03-01"
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")

QUICK_PERIODS = {"week": "本周", "month": "本月", "quarter": "本季度", "year": "本年"}
KIND_LABELS = {
    "active": "在办办件",
    "open": "在办环节",
    "finished": "本期办结",
    "late": "逾期办结",
    "supervised": "本期督办",
    "indicator": "指标",
}
LIGHT_LABELS = {"green": "正常", "yellow": "黄灯", "red": "红灯", "paused": "已中止"}


@dataclass
class DispatchFilters:
    region: str = ""
    since: date | None = None
    until: date | None = None
    problems: dict[str, str] | None = None
    typed: dict[str, str] | None = None

    def query(self, **changes: Any) -> dict[str, str]:
        values = {
            "region": self.region,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        values.update({k: "" if v is None else str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}

    def url(self, path: str, **changes: Any) -> str:
        query = self.query(**changes)
        return f"{path}?{urlencode(query)}" if query else path

    def cases(self, kind: str, **filters: Any) -> str:
        """The link from a number to its cases."""
        return self.url("/dispatch/cases", kind=kind, **filters)


def read_dispatch_filters(request: Request, today: date) -> DispatchFilters:
    params = request.query_params
    period = params.get("period", "")
    if period in QUICK_PERIODS:
        since, until = quick_period(period, today)
        return DispatchFilters(params.get("region", "")[:20], since, until, {}, {})
    days = {name: parse_day(params.get(name, "")) for name in ("since", "until")}
    wrong = [name for name, day in days.items() if params.get(name, "").strip() and not day]
    return DispatchFilters(
        params.get("region", "")[:20],
        days["since"],
        days["until"],
        {name: DATE_HINT for name in wrong},
        {name: params[name][:40] for name in wrong},
    )


def quick_links(path: str, region: str, **extra: str) -> list[tuple[str, str]]:
    """本周, 本月, 本季度, 本年 for the same region (and page fields)."""
    links = []
    for code, label in QUICK_PERIODS.items():
        query = {k: v for k, v in {"period": code, "region": region, **extra}.items() if v}
        links.append((label, f"{path}?{urlencode(query)}"))
    return links


def parse_day(text: str) -> date | None:
    """2026-03-01, 2026/3/1, 2026.3.1 or 2026年3月1日; None for anything else."""
    match = _DATE.match(text or "")
    if match is None:
        return None
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def quick_period(period: str, today: date) -> tuple[date, date]:
    if period == "week":
        return today - timedelta(days=today.weekday()), today
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if period == "year":
        return date(today.year, 1, 1), today
    return today.replace(day=1), today


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def charts(figures: dict[str, Any], links: DispatchFilters) -> list[dict[str, Any]]:
    """What static/dispatch.js draws with ECharts: bar charts whose bars open their cases."""
    areas = figures["areas"]
    steps = [s for s in figures["steps"] if s["avg_workdays"] is not None][:10]
    indicators = [i for i in figures["indicators"] if i["target"]]
    year_start = date(figures["scope"]["year"], 1, 1).isoformat()
    return [
        {
            "id": "chart-areas",
            "categories": [a["name"] for a in areas],
            "series": [
                {
                    "name": label,
                    "color": color,
                    "values": [a[key] for a in areas],
                    "links": [links.cases(kind, area=a["code"], light=light) for a in areas],
                }
                for key, label, color, kind, light in (
                    ("active_cases", "在办办件", "#5b8def", "active", None),
                    ("yellow", "黄灯环节", "#f2b705", "open", "yellow"),
                    ("red", "红灯环节", "#d9363e", "open", "red"),
                    ("supervised", "本期督办", "#7c3aed", "supervised", None),
                )
            ],
        },
        {
            "id": "chart-processes",
            "horizontal": True,
            "categories": [p["name"] for p in figures["processes"]],
            "series": [
                {
                    "name": "在办办件",
                    "color": "#5b8def",
                    "values": [p["active_cases"] for p in figures["processes"]],
                    "links": [
                        links.cases("active", process=p["process_id"]) for p in figures["processes"]
                    ],
                }
            ],
        },
        {
            "id": "chart-steps",
            "horizontal": True,
            "unit": "个工作日",
            "categories": [f"{s['name']}（{s['process_name']}）" for s in steps],
            "series": [
                {
                    "name": name,
                    "color": color,
                    "values": [s[key] for s in steps],
                    "links": [
                        links.cases("finished", process=s["process_id"], step=s["step"])
                        for s in steps
                    ],
                }
                for key, name, color in (
                    ("avg_workdays", "平均工作日", "#5b8def"),
                    ("p90_workdays", "90%办结工作日", "#f08a24"),
                )
            ],
        },
        {
            "id": "chart-indicators",
            "horizontal": True,
            "unit": "%",
            "categories": [i["name"] for i in indicators],
            "series": [
                {
                    "name": "年度目标完成率",
                    "color": "#16a34a",
                    "values": [round((i["progress"] or 0) * 100, 1) for i in indicators],
                    "links": [
                        links.cases("indicator", indicator=i["key"], since=year_start)
                        for i in indicators
                    ],
                }
            ],
        },
    ]
