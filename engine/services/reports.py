"""Dispatch reports (周报, 月调度 with its 晾晒 rankings, 季度分析, 年度总结) and ad-hoc bulletins
(不定期通报) of a leadership-group office's territory, issued as immutable snapshots: the
figures, the HTML, the workbook and the PDF are frozen when the report is issued (each with its
sha256) and never change; issuing the same kind, region and period again makes the next
version. Scheduled reports are due jobs (kind "report", one per kind) that every worker shares:
the job that fires issues the reports of the offices in processes/report_recipients.json, sends
`report_issued` to their recipients and re-arms itself for the next issue time."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.report_tables import Report, ReportFile
from engine.db.tables import Job, Region
from engine.db.types import path_prefix
from engine.domain.sla import local_day
from engine.errors import BadRequest, FieldError, NotFound, ValidationFailed

from .access import Access
from .actor import SYSTEM, Actor
from .dashboard import DashboardService
from .notify.outbox import Outbox
from .reports_bulletin import DEFAULT_BULLETIN, compose_bulletin
from .reports_config import read_recipients, recipients_for
from .reports_figures import issued_stamp, report_figures
from .reports_periods import (
    BULLETIN,
    KIND_NAMES,
    KINDS,
    MONTHLY,
    SCHEDULED,
    last_issue_at,
    next_issue_at,
    next_period_start,
    period_label,
    previous_period,
)
from .reports_render import render_html, render_pdf, render_xlsx
from .reports_tables import report_tables
from .uow import UnitOfWork

REPORT_JOB = "report"
FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
ARM_LOCK = 0x5245504F  # pg_advisory_xact_lock key: arming the schedule


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class ReportService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        access: Access,
        dashboard: DashboardService,
        outbox: Outbox,
        zone: tzinfo,
        processes_dir: Path,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.dashboard = dashboard
        self.outbox = outbox
        self.zone = zone
        self.processes_dir = processes_dir

    # ---- issuing -----------------------------------------------------------------------------
    def issue(
        self,
        actor: Actor,
        kind: str,
        region: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> dict[str, Any]:
        """Issue a report of `kind` (default period: the last whole one before today)."""
        if kind not in KINDS or kind == BULLETIN:
            raise BadRequest(f"没有报告类型 {kind}")
        self.access.require_office(actor)
        with self.uow.write() as session:
            since, until = self._period(kind, since, until)
            report = self._issue(session, actor, kind, region, since, until, "manual")
            return self._summary(report)

    def bulletin(
        self,
        actor: Actor,
        title: str,
        template: str | None = None,
        region: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> dict[str, Any]:
        """Issue a 不定期通报: a title and a text composed from `template` (placeholders such as
        ${on_time_rate}, see docs/reports.md) with the current figures, plus the figures'
        tables. Default period: the month so far."""
        self.access.require_office(actor)
        title = (title or "").strip()
        if not title or len(title) > 100:
            raise ValidationFailed("通报无效", [FieldError("title", "请填写标题（100 字以内）")])
        template = template if template and template.strip() else DEFAULT_BULLETIN
        if len(template) > 5000:
            raise ValidationFailed("通报无效", [FieldError("template", "正文不能超过 5000 字")])
        with self.uow.write() as session:
            today = self._today()
            until = until or today
            since = since or until.replace(day=1)
            report = self._issue(
                session, actor, BULLETIN, region, since, until, "manual", title, template
            )
            return self._summary(report)

    def _issue(
        self,
        session: Session,
        actor: Actor,
        kind: str,
        region: str | None,
        since: date,
        until: date,
        trigger: str,
        title: str | None = None,
        template: str | None = None,
    ) -> Report:
        now = self.clock.now()
        figures = report_figures(session, self.dashboard, actor, region, since, until)
        scope = figures["scope"]
        code = scope["region"] or ""
        version = 1 + (
            session.scalar(
                select(func.max(Report.version)).where(
                    Report.kind == kind,
                    Report.region_code == code,
                    Report.since == since,
                    Report.until == until,
                )
            )
            or 0
        )
        label = period_label(kind, since, until)
        title = title or f"{scope['region_name']}{label}{KIND_NAMES[kind]}"
        text_body = compose_bulletin(template, figures) if kind == BULLETIN else None
        head = {
            "kind": kind,
            "kind_name": KIND_NAMES[kind],
            "title": title,
            "period": label,
            "region": code,
            "region_name": scope["region_name"],
            "since": since.isoformat(),
            "until": until.isoformat(),
            "version": version,
            "issued": issued_stamp(now, self.zone),
            "issued_at": now.isoformat(),
            "by": actor.display_name,
            "text": text_body,
        }
        content = {"report": head, **figures}
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        tables = report_tables(kind, figures)
        html = render_html(head, tables, figures)
        files = {
            "xlsx": render_xlsx(head, tables, now),
            "pdf": render_pdf(head, tables, figures),
        }
        path = session.scalar(select(Region.path).where(Region.code == code)) if code else ""
        report = Report(
            kind=kind,
            region_code=code,
            region_path=path,
            region_name=scope["region_name"],
            since=since,
            until=until,
            version=version,
            title=title,
            issued_at=now,
            issued_by=actor.username,
            trigger=trigger,
            figures_json=canonical,
            figures_sha256=sha256(canonical),
            html=html,
            html_sha256=sha256(html),
        )
        session.add(report)
        session.flush()
        for fmt, data in files.items():
            session.add(
                ReportFile(
                    report_id=report.id,
                    format=fmt,
                    content=data,
                    size=len(data),
                    sha256=sha256(data),
                )
            )
        recipients = recipients_for(read_recipients(self.processes_dir), code, kind)
        if recipients:
            self.outbox.emit(
                session,
                "report_issued",
                recipients,
                now,
                payload={"report_name": title, "period": label, "report_id": report.id},
                key=f"report_issued:{report.id}",
            )
        return report

    # ---- reading -----------------------------------------------------------------------------
    def list(
        self,
        actor: Actor,
        kind: str | None = None,
        period: str | None = None,
        region: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Reports of the user's territory, newest first; `period` is a year (2026) or a
        month (2026-11) the report's period overlaps."""
        self.access.require_office(actor)
        query = select(Report)
        if not actor.is_admin:
            query = query.where(
                or_(*[path_prefix(Report.region_path, t) for t in actor.territories])
            )
        if kind:
            if kind not in KINDS:
                raise BadRequest(f"没有报告类型 {kind}")
            query = query.where(Report.kind == kind)
        if region:
            query = query.where(Report.region_code == region)
        if period:
            first, last = _period_filter(period)
            query = query.where(Report.since <= last, Report.until >= first)
        with self.uow.read() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(Report.issued_at.desc(), Report.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            return {"total": total, "items": [self._summary(r) for r in rows]}

    def get(self, actor: Actor, report_id: int) -> dict[str, Any]:
        with self.uow.read() as session:
            report = self._visible(session, actor, report_id)
            files = session.execute(
                select(ReportFile.format, ReportFile.size, ReportFile.sha256).where(
                    ReportFile.report_id == report.id
                )
            ).all()
            return {
                **self._summary(report),
                "figures": json.loads(report.figures_json),
                "figures_sha256": report.figures_sha256,
                "html": report.html,
                "html_sha256": report.html_sha256,
                "files": {f.format: {"size": f.size, "sha256": f.sha256} for f in files},
            }

    def file(self, actor: Actor, report_id: int, fmt: str) -> tuple[str, str, bytes]:
        """(file name, media type, bytes) of the report's workbook or PDF as issued."""
        if fmt not in FORMATS:
            raise NotFound(f"没有 {fmt} 格式")
        with self.uow.read() as session:
            report = self._visible(session, actor, report_id)
            data = session.scalar(
                select(ReportFile.content).where(
                    ReportFile.report_id == report.id, ReportFile.format == fmt
                )
            )
            if data is None:
                raise NotFound(f"报告没有 {fmt} 文件")
            return f"{report.title}-v{report.version}.{fmt}", FORMATS[fmt], bytes(data)

    # ---- the schedule ------------------------------------------------------------------------
    def arm_schedule(self) -> int:
        """Make sure each scheduled kind has its job (one shared by every worker); returns how
        many were added."""
        added = 0
        with self.uow.write() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("select pg_advisory_xact_lock(:key)"), {"key": ARM_LOCK})
            now = self.clock.now()
            existing = set(session.scalars(select(Job.target).where(Job.kind == REPORT_JOB)).all())
            for kind in SCHEDULED:
                if kind not in existing:
                    session.add(
                        Job(
                            kind=REPORT_JOB,
                            instance_id=None,
                            target=kind,
                            due_at=next_issue_at(kind, now, self.zone),
                            status="pending",
                            attempts=0,
                            payload={},
                            created_at=now,
                        )
                    )
                    added += 1
        return added

    def fire(self, session: Session, job: Job) -> None:
        """The job handler: issue the period that has just ended for every configured office
        (once: a period already issued by the schedule is skipped), then re-arm."""
        kind, now = job.target, self.clock.now()
        issue = last_issue_at(kind, now, self.zone)
        since, until = previous_period(kind, issue.astimezone(self.zone).date())
        for office in read_recipients(self.processes_dir):
            if kind not in office.kinds:
                continue
            done = session.scalar(
                select(func.count()).where(
                    Report.kind == kind,
                    Report.region_code == office.region,
                    Report.since == since,
                    Report.until == until,
                    Report.trigger == "schedule",
                )
            )
            if not done:
                self._issue(session, SYSTEM, kind, office.region, since, until, "schedule")
        job.due_at = next_issue_at(kind, now, self.zone)
        job.attempts, job.last_error = 0, None

    # ---- internals ---------------------------------------------------------------------------
    def _today(self) -> date:
        return local_day(self.clock.now(), self.zone)

    def _period(self, kind: str, since: date | None, until: date | None) -> tuple[date, date]:
        if since is None and until is None:
            return previous_period(kind, self._today())
        if since is None or until is None:
            raise BadRequest("请同时给出统计期间的开始和结束日期")
        return since, until

    def _visible(self, session: Session, actor: Actor, report_id: int) -> Report:
        self.access.require_office(actor)
        report = session.get(Report, report_id)
        if report is None or not (
            actor.is_admin or (report.region_path and actor.watches(report.region_path))
        ):
            raise NotFound(f"没有报告 {report_id}")
        return report

    def _summary(self, report: Report) -> dict[str, Any]:
        return {
            "id": report.id,
            "kind": report.kind,
            "kind_name": KIND_NAMES[report.kind],
            "title": report.title,
            "region": report.region_code,
            "region_name": report.region_name,
            "since": report.since.isoformat(),
            "until": report.until.isoformat(),
            "period": period_label(report.kind, report.since, report.until),
            "version": report.version,
            "issued_at": report.issued_at.isoformat(),
            "issued_by": report.issued_by,
            "trigger": report.trigger,
        }


def _period_filter(period: str) -> tuple[date, date]:
    try:
        if len(period) == 4:
            year = int(period)
            return date(year, 1, 1), date(year, 12, 31)
        first = datetime.strptime(period, "%Y-%m").date()
    except ValueError as exc:
        raise BadRequest("期间应为年份（2026）或年月（2026-11）") from exc
    return first, next_period_start(MONTHLY, first) - timedelta(days=1)
