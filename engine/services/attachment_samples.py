"""Sample materials for demo cases and scenario walks: a one-page PDF titled with the
material's name, uploaded for each required material a step still lacks."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from .actor import Actor
from .attachments import AttachmentService

FONT = "STSong-Light"  # a standard CJK font every PDF reader has: nothing to embed


def sample_pdf(title: str, note: str = "示例材料，仅供演示") -> bytes:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, invariant=True)
    page.setTitle(title)
    width, height = A4
    page.setFont(FONT, 22)
    page.drawCentredString(width / 2, height - 120, title)
    page.setFont(FONT, 12)
    page.drawCentredString(width / 2, height - 150, note)
    page.rect(60, 80, width - 120, height - 260)
    page.showPage()
    page.save()
    return out.getvalue()


def attach_samples(attachments: AttachmentService, actor: Actor, task_id: str) -> list[dict]:
    """Upload a sample PDF for every required material the task's case does not have yet."""
    added: list[dict[str, Any]] = []
    for material in attachments.for_task(actor, task_id)["materials"]:
        if material["required"] and not material["present"]:
            name = material["name"]
            added.append(attachments.upload(actor, task_id, name, f"{name}.pdf", sample_pdf(name)))
    return added
