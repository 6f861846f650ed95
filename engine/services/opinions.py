"""Opinions (意见) as first-class records: which fields of a form hold a step's decision and its
reason, what the decision means (同意 / 不同意 / 修改意见), the rule that a reason is required
when not agreeing, and every step's opinion on a case (who, department, when, opinion, reason).

A form says where its opinion is with `"x-opinion": {"decision": "<field>", "reason":
"<field>", "stances": {"<option>": "agree" | "disagree" | "modify"}}` (paths may be dotted
for an object field, e.g. `review_opinion.conclusion`). Without it the fields are found by
name and title: the decision is an option field named …decision / …conclusion / …outcome /
…result / …opinion (or titled …结论 / …结果 / …意见), the reason a text field beside it named
…opinion / …remark / …comments / …note / …reason (or titled with 意见 / 理由 / 说明). A form
without a decision field has an opinion only in a text field titled …意见 (审查意见)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import FieldError, ValidationFailed

from .case_summary import choices, display, schema_or_none
from .forms import FormRegistry

AGREE, DISAGREE, MODIFY = "agree", "disagree", "modify"
STANCE_LABELS = {AGREE: "同意", DISAGREE: "不同意", MODIFY: "修改意见"}
RETURNED = "returned"  # a 退回 is an opinion too: the step sent the case back, with a reason
OPINION = "x-opinion"

_DECISION_NAME = re.compile(r"(^|_)(decision|conclusion|outcome|result|opinion)$")
_DECISION_TITLE = re.compile(r"(结论|结果|意见)$")
_REASON_NAME = re.compile(r"(^|_)(opinion|remark|comments?|note|reason)$")
_REASON_TITLE = re.compile(r"意见|理由|说明")
_SUFFIX = re.compile(r"_?(decision|conclusion|outcome|result|opinion)$")
_AGREEING = ("无修改意见", "不成立")
_MODIFYING = ("修改", "退回", "整改", "重新", "补正", "督促")
_DISAGREEING = ("不同意", "不予", "不批准", "不合格", "不通过", "无效", "不入库")
_REFUSALS = ("退出", "异议成立")


@dataclass(frozen=True)
class OpinionFields:
    decision: tuple[str, ...] | None  # path of the option field, e.g. ("bank_decision",)
    reason: tuple[str, ...] | None  # path of the text field
    stances: Mapping[str, str]  # option → agree | disagree | modify

    @property
    def decision_name(self) -> str | None:
        return ".".join(self.decision) if self.decision else None

    @property
    def reason_name(self) -> str | None:
        return ".".join(self.reason) if self.reason else None

    def not_agreeing(self) -> list[str]:
        return [option for option, stance in self.stances.items() if stance != AGREE]


def stance_of(option: Any) -> str:
    """What an option means, from its words: 退回修改 → modify, 不予入库 → disagree, 同意报批 →
    agree. Forms whose options these words misread declare `x-opinion.stances`."""
    text = str(option)
    if any(word in text for word in _AGREEING):
        return AGREE
    if any(word in text for word in _MODIFYING):
        return MODIFY
    if any(word in text for word in _DISAGREEING) or text in _REFUSALS:
        return DISAGREE
    return AGREE


def opinion_fields(schema: Mapping[str, Any] | None) -> OpinionFields | None:
    """Where a form keeps its opinion, or None for a form without one."""
    if not schema:
        return None
    declared = schema.get(OPINION)
    if isinstance(declared, Mapping):
        decision = _path(declared.get("decision"))
        prop = _at(schema, decision) if decision else None
        stances = {_key(v): stance_of(v) for v, _ in choices(prop or {})}
        stances.update({str(k): str(v) for k, v in (declared.get("stances") or {}).items()})
        return OpinionFields(decision, _path(declared.get("reason")), stances)
    for prefix, props in _objects(schema):
        decision = next((n for n, p in props.items() if _is_decision(n, p)), None)
        reason = _reason_beside(props, decision)
        if decision is None and (reason is None or "意见" not in str(props[reason].get("title"))):
            continue  # without a decision only a text titled 意见 is an opinion
        stances = {_key(v): stance_of(v) for v, _ in choices(props[decision])} if decision else {}
        return OpinionFields(
            (*prefix, decision) if decision else None,
            (*prefix, reason) if reason else None,
            stances,
        )
    return None


def opinion_of(schema: Mapping[str, Any] | None, data: Mapping[str, Any] | None) -> dict | None:
    """{"decision", "stance", "stance_label", "reason"} of what a step submitted, or None when
    its form has no opinion or nothing of it was filled."""
    fields = opinion_fields(schema)
    if fields is None or not isinstance(data, Mapping):
        return None
    value = _value(data, fields.decision)
    reason = _value(data, fields.reason)
    reason = reason.strip() if isinstance(reason, str) else ""
    if value in (None, "") and not reason:
        return None
    decision = display(_at(schema, fields.decision), value) if value not in (None, "") else ""
    stance = fields.stances.get(_key(value)) if value not in (None, "") else None
    return {
        "decision": decision,
        "stance": stance,
        "stance_label": STANCE_LABELS.get(stance or "", ""),
        "reason": reason,
    }


def missing_reason(schema: Mapping[str, Any] | None, data: Any) -> list[FieldError]:
    """The reason is required when the decision does not agree (不同意, 修改意见)."""
    fields = opinion_fields(schema)
    if fields is None or fields.decision is None or fields.reason is None:
        return []
    if not isinstance(data, Mapping):
        return []
    value = _value(data, fields.decision)
    if value in (None, "") or fields.stances.get(_key(value), AGREE) == AGREE:
        return []
    reason = _value(data, fields.reason)
    if isinstance(reason, str) and reason.strip():
        return []
    title = str(_at(schema, fields.reason).get("title") or "理由")
    return [
        FieldError(fields.reason_name or "", f"{title}：选择“{_plain(value)}”时必填，请写明理由")
    ]


def validate_with_opinion(
    forms: FormRegistry, form_key: str | None, data: Any, case: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The form's validation plus the opinion rule, reported together."""
    schema = schema_or_none(forms, form_key)
    missing = missing_reason(schema, data)
    try:
        clean = forms.validate(form_key, data, case)
    except ValidationFailed as refused:
        named = {e.field for e in refused.errors}
        extra = [e for e in missing if e.field not in named]
        if not extra:
            raise
        raise ValidationFailed(refused.message, [*refused.errors, *extra]) from None
    if missing:
        raise ValidationFailed("表单数据未通过校验", missing)
    return clean


