"""Everything the task page shows, gathered from the services: the task and its case, the
application as labelled fields, the earlier opinions, the documents, the time limits, the
form, and the actions this user may take (task_offers.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from engine.domain.sla import local_day
from engine.domain.time_limits import supplement_notice_deadline
from engine.errors import FieldError, LandflowError, ValidationFailed
from engine.services.actor import Actor
from engine.services.case_summary import application, next_steps
from engine.services.container import Landflow
from engine.services.opinions import STANCE_LABELS, case_opinions

from .form_fields import errors_by_field, fields_of
from .rendering import landflow, render
from .task_offers import offers_for

DONE_NOTICES = {
    "claim": "已认领，请办理。",
    "unclaim": "已取消认领，本环节回到部门待认领。",
    "draft": "已暂存。下次打开本环节时会带出暂存的内容。",
    "transfer": "已转办。",
    "delegate": "已委托。受托人办理后交回，由您办结。",
    "resolve": "已交回委托人。",
    "suspend": "已中止计时。",
    "resume": "已恢复计时。",
    "extension": "已提交延期申请，待本部门负责人审批。",
    "approved": "已批准延期，期限已重新计算。",
    "rejected": "已不予延期。",
}


def task_page(
    request: Request,
    actor: Actor,
    task_id: str,
    status: int = 200,
    values: dict[str, Any] | None = None,
    refused: LandflowError | None = None,
    action: str = "",
    posted: Any = None,
) -> HTMLResponse:
    """The task page; after a refused action, the refusal next to that action's inputs (or, for
    the form's own actions, next to the fields) with what was typed kept."""
    lf = landflow(request)
    context = gather(lf, actor, task_id)
    task = context["task"]
    form_values = values if values is not None else (task.get("draft") or {})
    context["fields"] = fields_of(task["form"], form_values)
    if refused is not None and action in ("complete", "draft", "resolve"):
        problems = refused.errors if isinstance(refused, ValidationFailed) else []
        errors, form_errors = errors_by_field(context["fields"], problems)
        if not problems:
            form_errors = [refused.message]
        context.update(errors=errors, form_errors=form_errors, error_summary=refused.message)
    elif refused is not None:
        context["action_error"] = _action_error(action, refused)
        context["posted"] = {k: posted.get(k) for k in posted} if posted is not None else {}
    done = request.query_params.get("done", "")
    context["done_notice"] = DONE_NOTICES.get(done, "")
    return render(request, "task.html", actor, status=status, **context)


def gather(lf: Landflow, actor: Actor, task_id: str) -> dict[str, Any]:
    task = lf.inbox.get(actor, task_id)
    case = lf.instances.get(actor, task["instance_id"])
    clocks = lf.sla.task_clocks(actor, task_id)
    zone = ZoneInfo(lf.settings.timezone)
    deadline = supplement_notice_deadline(
        lf.calendar.current(), local_day(datetime.fromisoformat(case["created_at"]), zone)
    )
    may_hand_on = task["state"] == "open" and (
        task["assignee"] in actor.principals() or actor.is_admin
    )
    colleagues = lf.tasks.colleagues(actor, task_id) if may_hand_on and task["can_act"] else []
    offers = offers_for(
        actor,
        task,
        clocks,
        colleagues,
        bool(case.get("incidents")),
        local_day(lf.clock.now(), zone),
        deadline,
    )
    attachments = _attachments(lf, actor, task_id)
    start_form = next(
        (
            v["start_form_key"]
            for v in lf.definitions.list_versions(case["process_id"])
            if v["version"] == case["version"]
        ),
        None,
    )
    every_opinion = case_opinions(case, lf.forms)
    own = [o for o in every_opinion if o["task_id"] == task_id]
    return {
        "task": task,
        "case": case,
        "clocks": clocks,
        "offers": offers,
        "application": application(case, lf.forms, start_form),
        "opinions": [o for o in every_opinion if o["task_id"] != task_id],
        "own_opinion": own[-1] if own else None,
        "stance_labels": STANCE_LABELS,
        "next_steps": next_steps(case, task_id) if task["state"] == "done" else None,
        "suspension": _open_suspension(clocks),
        **attachments,
    }


def _attachments(lf: Landflow, actor: Actor, task_id: str) -> dict[str, Any]:
    """The case's documents and the step's 材料清单 (attachments_panel.html), when the
    attachments service is part of this build."""
    service = getattr(lf, "attachments", None)
    if service is None:
        return {"attachments": [], "materials": []}
    return service.for_task(actor, task_id)


def _open_suspension(clocks: dict[str, Any]) -> dict[str, Any] | None:
    suspensions = [s for s in clocks.get("suspensions") or [] if s.get("ended_at") is None]
    return suspensions[-1] if suspensions else None


def _action_error(action: str, refused: LandflowError) -> dict[str, Any]:
    problems: list[FieldError] = refused.errors if isinstance(refused, ValidationFailed) else []
    fields: dict[str, list[str]] = {}
    for problem in problems:
        fields.setdefault(problem.field, []).append(problem.message)
    return {
        "action": action,
        "fields": fields,
        "message": refused.message if not problems else f"{refused.message}，请按提示修改。",
    }
