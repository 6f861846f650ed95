"""Case numbers (办件编号, e.g. 入市2026-00012) and the matter a case is about (事项名称, e.g.
古方村 12.5亩 工业用地入市), from `processes/case_numbering.json`, content an admin edits:

    {"joint_review_entry": {
        "prefix": "入市",
        "title": ["{region} ", "{parcel_area_mu}亩 ", "{intended_use}用地", "入市"],
        "applicant": "entry_subject"}}

A title part whose fields are missing or empty is left out; `{region}` is the case region's
name. Numbers are counted per prefix and year in one row per counter, taken with an atomic
update so concurrent starts never share a number."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db.tables import CaseCounter
from engine.errors import DefinitionInvalid, DefinitionProblem

FILE_NAME = "case_numbering.json"
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Naming:
    prefix: str
    title: tuple[str, ...]
    applicant: str | None


class CaseNaming:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self._rules: dict[str, Naming] = {}
        self._mtime: float | None = None

    def check(self) -> None:
        """Load the file; a broken one stops start-up with what is wrong."""
        self._load()

    def rule(self, process_id: str) -> Naming | None:
        self._load()
        return self._rules.get(process_id)

    def next_number(self, session: Session, process_id: str, process_name: str, year: int) -> str:
        rule = self.rule(process_id)
        prefix = rule.prefix if rule else (process_name or process_id)[:2]
        key = f"{prefix}{year}"
        taken = session.execute(
            update(CaseCounter)
            .where(CaseCounter.key == key)
            .values(last=CaseCounter.last + 1)
            .returning(CaseCounter.last)
        ).scalar()
        if taken is None:
            try:
                with session.begin_nested():
                    session.execute(insert(CaseCounter).values(key=key, last=1))
                taken = 1
            except IntegrityError:  # another start created the counter first
                taken = session.execute(
                    update(CaseCounter)
                    .where(CaseCounter.key == key)
                    .values(last=CaseCounter.last + 1)
                    .returning(CaseCounter.last)
                ).scalar_one()
        return f"{key}-{taken:05d}"

    def title(
        self, process_id: str, process_name: str, data: dict[str, Any], region_name: str
    ) -> str:
        rule = self.rule(process_id)
        values = {**data, "region": region_name}
        parts = [_filled(part, values) for part in (rule.title if rule else ())]
        text = "".join(p for p in parts if p).strip()
        if not text or text == region_name:
            text = f"{region_name} {process_name}".strip()
        return text[:300]

    def applicant(self, process_id: str, data: dict[str, Any]) -> str | None:
        rule = self.rule(process_id)
        value = data.get(rule.applicant) if rule and rule.applicant else None
        return str(value)[:200] if isinstance(value, (str, int, float)) and value != "" else None

    def _load(self) -> None:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._rules, self._mtime = {}, None
            return
        if mtime == self._mtime:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            rules = {pid: _naming(pid, entry) for pid, entry in raw.items() if pid[:1] != "_"}
        except (ValueError, TypeError, KeyError) as exc:
            raise DefinitionInvalid(
                [DefinitionProblem(FILE_NAME, f"办件编号与事项名称配置有误：{exc}")]
            ) from exc
        self._rules, self._mtime = rules, mtime


def _naming(process_id: str, entry: dict[str, Any]) -> Naming:
    prefix = entry["prefix"]
    title = entry.get("title", [])
    if not isinstance(prefix, str) or not 1 <= len(prefix) <= 8:
        raise ValueError(f"{process_id}: prefix 应为 1 至 8 个字")
    if not isinstance(title, list) or not all(isinstance(p, str) for p in title):
        raise ValueError(f"{process_id}: title 应为文字段落的列表")
    applicant = entry.get("applicant")
    if applicant is not None and not isinstance(applicant, str):
        raise ValueError(f"{process_id}: applicant 应为字段名")
    return Naming(prefix, tuple(title), applicant)


def _filled(part: str, values: dict[str, Any]) -> str:
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        found = values.get(match.group(1))
        if found is None or found == "" or isinstance(found, (dict, list, bool)):
            missing = True
            return ""
        if isinstance(found, float) and found.is_integer():
            found = int(found)
        return str(found)

    text = _FIELD.sub(value, part)
    return "" if missing else text
