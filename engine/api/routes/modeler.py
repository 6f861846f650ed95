"""The browser modeler's API (administrators only): load, validate, save drafts, deploy and
compare versions of diagrams; check expressions as they are typed; edit task forms."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import RowId

router = APIRouter(prefix="/api/v1/modeler", tags=["modeler"])

MAX_XML = 5_000_000
FileName = Field(min_length=1, max_length=200)


class Problem(BaseModel):
    severity: Literal["error", "warning"]
    message: str
    element_id: str | None = None
    line: int | None = None
    file: str | None = None


class ValidationOut(BaseModel):
    valid: bool
    errors: list[Problem]
    warnings: list[Problem]


class ModelIn(BaseModel):
    file_name: str = FileName
    xml: str = Field(max_length=MAX_XML)
    extra_files: dict[str, str] = Field(default_factory=dict, max_length=20)


class VersionOut(BaseModel):
    version: int
    name: str
    deployed_at: str
    deployed_by: str
    source: str


class DraftOut(BaseModel):
    id: int
    process_id: str
    file_name: str
    base_version: int | None
    note: str
    created_by: str
    created_at: str
    updated_by: str
    updated_at: str
    deployed_at: str | None


class DraftContentOut(DraftOut):
    xml: str
    extra_files: dict[str, str]


class DraftIn(ModelIn):
    process_id: str = Field(min_length=1, max_length=120)
    note: str = Field(default="", max_length=400)
    draft_id: int | None = None
    base_version: int | None = None


class Material(BaseModel):
    name: str
    required: bool
    note: str


class ModelOut(BaseModel):
    process_id: str
    name: str
    file_name: str
    version: int
    xml: str
    versions: list[VersionOut]
    drafts: list[DraftOut]
    materials: dict[str, list[Material]]


class Choice(BaseModel):
    code: str
    name: str


class FormChoice(BaseModel):
    key: str
    title: str


class ProcessChoice(BaseModel):
    id: str
    name: str


class DecisionChoice(BaseModel):
    id: str
    name: str
    file_name: str


class ChoicesOut(BaseModel):
    department_types: list[Choice]
    levels: list[Choice]
    forms: list[FormChoice]
    processes: list[ProcessChoice]
    decisions: list[DecisionChoice]


class ExpressionIn(BaseModel):
    text: str = Field(max_length=100_000)
    mode: Literal["eval", "exec"] = "eval"


class ExpressionOut(BaseModel):
    ok: bool
    message: str
    line: int | None
    column: int | None


class VersionRef(BaseModel):
    id: int
    process_id: str
    version: int
    name: str


class DeployOut(BaseModel):
    deployment_id: int | None
    created: list[VersionRef]
    unchanged: list[VersionRef]
    warnings: list[Problem]


class DecisionOut(BaseModel):
    decision_id: str
    file_name: str
    xml: str


class ElementRef(BaseModel):
    id: str
    type: str
    type_label: str
    name: str


class PropertyChange(BaseModel):
    property: str
    label: str
    before: str | None
    after: str | None


class ChangedElement(ElementRef):
    changes: list[PropertyChange]


class DiffOut(BaseModel):
    process_id: str
    name: str
    base: int
    target: int
    base_xml: str
    target_xml: str
    versions: list[VersionOut]
    added: list[ElementRef]
    removed: list[ElementRef]
    changed: list[ChangedElement]


class RoundTripIn(BaseModel):
    file_name: str = FileName
    original: str = Field(max_length=MAX_XML)
    exported: str = Field(max_length=MAX_XML)


class Loss(BaseModel):
    element_id: str | None
    path: str
    problem: str


class RoundTripOut(BaseModel):
    ok: bool
    checked: int
    lost: list[Loss]
    dangling: list[Loss]


@router.get("/choices", response_model=ChoicesOut)
def choices(actor: ActorDep, lf: LandflowDep) -> ChoicesOut:
    """Department types, levels, forms, processes and decisions the property panel offers."""
    return ChoicesOut.model_validate(lf.modeler.choices(actor))


@router.get("/processes/{process_id}", response_model=ModelOut)
def model(process_id: str, actor: ActorDep, lf: LandflowDep) -> ModelOut:
    """The newest deployed diagram of a process, its versions and drafts."""
    return ModelOut.model_validate(lf.modeler.model(actor, process_id))


@router.get("/processes/{process_id}/diff", response_model=DiffOut)
def diff(
    process_id: str,
    actor: ActorDep,
    lf: LandflowDep,
    base: int | None = None,
    target: int | None = None,
) -> DiffOut:
    """Elements added, removed and changed (with the changed properties) between versions
    (default: the newest and the one before it)."""
    return DiffOut.model_validate(lf.modeler.diff(actor, process_id, base, target))


@router.post("/validate", response_model=ValidationOut)
def validate(body: ModelIn, actor: ActorDep, lf: LandflowDep) -> ValidationOut:
    """The engine's parse and our rules; problems name the element they are about."""
    found = lf.modeler.validate(actor, body.file_name, body.xml, body.extra_files)
    return ValidationOut.model_validate(found.as_dict())