def case_opinions(case: Mapping[str, Any], forms: FormRegistry) -> list[dict[str, Any]]:
    """Every step's opinion on the case, in order: {"task_id", "step", "department", "by",
    "on_behalf_of", "at", "decision", "stance", "stance_label", "reason"} for each completed
    step that gave one, and for each 退回 (stance "returned", its reason)."""
    tasks = {t["id"]: t for t in case.get("tasks", [])}
    found = []
    for entry in case.get("history", []):
        task = tasks.get(entry.get("task_id") or "")
        details = entry.get("details") or {}
        if task is None:
            continue
        if entry["action"] == "task_completed":
            opinion = details.get("opinion")
            if not isinstance(opinion, Mapping):
                opinion = opinion_of(
                    schema_or_none(forms, task.get("form_key")), details.get("data")
                )
            if not opinion:
                continue
        elif entry["action"] == "task_returned":
            opinion = {
                "decision": f"退回至“{details.get('to_name') or ''}”",
                "stance": RETURNED,
                "stance_label": "退回",
                "reason": str(details.get("reason") or ""),
            }
        else:
            continue
        found.append(
            {
                "task_id": task["id"],
                "step": task["title"],
                "department": task.get("department"),
                "by": entry["actor"],
                "on_behalf_of": entry.get("on_behalf_of"),
                "at": entry["at"],
                **opinion,
            }
        )
    return found


# ---- internals ----------------------------------------------------------------------------
def _objects(schema: Mapping[str, Any]):
    """The form's own fields, then those of each object field (one level down)."""
    props = schema.get("properties") or {}
    yield (), props
    for name, prop in props.items():
        if isinstance(prop, Mapping) and prop.get("type") == "object":
            yield (name,), prop.get("properties") or {}


def _is_decision(name: str, prop: Any) -> bool:
    if not isinstance(prop, Mapping) or not choices(prop) or prop.get("type") == "array":
        return False
    title = re.sub(r"（[^（）]*）$", "", str(prop.get("title", "")))
    return bool(_DECISION_NAME.search(name) or _DECISION_TITLE.search(title))


def _reason_beside(props: Mapping[str, Any], decision: str | None) -> str | None:
    texts = [
        name
        for name, prop in props.items()
        if name != decision
        and isinstance(prop, Mapping)
        and prop.get("type") == "string"
        and not choices(prop)
        and prop.get("format") != "date"
        and (_REASON_NAME.search(name) or _REASON_TITLE.search(str(prop.get("title", ""))))
    ]
    if decision:
        stem = _SUFFIX.sub("", decision)
        texts.sort(key=lambda n: not (stem and n.startswith(stem)))
    return texts[0] if texts else None


def _path(value: Any) -> tuple[str, ...] | None:
    return tuple(str(value).split(".")) if isinstance(value, str) and value else None


def _at(schema: Mapping[str, Any] | None, path: tuple[str, ...] | None) -> Mapping[str, Any]:
    node: Any = schema or {}
    for step in path or ():
        node = (node.get("properties") or {}).get(step, {}) if isinstance(node, Mapping) else {}
    return node if isinstance(node, Mapping) else {}


def _value(data: Mapping[str, Any], path: tuple[str, ...] | None) -> Any:
    node: Any = data
    for step in path or ():
        node = node.get(step) if isinstance(node, Mapping) else None
    return node if path else None


def _key(value: Any) -> str:
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def submitted_opinion(forms: FormRegistry, form_key: str | None, data: Any) -> dict | None:
    """The opinion a step's submission carries (recorded with its completion)."""
    return opinion_of(schema_or_none(forms, form_key), data)
