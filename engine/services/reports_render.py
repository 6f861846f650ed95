"""A report rendered once, when it is issued: its HTML body (zh-CN; the page wraps it), its
Excel workbook (one sheet per table, numbers as numbers, the header row frozen) and its PDF
(reportlab with the embedded CJK font of the approval form)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

from markupsafe import escape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .approval_form import cjk_font
from .reports_tables import COUNT, DAYS, RATE, TEXT, ReportTable, show

EXCEL_FORMATS = {RATE: "0.00%", DAYS: "0.0", COUNT: "0"}


def chart_data(figures: dict[str, Any]) -> dict[str, Any]:
    """The bar chart of the page: each area's on-time rate in %."""
    areas = figures["areas"]
    return {
        "title": "各地按期办结率",
        "categories": [a["name"] for a in areas],
        "values": [
            None if a["on_time_rate"] is None else round(a["on_time_rate"] * 100, 2) for a in areas
        ],
    }


def render_html(head: dict[str, Any], tables: list[ReportTable], figures: dict[str, Any]) -> str:
    parts = [
        '<article class="report" lang="zh-CN">',
        f"<h1>{escape(head['title'])}</h1>",
        '<p class="report-meta">',
        f"区划：{escape(head['region_name'])}　统计期间：{head['since']} 至 {head['until']}　",
        f"版本：v{head['version']}　印发时间：{escape(head['issued'])}　印发：{escape(head['by'])}",
        "</p>",
    ]
    if head.get("text"):
        parts.append('<section class="report-text">')
        parts += [f"<p>{escape(line)}</p>" for line in head["text"].splitlines() if line.strip()]
        parts.append("</section>")
    parts.append('<section class="report-chart"><h2>各地按期办结率</h2>')
    parts.append('<div id="report-chart" class="report-chart-box" role="img"></div>')
    payload = json.dumps(chart_data(figures), ensure_ascii=False).replace("<", "\\u003c")
    parts.append(f'<script type="application/json" id="report-chart-data">{payload}</script>')
    parts.append("</section>")
    note = figures.get("rankings", {}).get("note")
    for table in tables:
        parts.append(f"<section><h2>{escape(table.name)}</h2>")
        if note and "排名" in table.name:
            parts.append(f'<p class="report-note">{escape(note)}</p>')
        parts.append('<table class="report-table"><thead><tr>')
        parts += [f"<th>{escape(c.name)}</th>" for c in table.columns]
        parts.append("</tr></thead><tbody>")
        for row in table.rows:
            cells = [
                f'<td class="{"text" if c.format == TEXT else "num"}">'
                f"{escape(show(v, c.format))}</td>"
                for c, v in zip(table.columns, row, strict=True)
            ]
            parts.append("<tr>" + "".join(cells) + "</tr>")
        if not table.rows:
            parts.append(f'<tr><td colspan="{len(table.columns)}">本期无数据</td></tr>')
        parts.append("</tbody></table></section>")
    parts.append("</article>")
    return "\n".join(parts) + "\n"


def render_xlsx(head: dict[str, Any], tables: list[ReportTable], issued_at: datetime) -> bytes:
    book = Workbook()
    book.remove(book.active)
    book.properties.title = head["title"]
    book.properties.creator = "Landflow"
    stamp = issued_at.replace(tzinfo=None)
    book.properties.created = book.properties.modified = stamp
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append([c.name for c in table.columns])
        for cell in sheet[1]:
            cell.font = bold
            cell.alignment = Alignment(horizontal="center")
        for row in table.rows:
            sheet.append(list(row))
        for index, column in enumerate(table.columns, 1):
            letter = sheet.cell(row=1, column=index).column_letter
            width = max(
                [len(column.name) * 2 + 2] + [len(str(r[index - 1])) * 2 for r in table.rows]
            )
            sheet.column_dimensions[letter].width = min(max(width, 10), 48)
            if column.format in EXCEL_FORMATS:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = EXCEL_FORMATS[column.format]
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_pdf(head: dict[str, Any], tables: list[ReportTable], figures: dict[str, Any]) -> bytes:
    font = cjk_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    cell_head = ParagraphStyle("cell_head", parent=body, alignment=TA_CENTER)
    title = ParagraphStyle("title", parent=body, fontSize=17, leading=24, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=18, spaceBefore=6)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(str(escape(text)), style)

    page = landscape(A4)
    width = page[0] - 30 * mm
    story: list[Any] = [p(head["title"], title), Spacer(1, 3 * mm)]
    story.append(
        p(
            f"区划：{head['region_name']}　统计期间：{head['since']} 至 {head['until']}　"
            f"版本：v{head['version']}　印发时间：{head['issued']}　印发：{head['by']}"
        )
    )
    for line in (head.get("text") or "").splitlines():
        if line.strip():
            story.append(p(line))
    note = figures.get("rankings", {}).get("note")
    for table in tables:
        story.append(p(table.name, heading))
        if note and "排名" in table.name:
            story.append(p(note))
        rows = [[p(c.name, cell_head) for c in table.columns]]
        rows += [
            [p(show(v, c.format)) for c, v in zip(table.columns, row, strict=True)]
            for row in table.rows
        ] or [[p("本期无数据")] + [""] * (len(table.columns) - 1)]
        first = width * (0.3 if len(table.columns) > 2 else 0.5)
        rest = (width - first) / max(len(table.columns) - 1, 1)
        grid = Table(rows, colWidths=[first] + [rest] * (len(table.columns) - 1), repeatRows=1)
        grid.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        story.append(grid)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=page,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=head["title"],
        creator="Landflow",
    )
    doc.build(story)
    return out.getvalue()
