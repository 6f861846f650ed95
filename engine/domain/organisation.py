"""Regions, department types and the routing rule, in plain Python.

A lane names a department type and a level; a task goes to the department of that type at the
ancestor of the case's region at that level (婺城区's parcel → 婺城区's 自然资源和规划局)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LEVELS = ("province", "city", "county", "township", "village")
LEVEL_NAMES = {
    "province": "省",
    "city": "市",
    "county": "县（区）",
    "township": "乡镇（街道）",
    "village": "村",
}

DEPARTMENT_TYPES: dict[str, str] = {
    "zrzy": "自然资源和规划局",
    "fgw": "发展和改革委员会",
    "cz": "财政局",
    "sw": "税务局",
    "sthj": "生态环境局",
    "zj": "住房和城乡建设局",
    "nync": "农业农村局",
    "sl": "水利局",
    "jx": "经济和信息化局",
    "ggzy": "公共资源交易中心",
    "bdc": "不动产登记中心",
    "zf": "人民政府",
    "ldxz": "领导小组办公室",
    "xz": "乡镇人民政府",
    "dzz": "村党组织",
    "cwh": "村民委员会",
    "jjzz": "村集体经济组织",
    "cmxz": "村民小组",
    "applicant": "申请人",
}
LEADERSHIP_OFFICE = "ldxz"

ROLES: dict[str, str] = {
    "handler": "经办",
    "approver": "负责人",
    "supervisor": "督办",
    "office": "领导小组办公室",
    "admin": "管理员",
}


def level_rank(level: str) -> int:
    try:
        return LEVELS.index(level)
    except ValueError:
        raise ValueError(f"unknown level '{level}'; use one of {', '.join(LEVELS)}") from None


def department_code(dept_type: str, region_code: str) -> str:
    return f"{dept_type}.{region_code}"


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    parent: str | None
    path: str  # ancestor codes joined by "/", ending in "/": "330000/330700/330702/"


def region_path(parent_path: str | None, code: str) -> str:
    return f"{parent_path or ''}{code}/"


def ancestor_at(path: str, level: str, levels_by_code: Mapping[str, str]) -> str | None:
    """The region on `path` (a case region's path) at `level`, if the tree has one."""
    for code in path.strip("/").split("/"):
        if levels_by_code.get(code) == level:
            return code
    return None


@dataclass(frozen=True)
class RouteTarget:
    """Where a task should go: a department type at a region; `problem` when it cannot."""

    dept_type: str | None
    region: str | None
    problem: str | None = None

    @property
    def department(self) -> str | None:
        if self.problem or not self.dept_type or not self.region:
            return None
        return department_code(self.dept_type, self.region)


def route_target(
    case_path: str,
    levels_by_code: Mapping[str, str],
    lane: Mapping[str, str],
    explicit_type: str | None = None,
    explicit_department: str | None = None,
) -> RouteTarget:
    """Resolve a task's target from its lane and any explicit routing of the diagram."""
    if explicit_department:
        explicit_dept_type, _, explicit_region = explicit_department.partition(".")
        return RouteTarget(explicit_dept_type, explicit_region)
    dept_type = explicit_type or lane.get("dept_type")
    level = lane.get("level")
    if not dept_type:
        return RouteTarget(None, None, "the task's lane names no department type")
    if dept_type not in DEPARTMENT_TYPES:
        return RouteTarget(dept_type, None, f"unknown department type '{dept_type}'")
    if not level:
        return RouteTarget(dept_type, None, "the task's lane names no level")
    region = ancestor_at(case_path, level, levels_by_code)
    if region is None:
        return RouteTarget(
            dept_type,
            None,
            f"the case's region has no {LEVEL_NAMES.get(level, level)} level above it",
        )
    return RouteTarget(dept_type, region)