@router.post("/deploy", response_model=DeployOut, status_code=201)
def deploy(body: ModelIn, actor: ActorDep, lf: LandflowDep) -> DeployOut:
    """Validate and deploy: a changed process gets a new version. 422 with the problems when
    the model has errors (a model without executable process is refused)."""
    return DeployOut.model_validate(
        lf.modeler.deploy(actor, body.file_name, body.xml, body.extra_files)
    )


@router.post("/expressions/check", response_model=ExpressionOut)
def check_expression(body: ExpressionIn, actor: ActorDep, lf: LandflowDep) -> ExpressionOut:
    """Parse a condition (eval) or script (exec) in the restricted language; nothing runs."""
    return ExpressionOut.model_validate(lf.modeler.check_expression(actor, body.text, body.mode))


@router.get("/decisions/{decision_id}", response_model=DecisionOut)
def decision(decision_id: str, actor: ActorDep, lf: LandflowDep) -> DecisionOut:
    """The deployed DMN file holding the decision, for the decision table editor."""
    return DecisionOut.model_validate(lf.modeler.decision(actor, decision_id))


@router.post("/round-trip", response_model=RoundTripOut)
def round_trip(body: RoundTripIn, actor: ActorDep, lf: LandflowDep) -> RoundTripOut:
    """Whether every element, attribute and layout of `original` is in `exported`."""
    found = lf.modeler.round_trip(actor, body.original, body.exported, body.file_name)
    return RoundTripOut.model_validate(found)


@router.get("/drafts", response_model=list[DraftOut])
def drafts(actor: ActorDep, lf: LandflowDep, process_id: str | None = None) -> list[DraftOut]:
    return [DraftOut.model_validate(d) for d in lf.modeler.drafts.list(actor, process_id)]


@router.post("/drafts", response_model=DraftOut, status_code=201)
def save_draft(body: DraftIn, actor: ActorDep, lf: LandflowDep) -> DraftOut:
    """A new draft, or (with `draft_id`) the new content of one."""
    saved = lf.modeler.drafts.save(
        actor,
        body.process_id,
        body.file_name,
        body.xml,
        body.extra_files,
        body.note,
        body.draft_id,
        body.base_version,
    )
    return DraftOut.model_validate(saved)


@router.get("/drafts/{draft_id}", response_model=DraftContentOut)
def draft(draft_id: RowId, actor: ActorDep, lf: LandflowDep) -> DraftContentOut:
    return DraftContentOut.model_validate(lf.modeler.drafts.get(actor, draft_id))


@router.delete("/drafts/{draft_id}", status_code=204)
def delete_draft(draft_id: RowId, actor: ActorDep, lf: LandflowDep) -> None:
    lf.modeler.drafts.delete(actor, draft_id)
