"""Yearly spot checks of accepted consolidation projects: the candidates of a year, the
reproducible draw (each drawn project starts a check case), and the recorded draws."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import RowId
from engine.services.spot_checks import DrawRequest

router = APIRouter(prefix="/api/v1/spot-checks", tags=["spot checks"])


class Candidate(BaseModel):
    instance_id: str = Field(description="the project's case")
    case_no: str | None = Field(description="办件编号, the key the draw orders candidates by")
    business_key: str | None
    project_name: str
    region: str
    region_name: str
    accepted_at: str = Field(description="when its joint acceptance passed (UTC)")


class PreviewCandidate(Candidate):
    drawn: bool = Field(description="an earlier draw of the year took it")


class DrawnProject(Candidate):
    check_case_id: str
    check_case_no: str | None
    check_status: str | None = Field(description="the check case: running, completed, …")
    check_outcome: str | None = Field(description="待核查, 合格, 整改中 or 整改完成")


class DrawSummary(BaseModel):
    id: int
    region: str
    region_name: str
    level: str = Field(description="city | province")
    level_name: str
    year: int
    round: int = Field(description="1: the year's draw; 2, 3 …: supplementary draws")
    supplementary: bool
    share_percent: float
    seed: int
    candidate_count: int
    drawn_count: int
    excluded_count: int = Field(description="projects earlier rounds drew, not candidates")
    reason: str | None
    drawn_by: str
    drawn_by_name: str
    drawn_at: str


class Draw(DrawSummary):
    algorithm: str
    verified: bool = Field(description="re-running the seed draws exactly the drawn projects")
    candidates: list[Candidate]
    drawn: list[DrawnProject]


class DrawList(BaseModel):
    items: list[DrawSummary]
    total: int


class Preview(BaseModel):
    region: str
    region_name: str
    level: str
    level_name: str
    year: int
    min_share_percent: float
    basis: str
    candidate_count: int
    required_count: int = Field(description="the minimum share of the candidates, rounded up")
    already_drawn_count: int
    draws: list[DrawSummary]
    candidates: list[PreviewCandidate]


class DrawIn(BaseModel):
    year: int = Field(description="the year the projects were accepted in")
    region: str | None = Field(
        default=None, max_length=20, description="the city or province; yours if omitted"
    )
    share_percent: float | None = Field(
        default=None, description="at least the level's minimum (city 40, province 15)"
    )
    count: int | None = Field(default=None, description="how many to draw instead of the share")
    seed: int | None = Field(default=None, description="0 ≤ seed < 10^12; random if omitted")
    supplementary: bool = Field(
        default=False, description="a further round among the projects not drawn yet"
    )
    reason: str | None = Field(default=None, max_length=400)


@router.get("/candidates", response_model=Preview)
def candidates(
    actor: ActorDep, lf: LandflowDep, year: int | None = None, region: str | None = None
) -> Preview:
    return Preview(**lf.spot_checks.candidates(actor, year, region))


@router.post("/draws", response_model=Draw, status_code=201)
def draw(body: DrawIn, actor: ActorDep, lf: LandflowDep) -> Draw:
    return Draw(**lf.spot_checks.draw(actor, DrawRequest(**body.model_dump())))


@router.get("/draws", response_model=DrawList)
def list_draws(
    actor: ActorDep, lf: LandflowDep, year: int | None = None, region: str | None = None
) -> DrawList:
    return DrawList(**lf.spot_checks.list(actor, year, region))


@router.get("/draws/{draw_id}", response_model=Draw)
def get_draw(draw_id: RowId, actor: ActorDep, lf: LandflowDep) -> Draw:
    return Draw(**lf.spot_checks.get(actor, draw_id))
