"""The differences between two versions of a diagram: elements added, removed and changed,
each change named by the property it is about (表单, 法定时限, 条件, …) with the value before
and after. Layout moves are not changes of the process and are left out."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .modeler_model import NS, local

# elements that hold the diagram's elements (their children with ids are compared one by one)
_CONTAINERS = {
    "process",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "laneSet",
    "childLaneSet",
    "collaboration",
}
_SKIPPED_CHILDREN = {"incoming", "outgoing", "flowNodeRef", "childLaneSet", "laneSet"}
TYPE_LABELS = {
    "process": "流程",
    "participant": "池",
    "lane": "泳道",
    "userTask": "人工环节",
    "manualTask": "手工环节",
    "scriptTask": "脚本环节",
    "serviceTask": "服务环节",
    "businessRuleTask": "业务规则环节",
    "sendTask": "发送环节",
    "receiveTask": "接收环节",
    "task": "环节",
    "callActivity": "调用流程",
    "subProcess": "子流程",
    "transaction": "事务子流程",
    "startEvent": "开始事件",
    "endEvent": "结束事件",
    "intermediateCatchEvent": "中间捕获事件",
    "intermediateThrowEvent": "中间抛出事件",
    "boundaryEvent": "边界事件",
    "exclusiveGateway": "排他网关",
    "parallelGateway": "并行网关",
    "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关",
    "complexGateway": "复杂网关",
    "sequenceFlow": "顺序流",
    "messageFlow": "消息流",
    "association": "关联",
    "textAnnotation": "注释",
    "dataObjectReference": "数据对象",
    "dataStoreReference": "数据存储",
}
PROPERTY_LABELS = {
    "formKey": "表单",
    "startFormKey": "发起表单",
    "dept_type": "部门类型",
    "level": "层级",
    "sla_statutory": "法定时限",
    "sla_committed": "承诺时限",
    "sla_yellow": "黄灯阈值",
    "sla_basis": "时限依据",
    "sla_overall": "办理总时限",
    "return_to": "可退回环节",
    "materials": "所需材料",
    "dept_types_from": "派发部门类型（变量）",
    "dept_type_from": "派发部门类型（变量）",
    "departments_from": "派发部门（变量）",
    "department_from": "派发部门（变量）",
    "collect": "多实例汇总方式",
}
FACT_LABELS = {
    "@name": "名称",
    "@default": "默认流向",
    "@sourceRef": "起点",
    "@targetRef": "终点",
    "@calledElement": "调用的流程",
    "@isExecutable": "可执行",
    "@attachedToRef": "所附环节",
    "@cancelActivity": "中断所附环节",
    "@processRef": "流程",
    "@scriptFormat": "脚本语言",
    "documentation": "说明",
    "conditionExpression": "条件",
    "script": "脚本",
    "text": "文字",
    "extensionElements/calledDecisionId": "决策表",
    "extensionElements/preScript": "前置脚本",
    "extensionElements/postScript": "后置脚本",
    "timerEventDefinition/timeDate": "定时（日期）",
    "timerEventDefinition/timeDuration": "定时（时长）",
    "timerEventDefinition/timeCycle": "定时（周期）",
    "messageEventDefinition/@messageRef": "消息",
    "messageEventDefinition/extensionElements/messageVariable": "消息变量",
    "multiInstanceLoopCharacteristics/@isSequential": "多实例顺序执行",
    "multiInstanceLoopCharacteristics/loopDataInputRef": "多实例输入集合",
    "multiInstanceLoopCharacteristics/loopDataOutputRef": "多实例输出集合",
    "multiInstanceLoopCharacteristics/loopCardinality": "循环次数",
    "multiInstanceLoopCharacteristics/completionCondition": "完成条件",
    "lanes": "所含环节（移出 → 加入）",
}


def diff_models(before: bytes, after: bytes) -> dict[str, list[dict[str, Any]]]:
    old, new = model_elements(before), model_elements(after)
    added = [_summary(new[i]) for i in new if i not in old]
    removed = [_summary(old[i]) for i in old if i not in new]
    changed = []
    for element_id, element in new.items():
        if element_id not in old:
            continue
        changes = _changes(old[element_id]["facts"], element["facts"])
        if changes:
            changed.append({**_summary(element), "changes": changes})
    return {"added": added, "removed": removed, "changed": changed}


def model_elements(content: bytes) -> dict[str, dict[str, Any]]:
    root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    found: dict[str, dict[str, Any]] = {}
    for element in root.iter():
        if not isinstance(element.tag, str) or not element.get("id"):
            continue
        parent = element.getparent()
        kind = local(element)
        top = kind in ("process", "collaboration") and parent is root
        if not top and (parent is None or local(parent) not in _CONTAINERS):
            continue
        if kind in ("laneSet", "childLaneSet"):
            continue
        found[element.get("id")] = {"id": element.get("id"), "type": kind, "facts": facts(element)}
    return found


def facts(element: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in element.attrib.items():
        key = etree.QName(name).localname
        if key != "id":
            found[f"@{key}"] = value
    if local(element) == "lane":
        refs = sorted((r.text or "").strip() for r in element.iterfind("bpmn:flowNodeRef", NS))
        found["lanes"] = "、".join(refs)
    for child in element:
        _collect(child, "", found)
    return found


def _collect(node: etree._Element, prefix: str, found: dict[str, str]) -> None:
    if not isinstance(node.tag, str):
        return
    kind = local(node)
    if kind in _SKIPPED_CHILDREN:
        return
    parent = node.getparent()
    if node.get("id") and parent is not None and local(parent) in _CONTAINERS:
        return  # an element of its own (inside a sub-process)
    if kind == "properties":
        for prop in node:
            if isinstance(prop.tag, str) and prop.get("name"):
                found[f"property:{prop.get('name')}"] = prop.get("value", "")
        return
    path = f"{prefix}{kind}"
    text = (node.text or "").strip()
    if text:
        found[path] = text
    for name, value in node.attrib.items():
        key = etree.QName(name).localname
        if key not in ("id", "type"):
            found[f"{path}/@{key}"] = value
    for child in node:
        _collect(child, f"{path}/", found)


def label_of(key: str) -> str:
    if key.startswith("property:"):
        name = key.removeprefix("property:")
        return PROPERTY_LABELS.get(name, f"扩展属性 {name}")
    return FACT_LABELS.get(key, key.lstrip("@"))


def _changes(before: dict[str, str], after: dict[str, str]) -> list[dict[str, Any]]:
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "lanes":  # only who left and who joined the lane
            was, now = set((old or "").split("、")) - {""}, set((new or "").split("、")) - {""}
            old, new = "、".join(sorted(was - now)) or None, "、".join(sorted(now - was)) or None
        changes.append({"property": key, "label": label_of(key), "before": old, "after": new})
    return changes


def _summary(element: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": element["id"],
        "type": element["type"],
        "type_label": TYPE_LABELS.get(element["type"], element["type"]),
        "name": element["facts"].get("@name") or element["facts"].get("text", "")[:60],
    }
