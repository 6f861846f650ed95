"""The 审批表 of a case: "<process name>审批表" with a header (case number, applicant, location,
matter), the application's summary, one row per finished step (department, opinion, handler,
date, and the lines the handler and the department head sign and stamp), as the printable page
shows it and as a PDF rendered here with an embedded CJK font (reportlab, wqy-microhei)."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from engine.errors import FeatureDisabled, NotFound

from .actor import Actor
from .case_record import CASE_NOT_FOUND, start_form_key
from .case_summary import case_sections
from .case_timeline import finished_steps
from .forms import FormRegistry
from .instances import InstanceService
from .names import NameBook
from .uow import UnitOfWork

# TrueType CJK fonts from Debian packages (scripts/install-system-deps.sh installs the first);
# reportlab cannot embed the CFF outlines of the Noto CJK .ttc files.
CJK_FONTS = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/arphic/uming.ttc"), 0),
)
FONT = "LandflowCJK"
LOCATION_FIELDS = ("parcel_location", "project_location", "location")  # case data, if any
STATUS_WORDS = {
    "running": "办理中",
    "waiting": "办理中",
    "completed": "已办结",
    "error": "办理异常",
    "terminated": "已终止",
}
_font_lock = threading.Lock()


class ApprovalFormService:
    def __init__(
        self,
        uow: UnitOfWork,
        instances: InstanceService,
        forms: FormRegistry,
        names: NameBook,
        timezone: str,
    ) -> None:
        self.uow = uow
        self.instances = instances
        self.forms = forms
        self.names = names
        self.zone = ZoneInfo(timezone)

    def form(self, actor: Actor, instance_id: str) -> dict[str, Any]:
        """Everything the form prints, already in words (names, dates, opinions)."""
        try:
            case = self.instances.get(actor, instance_id)
        except NotFound:
            raise NotFound(CASE_NOT_FOUND) from None
        process = self.names.process(case["process_id"])
        sections = case_sections(case, self.forms, start_form_key(self.uow, case))
        application = sections[0] if sections else None
        location = next((str(case["data"][k]) for k in LOCATION_FIELDS if case["data"].get(k)), "")
        return {
            "title": f"{process}审批表",
            "case_id": case["id"],
            "case_no": case.get("case_no") or "",
            "applicant": case.get("applicant") or self.names.user(case["started_by"]),
            "location": "".join(
                p for p in (self.names.region_full(case["region"]), location and f"（{location}）")
            ),
            "matter": case.get("title") or process,
            "process": process,
            "status": STATUS_WORDS.get(case["status"], ""),
            "started_on": self._date(case["created_at"]),
            "application_title": application.title if application else "",
            "application": [
                (f.label, _table_text(f.columns, f.rows) if f.columns else f.text)
                for f in (application.items if application else ())
            ],
            "steps": [
                {
                    "title": step["title"],
                    "department": self.names.department(step["department"]) or "—",
                    "opinion": step["opinion"],
                    "handler": self._handler(step),
                    "date": self._date(step["at"]),
                }
                for step in finished_steps(self.forms, case)
            ],
        }

    def pdf(self, actor: Actor, instance_id: str) -> tuple[str, bytes]:
        """(file name, PDF bytes)."""
        form = self.form(actor, instance_id)
        name = f"{form['case_no'] or form['case_id'][:8]}-审批表.pdf"
        return name, render_pdf(form)

    def _handler(self, step: dict[str, Any]) -> str:
        name = self.names.user(step["by"])
        if step.get("on_behalf_of"):
            return f"{name}（代{self.names.user(step['on_behalf_of'])}）"
        return name

    def _date(self, value: str | None) -> str:
        if not value:
            return ""
        day = datetime.fromisoformat(value).astimezone(self.zone)
        return f"{day.year}年{day.month}月{day.day}日"


def _table_text(columns: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    return "；".join(
        "，".join(f"{c}：{v}" for c, v in zip(columns, row, strict=False) if v) for row in rows
    )


# ---- PDF --------------------------------------------------------------------------------------
def cjk_font() -> str:
    """Register the first CJK TrueType font found (once) and return its name."""
    with _font_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return FONT
        for path, index in CJK_FONTS:
            if path.is_file():
                pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=index))
                return FONT
    raise FeatureDisabled("服务器未安装中文字体，暂不能生成审批表 PDF，请联系管理员")


def render_pdf(form: dict[str, Any]) -> bytes:
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=13)
    sign = ParagraphStyle("sign", parent=small, alignment=TA_RIGHT)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER)
    head = ParagraphStyle("head", parent=body, alignment=TA_CENTER)
    small_head = ParagraphStyle("small_head", parent=small, alignment=TA_CENTER)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    width = A4[0] - 36 * mm
    story: list[Any] = [p(form["title"], title), Spacer(1, 4 * mm)]
    started = f"受理日期：{form['started_on']}　　办理状态：{form['status']}"
    story.append(p(started, sign))
    story.append(Spacer(1, 2 * mm))
    header = [
        [p("办件编号", head), p(form["case_no"]), p("申请人", head), p(form["applicant"])],
        [p("事项名称", head), p(form["matter"]), "", ""],
        [p("所在位置", head), p(form["location"]), "", ""],
    ]
    for label, value in form["application"]:
        header.append([p(label, small_head), p(value, small), "", ""])
    story.append(
        _grid(
            header,
            [28 * mm, width / 2 - 28 * mm, 28 * mm, width / 2 - 28 * mm],
            spans=[((1, row), (3, row)) for row in range(1, len(header))],
        )
    )
    story.append(Spacer(1, 4 * mm))
    rows = [[p("序号", head), p("办理环节", head), p("办理部门", head), p("办理意见", head)]]
    for number, step in enumerate(form["steps"], 1):
        rows.append(
            [
                p(str(number), head),
                p(step["title"]),
                p(step["department"]),
                [
                    p(step["opinion"]),
                    Spacer(1, 2 * mm),
                    p(f"经办人（签字）：{step['handler']}", sign),
                    p("负责人（签字）：＿＿＿＿＿＿　（盖章）", sign),
                    p(step["date"], sign),
                ],
            ]
        )
    if len(rows) == 1:
        rows.append([p("—", head), p("尚无办理记录"), "", ""])
    story.append(_grid(rows, [13 * mm, 40 * mm, 42 * mm, width - 95 * mm], repeat=1))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=form["title"],
        subject=form["matter"],
    )
    doc.build(story)
    return out.getvalue()


def _grid(
    rows: list[list[Any]],
    widths: list[float],
    spans: Sequence[tuple[tuple[int, int], tuple[int, int]]] = (),
    repeat: int = 0,
) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=repeat)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    style += [("SPAN", start, end) for start, end in spans]
    table.setStyle(TableStyle(style))
    return table
