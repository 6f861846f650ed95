"""A report's figures as the tables every rendering shows (the HTML page, the workbook's
sheets and the PDF), so the three can never disagree: each table has a Chinese name (the
sheet's), its columns with a format, and its rows of plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .reports_periods import RANKED
from .reports_rankings import AVG_DAYS, ON_TIME, OVERDUE, SUPERVISION

TEXT, COUNT, RATE, DAYS = "text", "count", "rate", "days"
MEASURES = {m.key: m for m in (ON_TIME, AVG_DAYS, OVERDUE, SUPERVISION)}
MEASURE_FORMATS = {ON_TIME.key: RATE, AVG_DAYS.key: DAYS, OVERDUE.key: COUNT, SUPERVISION.key: RATE}


TOTALS = (
    ("在办办件", "active_cases", COUNT),
    ("在办环节", "open_steps", COUNT),
    ("黄灯环节", "yellow", COUNT),
    ("红灯环节", "red", COUNT),
    ("本期办结环节", "finished", COUNT),
    ("逾期办结环节", "late", COUNT),
    ("按期办结率", "on_time_rate", RATE),
    ("本期督办", "supervised", COUNT),
)


@dataclass(frozen=True)
class Column:
    name: str
    format: str = COUNT


@dataclass(frozen=True)
class ReportTable:
    name: str  # the sheet's name (at most 31 characters)
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]


def show(value: Any, fmt: str) -> str:
    """A cell as the page and the PDF print it."""
    if value is None:
        return "—"
    if fmt == RATE:
        return f"{value * 100:.2f}%"
    if fmt == DAYS:
        return f"{value:.1f}"
    return str(value)


def report_tables(kind: str, figures: dict[str, Any]) -> list[ReportTable]:
    totals = figures["totals"]
    tables = [
        ReportTable(
            "总体情况",
            tuple(Column(label, fmt) for label, _key, fmt in TOTALS),
            (tuple(totals[key] for _label, key, _fmt in TOTALS),),
        ),
        _units("各地对比", "区域", figures["areas"]),
        _units("各部门情况", "部门", figures["departments"]),
    ]
    if kind == "bulletin":
        return tables
    tables.append(
        ReportTable(
            "耗时最长的环节",
            (
                Column("流程", TEXT),
                Column("环节", TEXT),
                Column("办结环节"),
                Column("平均工作日", DAYS),
                Column("90%办结工作日"),
                Column("超期占比", RATE),
            ),
            tuple(
                (
                    s["process_name"],
                    s["name"],
                    s["finished"],
                    s["avg_workdays"],
                    s["p90_workdays"],
                    s["overdue_share"],
                )
                for s in figures["steps"]
            ),
        )
    )
    tables.append(
        ReportTable(
            "年度指标完成情况",
            (
                Column("指标", TEXT),
                Column("单位", TEXT),
                Column("本期", DAYS),
                Column("本年累计", DAYS),
                Column("年度目标", DAYS),
                Column("完成进度", RATE),
            ),
            tuple(
                (i["name"], i["unit"], i["value"], i["year_value"], i["target"], i["progress"])
                for i in figures["indicators"]
            ),
        )
    )
    if kind in RANKED:
        rankings = figures["rankings"]
        tables.append(_ranking("各地排名（晾晒）", "区域", rankings["areas"], rankings["measures"]))
        tables.append(
            _ranking("部门排名（晾晒）", "部门", rankings["departments"], rankings["measures"])
        )
    return tables


def _units(name: str, label: str, rows: list[dict[str, Any]]) -> ReportTable:
    return ReportTable(
        name,
        (
            Column(label, TEXT),
            Column("在办环节"),
            Column("红灯"),
            Column("黄灯"),
            Column("办结环节"),
            Column("逾期办结"),
            Column("按期办结率", RATE),
            Column("平均办理工作日", DAYS),
            Column("督办"),
        ),
        tuple(
            (
                r["name"],
                r["open_steps"],
                r["red"],
                r["yellow"],
                r["finished"],
                r["late"],
                r["on_time_rate"],
                r["avg_workdays"],
                r["supervised"],
            )
            for r in rows
        ),
    )


def _ranking(name: str, label: str, rows: list[dict[str, Any]], keys: list[str]) -> ReportTable:
    columns = [Column(label, TEXT)]
    for key in keys:
        columns += [Column(MEASURES[key].name, MEASURE_FORMATS[key]), Column("名次")]
    return ReportTable(
        name,
        tuple(columns),
        tuple((r["name"], *[v for key in keys for v in (r[key], r[f"{key}_rank"])]) for r in rows),
    )
