"""Camunda 7 attributes that mean what one of ours means, rewritten into our dialect: form
keys, multi-instance collections, due dates, call-activity variable passing, `${...}`
expressions and ISO timer texts (decisions: camunda_decisions, candidate groups:
camunda_routing). Each mapper takes the attributes it imports off the element; whatever is left
is listed by camunda_import."""

from __future__ import annotations

import json
import re

from lxml import etree

from . import juel
from .camunda_decisions import Decisions, map_decision
from .camunda_model import (
    Context,
    bpmn,
    camunda_extensions,
    local,
    pop,
    properties,
    set_property,
)
from .xml import NSMAP

_FORM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_DAYS = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?$")
_ISO_TIME = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.,]+$|^(R\d*/)?\d{4}-\d{2}-\d{2}[0-9T:.Z+/-]*$")
_CAMUNDA_VARIABLES = re.compile(
    r"\b(nrOfInstances|nrOfActiveInstances|nrOfCompletedInstances|loopCounter)\b"
    r"|\b(execution|task|authenticatedUserId)\b(?=\.)"
)
_IMPLEMENTATION = ("class", "delegateExpression", "expression", "type", "topic", "resultVariable")
_MI_ORDER = (
    "loopCardinality",
    "loopDataInputRef",
    "loopDataOutputRef",
    "inputDataItem",
    "outputDataItem",
    "complexBehaviorDefinition",
    "completionCondition",
)
_NO_CODE = "Landflow 不执行 Java 类、表达式、连接器或外部任务：此环节按空任务导入，办件到此直接通过"


def map_element(ctx: Context, element: etree._Element, decisions: Decisions) -> None:
    kind = local(element)
    mapper = _MAPPERS.get(kind)
    if mapper is not None:
        mapper(ctx, element)
    elif kind == "businessRuleTask" and not map_decision(ctx, element, decisions):
        _no_code(ctx, element)
    for holder in camunda_extensions(element, "properties"):
        for prop in holder:
            if isinstance(prop.tag, str) and local(prop) == "property" and prop.get("name"):
                set_property(element, prop.get("name"), prop.get("value") or "")
        holder.getparent().remove(holder)


# ---- forms, routing and time limits of human tasks --------------------------------------
def form_name(key: str) -> tuple[str | None, bool]:
    """A form key as the name of a form in forms/, and whether it had to be shortened
    (`embedded:app:forms/opinion.html` → `opinion`)."""
    key = key.strip()
    if _FORM_NAME.match(key):
        return key, False
    if juel.is_expression(key) or "${" in key:
        return None, False
    tail = re.split(r"[:/]", key)[-1]
    base = tail.rsplit(".", 1)[0] if "." in tail else tail
    return (base, True) if _FORM_NAME.match(base) else (None, False)


def _form(ctx: Context, element: etree._Element, target: etree._Element, name: str) -> None:
    for attribute in ("formKey", "formRef"):
        value = pop(element, attribute)
        if value is None:
            continue
        form, shortened = form_name(value)
        if form is None:
            ctx.warn(
                element,
                attribute,
                value,
                "表单键是表达式或无法识别，未导入：请写 forms/ 下的表单名（如 opinion）",
            )
            continue
        set_property(target, name, form)
        if shortened:
            ctx.warn(
                element,
                attribute,
                value,
                f"按表单名“{form}”导入（forms/{form}.json）；Camunda 的表单位置前缀不适用",
            )
    binding, version = pop(element, "formRefBinding"), pop(element, "formRefVersion")
    if (binding and binding != "latest") or version:
        ctx.warn(
            element,
            "formRefBinding",
            binding or version,
            "Landflow 使用 forms/ 中的当前表单，不按版本绑定",
        )


def _user_task(ctx: Context, task: etree._Element) -> None:
    _form(ctx, task, task, "formKey")
    groups = pop(task, "candidateGroups")
    if groups:
        ctx.candidate_groups.append((task, groups))
    due = pop(task, "dueDate")
    if due is not None:
        _due_date(ctx, task, due)


