"""The indicators the offices track against yearly targets (新增耕地, 高标准农田, 入市, 宅基地退出…)
and where the cases record them, as data an administrator edits: `processes/dispatch_indicators.csv`

    indicator,name,unit,process_id,task_spec,field,factor
    new_farmland,新增耕地,亩,consolidation_project,certify_new_farmland,new_farmland_mu,1
    entry_parcels,集体经营性建设用地入市,宗,joint_review_entry,sign_contract,,

A row says: a case of `process_id` whose step `task_spec` was finished in the period counts
towards `indicator` with its case-data `field` times `factor` (no field: the case counts as 1).
An indicator may have several rows (新增耕地 from consolidation projects and from homestead
withdrawals); a case counts once per row even if the step was done twice. Targets are per year
and region (table dispatch_targets)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Float, case, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from engine.db.tables import HumanTask, Instance
from engine.errors import DefinitionInvalid, DefinitionProblem

from .dashboard_scope import Scope

INDICATORS_FILE = "dispatch_indicators.csv"
COLUMNS = ("indicator", "name", "unit", "process_id", "task_spec", "field", "factor")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,119}$")
TASKS = HumanTask.__table__
INSTANCES = Instance.__table__


@dataclass(frozen=True)
class Source:
    process_id: str
    task_spec: str
    field: str | None
    factor: float


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    unit: str
    sources: tuple[Source, ...]


class IndicatorCatalog:
    """The mapping file, re-read when it changes; a broken file is refused with its lines."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / INDICATORS_FILE
        self._mtime: float | None = None
        self._indicators: tuple[Indicator, ...] = ()

    def all(self) -> tuple[Indicator, ...]:
        if not self.path.is_file():
            return ()
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:
            self._indicators = parse_indicators(self.path.read_text(encoding="utf-8"))
            self._mtime = mtime
        return self._indicators

    def get(self, key: str) -> Indicator | None:
        return next((i for i in self.all() if i.key == key), None)


def parse_indicators(text: str) -> tuple[Indicator, ...]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise _invalid([f"第 1 行：表头应为 {','.join(COLUMNS)}"])
    found: dict[str, tuple[str, str, list[Source]]] = {}
    messages: list[str] = []
    for line, row in enumerate(reader, start=2):
        values = {k: (row.get(k) or "").strip() for k in COLUMNS}
        wrong = _row_problem(values)
        if wrong:
            messages.append(f"第 {line} 行：{wrong}")
            continue
        name, unit, sources = found.setdefault(
            values["indicator"], (values["name"], values["unit"], [])
        )
        if (name, unit) != (values["name"], values["unit"]):
            messages.append(f"第 {line} 行：指标 {values['indicator']} 的名称或单位与前面不一致")
            continue
        sources.append(
            Source(
                values["process_id"],
                values["task_spec"],
                values["field"] or None,
                float(values["factor"] or 1),
            )
        )
    if messages:
        raise _invalid(messages)
    return tuple(
        Indicator(key, name, unit, tuple(sources)) for key, (name, unit, sources) in found.items()
    )


def _row_problem(values: dict[str, str]) -> str | None:
    if not _KEY.match(values["indicator"]):
        return "指标代码应为小写字母、数字和下划线"
    if not values["name"] or not values["unit"]:
        return "缺少指标名称或单位"
    if not values["process_id"] or not values["task_spec"]:
        return "缺少流程或环节"
    if values["field"] and not _FIELD.match(values["field"]):
        return f"字段名 {values['field']} 无效"
    try:
        factor = float(values["factor"] or 1)
    except ValueError:
        return f"系数 {values['factor']} 不是数字"
    if factor <= 0:
        return "系数应大于 0"
    return None


def _invalid(messages: list[str]) -> DefinitionInvalid:
    return DefinitionInvalid([DefinitionProblem(INDICATORS_FILE, m) for m in messages])


def counted_cases(scope: Scope, source: Source):
    """The ids of the cases a source counts in the scope's period (a SELECT of instance ids)."""
    return (
        select(TASKS.c.instance_id)
        .where(
            TASKS.c.process_id == source.process_id,
            TASKS.c.task_spec == source.task_spec,
            TASKS.c.state == "done",
            TASKS.c.completed_at >= scope.start,
            TASKS.c.completed_at < scope.end,
            scope.within(TASKS.c.region_path),
        )
        .distinct()
    )


def indicator_totals(
    session: Session, scope: Scope, indicators: tuple[Indicator, ...]
) -> tuple[dict[str, float], dict[str, float]]:
    """Each indicator's total in the scope's period and in its target year up to the period's
    end, in one pass: the sources are grouped by the step that records them, each step's cases
    are read once with the last time the step was finished (a case counts in a range when it
    finished the step in it), and one UNION ALL holds one aggregate per step."""
    dialect = session.get_bind().dialect.name
    year_start = datetime.combine(date(scope.year, 1, 1), time.min, scope.zone)
    first = min(scope.start, year_start)
    by_step: dict[tuple[str, str], list[tuple[str, Source]]] = {}
    for indicator in indicators:
        for source in indicator.sources:
            by_step.setdefault((source.process_id, source.task_spec), []).append(
                (indicator.key, source)
            )
    width = max(
        (len({s.field for _, s in found if s.field}) for found in by_step.values()), default=0
    )
    parts, plans = [], []
    for n, ((process_id, task_spec), sources) in enumerate(by_step.items()):
        done = (
            select(TASKS.c.instance_id, func.max(TASKS.c.completed_at).label("done_at"))
            .where(
                TASKS.c.process_id == process_id,
                TASKS.c.task_spec == task_spec,
                TASKS.c.state == "done",
                TASKS.c.completed_at >= first,
                TASKS.c.completed_at < scope.end,
                scope.within(TASKS.c.region_path),
            )
            .group_by(TASKS.c.instance_id)
            .subquery()
        )
        ranges = (done.c.done_at >= scope.start, done.c.done_at >= year_start)
        fields = sorted({s.field for _, s in sources if s.field})
        columns: list[ColumnElement[Any]] = [func.count(case((within, 1))) for within in ranges]
        for field in fields:
            value = _number(field, dialect)
            columns += [cast(func.sum(case((within, value))), Float) for within in ranges]
        columns += [cast(null(), Float)] * (2 * (width - len(fields)))
        query = select(literal(n), *columns)
        if fields:
            query = query.select_from(done.join(INSTANCES, INSTANCES.c.id == done.c.instance_id))
        else:
            query = query.select_from(done)
        parts.append(query)
        plans.append((fields, sources))
    period = {i.key: 0.0 for i in indicators}
    year = dict(period)
    if not parts:
        return period, year
    for row in session.execute(union_all(*parts)):
        fields, sources = plans[row[0]]
        for offset, totals in ((0, period), (1, year)):
            values: dict[str | None, Any] = {None: row[1 + offset]}
            values.update({f: row[3 + 2 * i + offset] for i, f in enumerate(fields)})
            for key, source in sources:
                totals[key] += float(values[source.field] or 0) * source.factor
    return _rounded(period), _rounded(year)


def _rounded(totals: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 4) for key, value in totals.items()}


def _number(field: str, dialect: str):
    """A numeric case-data field (anything else counts as nothing: SQLite's sum() takes a
    non-numeric text as 0, PostgreSQL reads numbers only)."""
    value = INSTANCES.c.data[field]
    if dialect == "postgresql":
        return case((func.jsonb_typeof(value) == "number", cast(value.as_float(), Float)))
    return func.json_extract(INSTANCES.c.data, f"$.{field}")
