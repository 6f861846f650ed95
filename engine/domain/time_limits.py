"""Time-limit rules as data, in plain Python: which limit a step (or a whole case) gets, and the
legal figures the clocks enforce.

A rule names a process, a task (or '*' for the case-wide limit), a region prefix ('' for
everywhere) and a kind: statutory (法定时限), committed (承诺时限) or overall (办理总时限).
Region prefixes are GB/T 2260 code prefixes: '33' is 浙江省, '3307' 金华市, '330702' 婺城区; the
longest prefix that the case's region starts with wins."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .calendar import WorkCalendar
from .sla import Limit, Unit, YellowRule, exceeds, parse_limit

STATUTORY, COMMITTED, OVERALL = "statutory", "committed", "overall"
KINDS = (STATUTORY, COMMITTED, OVERALL)
KIND_NAMES = {STATUTORY: "法定时限", COMMITTED: "承诺时限", OVERALL: "办理总时限"}
CASE_WIDE = "*"
BASIS_MAX = 300
_REGION = re.compile(r"^\d{0,12}$")

# 行政许可法 §32: a 补正 is notified at once or within 5 (working) days of receiving the
# application; later, the application counts as accepted from the day it was received.
SUPPLEMENT_NOTICE_WORKDAYS = 5
SUPPLEMENT_BASIS = "行政许可法第三十二条"
# 行政许可法 §42 (working days by §82): 20 days + 10 with the head's approval; joint handling
# (联合办理) 45 + 15.
JOINT_HANDLING = Limit(45, Unit.WORKDAYS)
EXTENSION_BASIS = "行政许可法第四十二条"


@dataclass(frozen=True)
class LimitRule:
    process_id: str
    task_spec: str
    region_prefix: str
    kind: str
    limit: str
    yellow: str | None = None
    max_extension: int | None = None
    basis: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.process_id, self.task_spec, self.region_prefix, self.kind)

    def parsed(self) -> Limit:
        return parse_limit(self.limit)


def normalise_region(text: str | None) -> str:
    """A region prefix: digits only; a 6-digit county-level code ending in zeros stands for its
    province or city ('330000' → '33', '330700' → '3307')."""
    value = (text or "").strip()
    if not _REGION.match(value):
        raise ValueError(f"区划前缀应为数字（GB/T 2260 代码或其前缀），不是“{value}”")
    if len(value) == 6:
        if value.endswith("0000"):
            return value[:2]
        if value.endswith("00"):
            return value[:4]
    return value


def most_specific(rules: Iterable[LimitRule], region: str) -> LimitRule | None:
    """The rule whose region prefix is the longest one `region` starts with."""
    matching = [r for r in rules if region.startswith(r.region_prefix)]
    return max(matching, key=lambda r: len(r.region_prefix), default=None)


def effective(rules: Iterable[LimitRule], region: str) -> dict[str, LimitRule]:
    """Per kind, the rule that applies to a case in `region`."""
    by_kind: dict[str, list[LimitRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, []).append(rule)
    found = {kind: most_specific(group, region) for kind, group in by_kind.items()}
    return {kind: rule for kind, rule in found.items() if rule is not None}


def rule_problems(rule: LimitRule) -> list[tuple[str, str]]:
    """What is wrong with one rule: (field, message in Chinese) pairs; empty if nothing."""
    problems = []
    if not rule.process_id.strip():
        problems.append(("process_id", "缺少流程标识"))
    if not rule.task_spec.strip():
        problems.append(("task_spec", "缺少环节标识（整个办件用 *）"))
    if rule.kind not in KINDS:
        problems.append(("kind", f"时限种类应为 {'、'.join(KINDS)}，不是“{rule.kind}”"))
    elif (rule.kind == OVERALL) != (rule.task_spec == CASE_WIDE):
        problems.append(
            ("kind", "办理总时限只能设在整个办件（环节为 *）上，环节只能设法定或承诺时限")
        )
    try:
        rule.parsed()
    except ValueError:
        problems.append(
            ("limit", f"时限应写作“5wd”（工作日）或“20d”（自然日），不是“{rule.limit}”")
        )
    if rule.yellow:
        try:
            YellowRule.parse(rule.yellow)
        except ValueError:
            problems.append(
                (
                    "yellow",
                    f"黄灯规则应写作“1wd”（剩余天数）或“80%”（已用比例），不是“{rule.yellow}”",
                )
            )
    if rule.max_extension is not None and not 0 <= rule.max_extension <= 60:
        problems.append(("max_extension", "最长延期应为 0 到 60 天"))
    if rule.basis and len(rule.basis) > BASIS_MAX:
        problems.append(("basis", f"依据不能超过 {BASIS_MAX} 个字符"))
    try:
        normalise_region(rule.region_prefix)
    except ValueError as exc:
        problems.append(("region_prefix", str(exc)))
    return problems


def consistency_problems(rules: Iterable[LimitRule]) -> list[str]:
    """Committed ≤ statutory wherever both apply: for every task, in every region some rule of
    the task names (the most specific rule of each kind decides)."""
    by_task: dict[tuple[str, str], list[LimitRule]] = {}
    for rule in rules:
        by_task.setdefault((rule.process_id, rule.task_spec), []).append(rule)
    problems = []
    for (process_id, task_spec), group in sorted(by_task.items()):
        for region in sorted({r.region_prefix for r in group}):
            applying = effective(group, region)
            statutory, committed = applying.get(STATUTORY), applying.get(COMMITTED)
            if statutory is None or committed is None:
                continue
            try:
                too_long = exceeds(committed.parsed(), statutory.parsed())
            except ValueError:
                continue  # reported by rule_problems
            if too_long:
                where = f"（区划 {region}）" if region else ""
                problems.append(
                    f"{process_id}/{task_spec}{where}：承诺时限 {committed.limit} "
                    f"超过法定时限 {statutory.limit}"
                )
    return problems


def legal_max_extension(kind: str, limit: Limit) -> int | None:
    """The longest extension the law allows a statutory clock (§42): 15 days for joint handling
    (45 working days), 10 otherwise. Other clocks have no legal figure."""
    if kind != STATUTORY:
        return None
    return 15 if limit == JOINT_HANDLING else 10


def supplement_notice_deadline(calendar: WorkCalendar, received: date) -> date:
    """The last day a 补正 may be notified for an application received on `received` (§32)."""
    return calendar.add_workdays(received, SUPPLEMENT_NOTICE_WORKDAYS)


# ---- the file an administrator edits ---------------------------------------------------------
FILE_COLUMNS = (
    "process_id",
    "task_spec",
    "task_name",
    "region_prefix",
    "committed",
    "statutory",
    "overall",
    "yellow",
    "max_extension",
    "basis",
)


def parse_rules_csv(text: str) -> tuple[list[LimitRule], list[str]]:
    """Rules from processes/time_limits.csv: one row per task (or '*' for the case), with a
    column per kind; `task_name` is for the reader. Returns the rules and the problems, each
    naming its line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in FILE_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [f"第 1 行：缺少列 {', '.join(missing)}"]
    rules: list[LimitRule] = []
    problems: list[str] = []
    seen: set[tuple[str, str, str, str]] = set()
    for line, row in enumerate(reader, start=2):
        values = {k: (row.get(k) or "").strip() for k in FILE_COLUMNS}
        try:
            region = normalise_region(values["region_prefix"])
            extension = int(values["max_extension"]) if values["max_extension"] else None
        except ValueError as exc:
            problems.append(f"第 {line} 行：{exc}")
            continue
        kinds = [k for k in KINDS if values[k]]
        if not kinds:
            problems.append(f"第 {line} 行：没有任何时限")
        for kind in kinds:
            rule = LimitRule(
                process_id=values["process_id"],
                task_spec=values["task_spec"],
                region_prefix=region,
                kind=kind,
                limit=values[kind],
                yellow=values["yellow"] or None,
                max_extension=extension if kind != COMMITTED else None,
                basis=values["basis"] or None,
            )
            problems.extend(f"第 {line} 行：{m}" for _, m in rule_problems(rule))
            if rule.key in seen:
                problems.append(f"第 {line} 行：{'/'.join(rule.key)} 重复")
            seen.add(rule.key)
            rules.append(rule)
    problems.extend(consistency_problems(rules))
    return rules, problems
