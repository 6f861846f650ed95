"""后台任务: the jobs that are due, scheduled, running, held or failed, in Chinese, with the last
error; retrying a failed one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import Conflict
from engine.services.actor import Actor
from engine.services.admin_console import admin_console
from engine.services.admin_jobs import GROUPS
from engine.services.reports_periods import KIND_NAMES

from .admin_access import AdminDep
from .rendering import check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
KIND_LABELS = {
    "timer": "定时器",
    "sla": "时限提醒",
    "digest": "每日汇总",
    "deliver": "消息发送",
    "report": "定期报告",
    "rollup": "看板汇总重算",
}
GROUP_LABELS = {
    "due": "到期待执行",
    "scheduled": "计划中",
    "running": "执行中",
    "held": "暂停（办件异常）",
    "failed": "失败",
}
RUNG_LABELS = {"yellow": "黄灯提醒", "red": "超期（红灯）"}


@router.get("/admin/jobs")
def jobs_page(
    request: Request,
    actor: AdminDep,
    group: str = "due",
    kind: str = "",
    page: int = 1,
    done: str = "",
) -> HTMLResponse:
    return _render(
        request,
        actor,
        group,
        kind,
        page,
        flash="任务已重新排入队列，将在下一轮执行" if done else "",
    )


@router.post("/admin/jobs/{job_id}/retry")
async def retry(request: Request, job_id: int, actor: AdminDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    try:
        admin_console(landflow(request)).jobs.retry(actor, job_id)
    except Conflict as exc:
        return _render(request, actor, "failed", "", 1, status=409, message=exc.message)
    return RedirectResponse(f"/admin/jobs?{urlencode({'group': 'due', 'done': job_id})}", 303)


def _render(
    request: Request,
    actor: Actor,
    group: str,
    kind: str,
    page: int,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    jobs = admin_console(landflow(request)).jobs
    counts = jobs.counts(actor)
    listed = jobs.list(actor, group, kind if kind in KIND_LABELS else None, max(page, 1))
    for job in listed["items"]:
        job["what"] = _what(job)
    return render(
        request,
        "admin_jobs.html",
        actor,
        status=status,
        counts=counts,
        listed=listed,
        group=listed["group"],
        kind=kind if kind in KIND_LABELS else "",
        groups={g: GROUP_LABELS[g] for g in GROUPS},
        kind_labels=KIND_LABELS,
        message=context.get("message", ""),
        flash=context.get("flash", ""),
    )


def _what(job: dict[str, Any]) -> str:
    """What the job does, in words."""
    payload: dict[str, Any] = job["payload"] or {}
    if job["kind"] == "timer":
        return f"计时到期：{payload.get('name') or job['target']}"
    if job["kind"] == "sla":
        rung = str(payload.get("rung", ""))
        if rung.startswith("red+"):
            label = f"超期 {rung[4:]} 个工作日督办"
        else:
            label = RUNG_LABELS.get(rung, rung)
        clock = {"statutory": "法定时限", "committed": "承诺时限", "overall": "总时限"}
        return f"{clock.get(payload.get('clock') or '', '时限')}：{label}"
    if job["kind"] == "digest":
        return f"每日汇总：{payload.get('user', '')}"
    if job["kind"] == "deliver":
        return f"发送消息（编号 {payload.get('delivery', '')}）"
    if job["kind"] == "report":
        return f"生成{KIND_NAMES.get(job['target'], '报告')}"
    if job["kind"] == "rollup":
        return "按当前工作日历重算看板的月度汇总"
    return job["target"]
