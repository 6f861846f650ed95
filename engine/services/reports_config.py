"""Who receives which scheduled report: `processes/report_recipients.json` maps a
leadership-group office (its department code, `ldxz.<region>`) to the kinds of report issued
for its region and the users each goes to, e.g.

    {"ldxz.330700": {"weekly": ["ldxz.330700"], "monthly": ["ldxz.330700", "admin"]}}

An office listed here gets its scheduled reports issued (even with no recipient); the file is
read whenever it is needed, so a change applies at the next issue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.errors import FieldError, ValidationFailed

from .reports_periods import KINDS

RECIPIENTS_FILE = "report_recipients.json"


@dataclass(frozen=True)
class OfficeReports:
    office: str  # department code, ldxz.330700
    region: str  # 330700
    kinds: dict[str, tuple[str, ...]]  # kind -> usernames


def read_recipients(processes_dir: Path) -> list[OfficeReports]:
    path = processes_dir / RECIPIENTS_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise _invalid(f"{RECIPIENTS_FILE} 不是有效的 JSON：{exc}") from exc
    if not isinstance(data, dict):
        raise _invalid(f"{RECIPIENTS_FILE} 应为对象：办公室代码 → {{报告类型: [用户名]}}")
    offices = []
    for office, kinds in data.items():
        if office.startswith("_"):  # comments
            continue
        if "." not in office or not isinstance(kinds, dict):
            raise _invalid(
                f"{RECIPIENTS_FILE}：{office} 应为 ldxz.<区划代码> → {{报告类型: [用户名]}}"
            )
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise _invalid(f"{RECIPIENTS_FILE}：{office} 的报告类型 {'、'.join(unknown)} 无效")
        if not all(
            isinstance(u, list) and all(isinstance(x, str) for x in u) for u in kinds.values()
        ):
            raise _invalid(f"{RECIPIENTS_FILE}：{office} 的接收人应为用户名列表")
        offices.append(
            OfficeReports(office, office.rsplit(".", 1)[1], {k: tuple(v) for k, v in kinds.items()})
        )
    return offices


def recipients_for(offices: list[OfficeReports], region: str, kind: str) -> list[str]:
    return sorted({u for o in offices if o.region == region for u in o.kinds.get(kind, ())})


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed("报告接收人配置无效", [FieldError(RECIPIENTS_FILE, message)])
