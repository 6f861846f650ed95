"""Camunda candidate groups as our lane routing.

A candidate group names a department type and, after a colon, the level of the case's region
it is looked up at: `zrzy:county` is the 自然资源和规划局 of the case's county. The type may be
an expression, `${review_dept}:county` (in Camunda that evaluates to the same text): the task
then goes to the department type the variable holds — per instance when the variable is the
multi-instance element variable. Without a level, the level of the task's lane or the only
level the type exists at (villages' and townships' types) is used. The task is placed in a lane
that carries these properties (created when no drawn lane does), since routing reads lanes."""

from __future__ import annotations

import re

from lxml import etree

from engine.domain.organisation import DEPARTMENT_TYPES, LEVEL_NAMES, LEVELS

from .camunda_model import Context, bpmn, local, properties, set_property

_GROUP = re.compile(
    r"^(?:\$\{\s*(?P<variable>[A-Za-z_][A-Za-z0-9_]*)\s*\}|(?P<type>[a-z]+))(?::(?P<level>[a-z]+))?$"
)
_NATURAL_LEVEL = {"dzz": "village", "cwh": "village", "jjzz": "village", "cmxz": "village"}
_NATURAL_LEVEL |= {"applicant": "village", "xz": "township"}
_EXPLICIT = ("dept_types_from", "dept_type_from", "departments_from", "department_from")
_BEFORE_LANES = {
    "documentation",
    "extensionDefinitions",
    "extensionElements",
    "supportedInterfaceRef",
    "ioSpecification",
    "ioBinding",
    "auditing",
    "monitoring",
    "property",
    "laneSet",
}
_HOW = "候选组写作“部门类型:层级”，如 zrzy:county 或 ${review_dept}:county"


def route_candidate_groups(ctx: Context) -> None:
    for task, value in ctx.candidate_groups:
        _route(ctx, task, value)


def warn_unroutable(ctx: Context) -> None:
    """Human tasks that no lane or explicit property routes would wait for nobody."""
    for kind in ("userTask", "manualTask"):
        for task in ctx.root.iter(bpmn(kind)):
            props = properties(task)
            lane = _lane_properties(task)
            if any(props.get(k) for k in _EXPLICIT) and lane.get("level"):
                continue
            if props.get("departments_from") or props.get("department_from"):
                continue
            if lane.get("dept_type") and lane.get("level"):
                continue
            ctx.warn(
                task,
                "candidateGroups",
                "",
                "环节没有派发规则，办件到此将无人可办：请设置候选组（"
                + _HOW
                + "），或放入设有 dept_type 和 level 属性的泳道",
            )


def _route(ctx: Context, task: etree._Element, value: str) -> None:
    groups = [g.strip() for g in value.split(",") if g.strip()]
    chosen = None
    for group in groups:
        match = _GROUP.match(group)
        known = match and (match.group("variable") or match.group("type") in DEPARTMENT_TYPES)
        level_ok = match and (match.group("level") is None or match.group("level") in LEVELS)
        if not (known and level_ok):
            ctx.warn(task, "candidateGroups", group, f"候选组“{group}”不是部门类型：{_HOW}")
        elif chosen is not None:
            ctx.warn(
                task, "candidateGroups", group, "Landflow 把环节派发给一个部门，其余候选组已忽略"
            )
        else:
            chosen = match
    if chosen is None:
        return
    variable, dept_type = chosen.group("variable"), chosen.group("type")
    lane = _lane_properties(task)
    level = chosen.group("level") or lane.get("level") or _NATURAL_LEVEL.get(dept_type or "")
    if level is None:
        ctx.warn(task, "candidateGroups", value, f"候选组没有指明层级：{_HOW}")
        return
    wanted = {"level": level}
    if variable:
        loop = task.find(bpmn("multiInstanceLoopCharacteristics"))
        item = loop.find(bpmn("inputDataItem")) if loop is not None else None
        collection = loop.find(bpmn("loopDataInputRef")) if loop is not None else None
        if item is not None and collection is not None and item.get("id") == variable:
            set_property(task, "dept_types_from", (collection.text or "").strip())
        else:
            set_property(task, "dept_type_from", variable)
    else:
        wanted["dept_type"] = dept_type
    if all(lane.get(k) == v for k, v in wanted.items()):
        return
    _move_to_lane(ctx, task, wanted)


def _lane_properties(task: etree._Element) -> dict[str, str]:
    """The properties of the innermost lane holding the task (the last flowNodeRef naming it
    in the document, as SpiffWorkflow reads lanes)."""
    found = None
    for ref in task.getroottree().getroot().iter(bpmn("flowNodeRef")):
        if (ref.text or "").strip() == task.get("id"):
            found = ref.getparent()
    return properties(found) if found is not None else {}


def _move_to_lane(ctx: Context, task: etree._Element, wanted: dict[str, str]) -> None:
    process = task.getparent()
    while process is not None and local(process) != "process":
        process = process.getparent()
    if process is None:
        return
    for ref in list(process.iter(bpmn("flowNodeRef"))):
        if (ref.text or "").strip() == task.get("id"):
            ref.getparent().remove(ref)
    lane = _lane_for(ctx, process, wanted)
    ref = etree.Element(bpmn("flowNodeRef"))
    ref.text = task.get("id")
    child_set = lane.find(bpmn("childLaneSet"))
    if child_set is not None:
        child_set.addprevious(ref)
    else:
        lane.append(ref)


def _lane_for(ctx: Context, process: etree._Element, wanted: dict[str, str]) -> etree._Element:
    key = (process.get("id"), tuple(sorted(wanted.items())))
    if key in ctx.created_lanes:
        return ctx.created_lanes[key]
    lanes = list(process.iter(bpmn("lane")))
    level_name = LEVEL_NAMES.get(wanted["level"], wanted["level"])
    dept = DEPARTMENT_TYPES.get(wanted.get("dept_type", ""), "（按变量指定的部门）")
    name = f"{level_name}{dept}"
    if any(lane.get("name") == name for lane in lanes):
        name = f"{name}（候选组）"
    lane_set = process.find(bpmn("laneSet"))
    if lane_set is None:
        lane_set = etree.Element(bpmn("laneSet"), id=ctx.unique_id(f"laneset_{process.get('id')}"))
        position = 0
        for index, child in enumerate(process):
            if isinstance(child.tag, str) and local(child) not in _BEFORE_LANES:
                break
            position = index + 1
        process.insert(position, lane_set)
    suffix = "_".join(wanted.get(k, "") for k in ("dept_type", "level") if wanted.get(k))
    lane = etree.SubElement(lane_set, bpmn("lane"), id=ctx.unique_id(f"lane_camunda_{suffix}"))
    lane.set("name", name)
    for prop in ("dept_type", "level"):
        if prop in wanted:
            set_property(lane, prop, wanted[prop])
    ctx.created_lanes[key] = lane
    return lane
