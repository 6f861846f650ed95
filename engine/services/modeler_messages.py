"""The engine's parse messages in Chinese for the modeler. The compiler, SpiffWorkflow's parser
and the BPMN schema speak English (they are also read in logs and by the API's deployers);
what reaches an administrator in the modeler goes through `translate` first. A message no
pattern knows keeps its text after 引擎解析未通过： (say so in the report of a new one)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .modeler_diff import TYPE_LABELS

_BPMN_ELEMENT = r"'\{[^}]*\}(?P<element>\w+)'"
_EXPRESSION_KINDS = {
    "conditionExpression": "条件",
    "script": "脚本",
    "preScript": "前置脚本",
    "postScript": "后置脚本",
    "timeDate": "定时（到期时间）",
    "timeDuration": "定时（等待时长）",
    "timeCycle": "定时（重复周期）",
    "loopCardinality": "多实例次数",
    "completionCondition": "多实例完成条件",
}
_LIMIT_HINT = "工作日写作 5wd，自然日写作 20d，黄灯阈值写作 1wd 或 80%"
_LIMITS = {
    "sla_statutory": "法定时限",
    "sla_committed": "承诺时限",
    "sla_overall": "办理总时限",
    "sla_yellow": "黄灯阈值",
}


def _xml(detail: str) -> str:
    for pattern, chinese in _XML_DETAILS:
        found = re.match(pattern, detail)
        if found:
            return chinese.format(**found.groupdict())
    return "XML 格式错误，请检查所在行的标签是否完整、成对"


_XML_DETAILS: list[tuple[str, str]] = [
    (
        r"Opening and ending tag mismatch: (?P<open>\S+) line (?P<line>\d+) and (?P<close>[^\s,]+)",
        "XML 格式错误：第 {line} 行的开始标签 {open} 与结束标签 {close} 不匹配",
    ),
    (r"Premature end of data", "XML 格式错误：文件不完整（缺少结束标签）"),
    (r"Start tag expected", "XML 格式错误：文件不是 XML"),
    (r"Document is empty", "XML 格式错误：文件是空的"),
    (r"Extra content at the end of the document", "XML 格式错误：文档结束后还有多余内容"),
    (r"Couldn't find end of Start Tag (?P<tag>\S+)", "XML 格式错误：标签 {tag} 没有结束"),
    (r"attributes construct error", "XML 格式错误：属性写法有误"),
    (r"Attribute (?P<name>\S+) redefined", "XML 格式错误：属性 {name} 重复"),
    (
        r"Namespace prefix (?P<prefix>\S+) .*not defined",
        "XML 格式错误：前缀 {prefix} 未声明",
    ),
]

# (pattern, Chinese template or a function of the match); first match wins
_PATTERNS: list[tuple[str, str | Callable[[re.Match[str]], str]]] = [
    (r"malformed XML: (?P<detail>.*)", lambda m: _xml(m["detail"])),
    (r"only \.bpmn and \.dmn files can be deployed", "只能部署 .bpmn 和 .dmn 文件"),
    (
        r"not valid BPMN 2\.0: Element " + _BPMN_ELEMENT + r": This element is not expected",
        "不符合 BPMN 2.0 规范：{element}不应出现在这里",
    ),
    (
        r"not valid BPMN 2\.0: Element " + _BPMN_ELEMENT + r", attribute '(?P<attr>[^']+)': "
        r"The attribute '[^']+' is not allowed",
        "不符合 BPMN 2.0 规范：{element}不能有属性 {attr}",
    ),
    (
        r"not valid BPMN 2\.0: Element " + _BPMN_ELEMENT + r", attribute 'id': '(?P<id>[^']*)' "
        r"is not a valid value of the atomic type 'xs:ID'",
        "不符合 BPMN 2.0 规范：{element}的标识“{id}”重复或不是有效的标识",
    ),
    (
        r"not valid BPMN 2\.0: Element " + _BPMN_ELEMENT + r", attribute '(?P<attr>[^']+)'",
        "不符合 BPMN 2.0 规范：{element}的属性 {attr} 取值无效",
    ),
    (
        r"not valid BPMN 2\.0: Element " + _BPMN_ELEMENT + r": Missing child element",
        "不符合 BPMN 2.0 规范：{element}缺少必需的子元素",
    ),
    (
        r"not valid BPMN 2\.0: Element " + _BPMN_ELEMENT,
        "不符合 BPMN 2.0 规范：{element}的写法不符合规范",
    ),
    (r"not valid BPMN 2\.0", "不符合 BPMN 2.0 规范"),
    (r"DOCTYPE and ENTITY declarations are not allowed", "不允许 DOCTYPE 和 ENTITY 声明"),
    (r"No start event found", "流程没有开始事件"),
    (r"The process '(?P<id>[^']*)' was not found", "找不到被调用的流程“{id}”"),
    (r"No DMN Diagram available with id \"(?P<id>[^\"]*)\"", "找不到决策表“{id}”"),
    (r"Time Specification Error", "定时器没有设置时间，或时间写法无法识别"),
    (
        r"sequence flow sourceRef '(?P<ref>[^']*)' names no element of process '(?P<p>[^']*)'",
        "顺序流的起点“{ref}”不是流程“{p}”中的元素",
    ),
    (
        r"sequence flow targetRef '(?P<ref>[^']*)' names no element of process '(?P<p>[^']*)'",
        "顺序流的终点“{ref}”不是流程“{p}”中的元素",
    ),
    (
        r"return_to '(?P<t>[^']*)' names no user task of process '(?P<p>[^']*)'",
        "可退回环节“{t}”不是流程“{p}”中的人工环节",
    ),
    (r"the committed limit \(承诺时限\) exceeds the statutory one", "承诺时限不能长于法定时限"),
    (
        r"(?P<key>sla_statutory|sla_committed|sla_overall|sla_yellow): ",
        lambda m: f"{_LIMITS[m['key']]}无法识别：{_LIMIT_HINT}",
    ),
    (
        r"merge rules need a joining gateway",
        "合并规则只能设在汇聚网关上（有两条及以上流入的并行或包容网关）",
    ),
    (
        r"merge: unknown rule '(?P<v>[^']*)' \(use (?P<known>[^)]*)\)",
        "汇聚规则“{v}”无法识别（可用 {known}）",
    ),
    (r"(?P<key>merge:\S+): '(?P<v>[^']*)' is not a variable name", "{key}：“{v}”不是变量名"),
    (
        r"(?P<key>merge:\S+): unknown rule '(?P<v>[^']*)' \(use (?P<known>[^)]*)\)",
        "{key}：合并规则“{v}”无法识别（可用 {known}）",
    ),
    (
        r"collect: unknown value '(?P<v>[^']*)' \(known: (?P<known>[^)]*)\)",
        "collect 的值“{v}”无法识别（可用 {known}）",
    ),
    (r"collect: '[^']*' is not a multi-instance task", "collect（按项汇总）只能用于多实例环节"),
    (
        r"collect: the multi-instance task needs a loop input",
        "按项汇总的多实例环节须有循环输入（loopDataInputRef）",
    ),
    (
        r"collect: the multi-instance task needs an output",
        "按项汇总的多实例环节须有输出（loopDataOutputRef）",
    ),
    (
        r"(?P<kind>" + "|".join(_EXPRESSION_KINDS) + r"): ",
        lambda m: f"{_EXPRESSION_KINDS[m['kind']]}不符合受限表达式语言的要求",
    ),
    (
        r"TypeError\(|AttributeError\(|KeyError\(",
        "引擎无法解析此元素（常见原因：引用的消息、信号或数据对象不存在）",
    ),
]
_COMPILED = [(re.compile(p), t) for p, t in _PATTERNS]


def _readable(values: dict[str, str | None]) -> dict[str, str]:
    """Element names in Chinese (人工环节（userTask）), rule lists joined the Chinese way."""
    readable = {k: v or "" for k, v in values.items()}
    if readable.get("element"):
        name = readable["element"]
        readable["element"] = f"{TYPE_LABELS[name]}（{name}）" if name in TYPE_LABELS else name
    if readable.get("known"):
        readable["known"] = "、".join(re.split(r",\s*|\s+or\s+", readable["known"]))
    return readable


def translate(message: str) -> str:
    """The message in Chinese; a text already Chinese is returned as it is."""
    text = message.strip().rstrip(". ").strip()
    if not re.search(r"[A-Za-z]{3}", text) or re.match(r"^[^A-Za-z]*[\u4e00-\u9fff]", text):
        return text
    for pattern, template in _COMPILED:
        found = pattern.match(text)
        if found:
            if callable(template):
                return template(found)
            return template.format(**_readable(found.groupdict()))
    return f"引擎解析未通过：{text}"
