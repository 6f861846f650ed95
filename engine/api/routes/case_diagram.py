"""A case's diagram: the BPMN XML of the version it runs on and where the case stands on it."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from engine.api.deps import ActorDep, LandflowDep

router = APIRouter(prefix="/api/v1/instances", tags=["instances"])


class DepartmentRef(BaseModel):
    code: str
    name: str


class ElementState(BaseModel):
    id: str
    state: Literal["done", "active", "overdue", "failed"]
    departments: list[DepartmentRef]


class CaseDiagram(BaseModel):
    process_id: str
    version: int
    xml: str
    elements: list[ElementState]


@router.get("/{instance_id}/diagram", response_model=CaseDiagram)
def case_diagram(instance_id: str, actor: ActorDep, lf: LandflowDep) -> CaseDiagram:
    """BPMN 2.0 XML of the case's process version, and each element of that diagram the case
    has passed (done), stands at (active, or overdue when a step's time limit ran out) or failed
    at, with the departments handling the active steps. 404 for whoever may not see the case."""
    return CaseDiagram.model_validate(lf.case_diagram.diagram(actor, instance_id))