def _due_date(ctx: Context, task: etree._Element, value: str) -> None:
    match = _DAYS.match(value.strip())
    if not match or not (match.group(1) or match.group(2)):
        ctx.warn(
            task,
            "dueDate",
            value,
            "只有按天或周计的 ISO 期间（如 P5D、P2W）能导入为办理时限；日期、小时和表达式未导入",
        )
        return
    if "sla_statutory" in properties(task):
        ctx.warn(task, "dueDate", value, "环节已设 sla_statutory（法定时限），dueDate 未导入")
        return
    days = int(match.group(1) or 0) * 7 + int(match.group(2) or 0)
    set_property(task, "sla_statutory", f"{days}d")


def _start_event(ctx: Context, event: etree._Element) -> None:
    parent = event.getparent()
    if local(parent) == "process":
        _form(ctx, event, parent, "startFormKey")
        return
    for attribute in ("formKey", "formRef"):
        value = pop(event, attribute)
        if value:
            ctx.warn(event, attribute, value, "子流程的开始事件没有表单，已忽略")


# ---- code and scripts ----------------------------------------------------------------------
def _no_code(ctx: Context, element: etree._Element) -> None:
    """A task whose work was Java code or an external worker runs as a task that does nothing
    (SpiffWorkflow refuses a service task without an operator of its own)."""
    found = [(a, pop(element, a)) for a in _IMPLEMENTATION]
    for attribute, value in found:
        if value is not None:
            ctx.warn(element, attribute, value, _NO_CODE)
    kind = local(element)
    if kind == "sendTask" and element.get("messageRef") and not any(v for _, v in found):
        return
    if element.xpath(
        "./bpmn:extensionElements/spiffworkflow:serviceTaskOperator", namespaces=NSMAP
    ):
        return
    if kind in ("serviceTask", "sendTask", "businessRuleTask"):
        if not any(v for _, v in found):
            ctx.warn(element, f"bpmn:{kind}", element.get("name") or "", _NO_CODE)
        for attribute in ("implementation", "operationRef", "messageRef"):
            element.attrib.pop(attribute, None)
        element.tag = bpmn("scriptTask")  # a plain bpmn:task would wait for a person
        etree.SubElement(element, bpmn("script")).text = "pass"


def _script(ctx: Context, task: etree._Element) -> None:
    if pop(task, "resource"):
        ctx.refuse(task, "脚本来自外部资源（camunda:resource），无法导入：请把脚本写进模型")
    result = pop(task, "resultVariable")
    if result:
        ctx.warn(task, "resultVariable", result, "脚本的返回值不写入变量：请在脚本中直接赋值")
    language = (task.get("scriptFormat") or "").lower()
    script = task.find(bpmn("script"))
    if language not in ("", "python", "python3", "jython") and (
        script is not None and (script.text or "").strip()
    ):
        ctx.refuse(
            task,
            f"脚本语言 {task.get('scriptFormat')} 无法在 Landflow 中执行：请改写为受限表达式语言"
            "（Python 语法子集，见 docs/expressions.md）",
        )


# ---- multi-instance and call activities ---------------------------------------------------
def _multi_instance(ctx: Context, loop: etree._Element) -> None:
    collection, item = pop(loop, "collection"), pop(loop, "elementVariable")
    if collection is None:
        if item:
            ctx.warn(loop, "elementVariable", item, "没有 camunda:collection，元素变量无意义")
        return
    if loop.find(bpmn("loopDataInputRef")) is not None:
        ctx.warn(loop, "collection", collection, "已有 loopDataInputRef，camunda:collection 未导入")
        return
    name = juel.variable_of(collection)
    if name is None:
        ctx.refuse(
            loop,
            f"多实例集合“{collection}”不是一个变量，无法导入：请先用脚本把集合算进变量，"
            "再写 ${变量名}",
        )
        return
    cardinality = loop.find(bpmn("loopCardinality"))
    if cardinality is not None:
        loop.remove(cardinality)
        ctx.warn(loop, "collection", collection, "有集合时循环次数（loopCardinality）不再使用")
    reference = etree.Element(bpmn("loopDataInputRef"))
    reference.text = name
    _insert_ordered(loop, reference)
    if item is None:
        return
    if juel.variable_of(item) != item:
        ctx.refuse(loop, f"元素变量“{item}”不是合法的变量名")
    elif ctx.root.xpath("//*[@id=$id]", id=item):
        ctx.refuse(loop, f"元素变量“{item}”与模型中某个元素的 id 相同，请改名")
    else:
        _insert_ordered(loop, etree.Element(bpmn("inputDataItem"), id=item, name=item))


