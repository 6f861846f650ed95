"""Models drawn in Camunda Modeler (Camunda 7, `xmlns:camunda="http://camunda.org/schema/1.0/bpmn"`),
rewritten into our dialect before they are compiled.

What means the same thing is mapped (camunda_mapping, camunda_routing): candidate groups → lane
routing, form keys → `formKey`/`startFormKey`, `decisionRef` → the business rule task's
decision (with `resultVariable`), `collection`/`elementVariable` → the multi-instance loop input
and item, an ISO `dueDate` in days → `sla_statutory`, `camunda:properties` → our properties,
`${...}` expressions → the restricted expression language, ISO timer texts → quoted strings.
Everything else of Camunda's is taken off the model and listed as a warning (element id,
attribute, why). What cannot run at all (a Groovy script, an expression that does not
translate) is refused like any other located deploy problem.

The stored file stays as uploaded; this runs again every time the file is compiled (each
deploy recompiles the current files), and gives the same result every time."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from .camunda_decisions import Decisions
from .camunda_mapping import map_element
from .camunda_model import (
    CAMUNDA_NS,
    Context,
    ImportResult,
    ImportWarning,
    bpmn,
    camunda_extensions,
    is_camunda,
    local,
)
from .camunda_routing import route_candidate_groups, warn_unroutable

__all__ = ["CAMUNDA_NS", "ImportResult", "ImportWarning", "is_camunda_model", "translate"]

_ASYNC = "Landflow 的每个命令在一个事务中完成，没有异步续行或作业执行器设置"
_REASONS = {
    "asyncBefore": _ASYNC,
    "asyncAfter": _ASYNC,
    "async": _ASYNC,
    "exclusive": _ASYNC,
    "jobPriority": _ASYNC,
    "failedJobRetryTimeCycle": "失败的环节由管理员在“异常”中重试，不自动重试",
    "taskPriority": "Landflow 不按优先级调度",
    "priority": "Landflow 不按优先级排序待办，待办按时限亮灯",
    "historyTimeToLive": "办件记录按 Landflow 的规定永久保留，不按历史保留期清理",
    "versionTag": "Landflow 按内容自动编排版本号，版本标签不导入",
    "candidateStarterGroups": "谁能发起办件由 Landflow 的权限规则决定",
    "candidateStarterUsers": "谁能发起办件由 Landflow 的权限规则决定",
    "isStartableInTasklist": "谁能发起办件由 Landflow 的权限规则决定",
    "assignee": "Landflow 把环节派发给部门（见候选组），不指定具体人员",
    "candidateUsers": "Landflow 把环节派发给部门（见候选组），不指定具体人员",
    "followUpDate": "预警时间由时限的黄灯阈值（sla_yellow）决定，跟进日期不导入",
    "initiator": "发起人记录在办件上（started_by），不另设变量",
    "formHandlerClass": "Landflow 不执行 Java 代码",
    "errorCodeVariable": "错误代码不写入变量",
    "errorMessageVariable": "错误信息不写入变量",
    "diagramRelationId": "建模工具的内部标识，与执行无关",
    "executionListener": "Landflow 不执行监听器（Java 类、表达式或脚本）",
    "taskListener": "Landflow 不执行监听器（Java 类、表达式或脚本）",
    "inputOutput": "环节直接读写办件数据，没有局部输入/输出参数：请在前后脚本中赋值",
    "formData": "表单字段不从模型导入：Landflow 的表单在 forms/<表单名>.json 中定义",
    "formProperty": "表单字段不从模型导入：Landflow 的表单在 forms/<表单名>.json 中定义",
    "field": "Landflow 不执行 Java 代码，字段注入不导入",
    "connector": "Landflow 不执行连接器，此环节按空任务导入",
    "potentialStarter": "谁能发起办件由 Landflow 的权限规则决定",
    "errorEventDefinition": "Landflow 不执行外部任务，错误映射不导入",
}
_DEFAULT_REASON = "Landflow 没有对应的功能，已忽略"


def is_camunda_model(tree: etree._ElementTree) -> bool:
    """A file exported by a Camunda modeler, or one using any camunda: attribute or element."""
    root = tree.getroot()
    if (root.get("exporter") or "").lower().startswith("camunda"):
        return True
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if is_camunda(element.tag) or any(is_camunda(k) for k in element.attrib):
            return True
    return False


def translate(tree: etree._ElementTree, file_name: str, files: Mapping[str, bytes]) -> ImportResult:
    """Rewrite a Camunda model in place; `files` are the other files deployed with it (the
    DMN decisions a `resultVariable` reads). A model that is not Camunda's is left alone."""
    if not is_camunda_model(tree):
        return ImportResult()
    root = tree.getroot()
    ctx = Context(file_name, root)
    decisions = Decisions(files)
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or is_camunda(element.tag):
            continue
        map_element(ctx, element, decisions)
        _list_the_rest(ctx, element)
    route_candidate_groups(ctx)
    warn_unroutable(ctx)
    for ext in list(root.iter(bpmn("extensionElements"))):
        if len(ext) == 0 and not (ext.text or "").strip():
            ext.getparent().remove(ext)
    etree.cleanup_namespaces(root)
    return ctx.result


def _list_the_rest(ctx: Context, element: etree._Element) -> None:
    """Warn about, then remove, the camunda attributes and extensions no mapper took."""
    for key in [k for k in element.attrib if is_camunda(k)]:
        name = etree.QName(key).localname
        ctx.warn(element, name, element.get(key), _REASONS.get(name, _DEFAULT_REASON))
        del element.attrib[key]
    for child in camunda_extensions(element):
        name = local(child)
        ctx.warn(element, name, _describe(child), _REASONS.get(name, _DEFAULT_REASON))
        child.getparent().remove(child)


def _describe(extension: etree._Element) -> str:
    """A one-line summary of an extension element: its attributes and named parts."""
    parts = [f"{k}={v}" for k, v in extension.attrib.items()]
    for inner in extension.iter():
        if inner is not extension and isinstance(inner.tag, str) and inner.get("name"):
            parts.append(inner.get("name"))
        elif inner is not extension and isinstance(inner.tag, str) and inner.get("id"):
            parts.append(inner.get("id"))
    text = (extension.text or "").strip()
    if text:
        parts.append(text)
    return " ".join(parts)
