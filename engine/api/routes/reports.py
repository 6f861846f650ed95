"""Dispatch reports and ad-hoc bulletins over HTTP: issue one (a snapshot, never changed
afterwards), list them, read one with its figures and HTML, download its workbook or PDF as
issued. Leadership-group offices (their territory) and administrators; others 403, a report
outside the territory 404."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import Day, RowId

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Kind = Literal["weekly", "monthly", "quarterly", "annual", "bulletin"]


class IssueRequest(BaseModel):
    kind: Literal["weekly", "monthly", "quarterly", "annual"]
    region: str | None = Field(None, max_length=20, description="default: your own region")
    since: Day | None = Field(None, description="default: the last whole period before today")
    until: Day | None = None


class BulletinRequest(BaseModel):
    title: str = Field(max_length=100)
    template: str | None = Field(
        None, max_length=5000, description="text with ${placeholders}; default: the standard one"
    )
    region: str | None = Field(None, max_length=20)
    since: Day | None = Field(None, description="default: the 1st of this month")
    until: Day | None = Field(None, description="default: today")


class ReportSummary(BaseModel):
    id: int
    kind: Kind
    kind_name: str
    title: str
    region: str = Field(description="'' for every region (administrators)")
    region_name: str
    since: str
    until: str
    period: str
    version: int = Field(description="1, 2 …: issuing the same kind, region and period again")
    issued_at: str
    issued_by: str
    trigger: Literal["manual", "schedule"]


class ReportList(BaseModel):
    total: int
    items: list[ReportSummary]


class ReportFileInfo(BaseModel):
    size: int
    sha256: str


class ReportDetail(ReportSummary):
    figures: dict[str, Any] = Field(description="the figures as issued (see docs/reports.md)")
    figures_sha256: str
    html: str
    html_sha256: str
    files: dict[str, ReportFileInfo]


@router.get("", response_model=ReportList)
def list_reports(
    lf: LandflowDep,
    actor: ActorDep,
    kind: Kind | None = None,
    period: Annotated[str | None, Query(max_length=7, description="2026 or 2026-11")] = None,
    region: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return lf.reports.list(actor, kind, period, region, limit, offset)


@router.post("", status_code=201, response_model=ReportSummary)
def issue_report(body: IssueRequest, lf: LandflowDep, actor: ActorDep) -> dict[str, Any]:
    return lf.reports.issue(actor, body.kind, body.region, body.since, body.until)


@router.post("/bulletins", status_code=201, response_model=ReportSummary)
def issue_bulletin(body: BulletinRequest, lf: LandflowDep, actor: ActorDep) -> dict[str, Any]:
    return lf.reports.bulletin(
        actor, body.title, body.template, body.region, body.since, body.until
    )


@router.get("/{report_id}", response_model=ReportDetail)
def get_report(report_id: RowId, lf: LandflowDep, actor: ActorDep) -> dict[str, Any]:
    return lf.reports.get(actor, report_id)


@router.get(
    "/{report_id}/{fmt}",
    response_class=Response,
    responses={
        200: {
            "description": "The issued workbook (xlsx) or PDF",
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def report_file(
    report_id: RowId, fmt: Literal["xlsx", "pdf"], lf: LandflowDep, actor: ActorDep
) -> Response:
    """The workbook or the PDF exactly as issued."""
    name, media, data = lf.reports.file(actor, report_id, fmt)
    return Response(data, media_type=media, headers=attachment_header(name))


def attachment_header(name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