def _insert_ordered(loop: etree._Element, child: etree._Element) -> None:
    rank = _MI_ORDER.index(local(child))
    for index, existing in enumerate(loop):
        if isinstance(existing.tag, str) and local(existing) in _MI_ORDER[rank + 1 :]:
            loop.insert(index, child)
            return
    loop.append(child)


def _call_activity(ctx: Context, call: etree._Element) -> None:
    binding = pop(call, "calledElementBinding")
    if binding and binding != "latest":
        ctx.warn(
            call,
            "calledElementBinding",
            binding,
            "被调用流程在部署时与本流程一并编译，不按版本绑定",
        )
    for attribute in ("calledElementVersion", "calledElementVersionTag", "calledElementTenantId"):
        value = pop(call, attribute)
        if value:
            ctx.warn(call, attribute, value, "被调用流程在部署时与本流程一并编译，不按版本绑定")
    if "${" in (call.get("calledElement") or ""):
        ctx.refuse(call, "被调用流程（calledElement）是表达式，无法导入：请写流程的 id")
    for passing in camunda_extensions(call, "in") + camunda_extensions(call, "out"):
        if dict(passing.attrib) != {"variables": "all"}:
            described = " ".join(f"{k}={v}" for k, v in passing.attrib.items())
            ctx.warn(
                call,
                local(passing),
                described,
                "被调用流程读取调用方的全部数据，结束时结果整体带回，不按单个变量映射",
            )
        passing.getparent().remove(passing)


# ---- expressions and timers ---------------------------------------------------------------
def _expression(ctx: Context, element: etree._Element) -> None:
    if pop(element, "resource"):
        ctx.refuse(element, "表达式来自外部资源（camunda:resource），无法导入")
        return
    language = (element.get("language") or "").lower()
    text = element.text or ""
    if language not in ("", "juel", "python") and text.strip():
        ctx.refuse(
            element, f"{element.get('language')} 脚本条件无法在 Landflow 中执行：请改写为表达式"
        )
        return
    if juel.is_expression(text):
        _translate(ctx, element, text)


def _translate(ctx: Context, element: etree._Element, text: str) -> None:
    try:
        translated = juel.translate(text)
    except juel.NotTranslatable as exc:
        ctx.refuse(element, f"表达式“{text.strip()}”无法转换：{exc}")
        return
    builtin = _CAMUNDA_VARIABLES.search(translated)
    if builtin:
        ctx.refuse(
            element, f"Camunda 内置变量 {builtin.group(0)} 在 Landflow 中不可用：“{text.strip()}”"
        )
        return
    element.text = translated


def _timer(ctx: Context, element: etree._Element) -> None:
    text = (element.text or "").strip()
    if not text:
        return
    if juel.is_expression(text):
        _translate(ctx, element, text)
    elif _ISO_TIME.match(text):
        element.text = json.dumps(text)
    elif local(element) == "timeCycle" and " " in text:
        ctx.refuse(element, f"不支持 cron 周期“{text}”：请写 ISO 8601 重复期间（如 R3/P1D）")


_MAPPERS = {
    "userTask": _user_task,
    "startEvent": _start_event,
    "serviceTask": _no_code,
    "sendTask": _no_code,
    "scriptTask": _script,
    "multiInstanceLoopCharacteristics": _multi_instance,
    "callActivity": _call_activity,
    "conditionExpression": _expression,
    "completionCondition": _expression,
    "loopCardinality": _expression,
    "timeDuration": _timer,
    "timeDate": _timer,
    "timeCycle": _timer,
}
