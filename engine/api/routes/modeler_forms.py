"""Editing task forms (forms/<formKey>.json) from the modeler, administrators only: the file,
its saved versions, checks and saving. The live preview is rendered by the pages
(engine/web/modeler_pages.py) with the task page's own renderer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.api.deps import ActorDep, LandflowDep
from engine.api.schemas.params import RowId

router = APIRouter(prefix="/api/v1/modeler/forms", tags=["modeler"])


class FormListItem(BaseModel):
    key: str
    title: str
    broken: bool
    saved_at: str | None


class Revision(BaseModel):
    revision: int
    sha256: str
    note: str
    saved_by: str
    saved_at: str


class RevisionContent(Revision):
    content: str


class FormUse(BaseModel):
    process_id: str
    process_name: str
    element_id: str
    element_name: str


class FormOut(BaseModel):
    key: str
    exists: bool
    content: str
    revisions: list[Revision]
    used_by: list[FormUse]


class FormIn(BaseModel):
    content: str = Field(max_length=200_000)
    note: str = Field(default="", max_length=400)


class FormCheck(BaseModel):
    valid: bool
    errors: list[str]
    warnings: list[str]
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


@router.get("", response_model=list[FormListItem])
def forms(actor: ActorDep, lf: LandflowDep) -> list[FormListItem]:
    return [FormListItem.model_validate(f) for f in lf.form_editor.list(actor)]


@router.get("/{form_key}", response_model=FormOut)
def form(form_key: str, actor: ActorDep, lf: LandflowDep) -> FormOut:
    """The form file (a template when it does not exist yet), its saved versions and the
    deployed steps using it."""
    return FormOut.model_validate(lf.form_editor.get(actor, form_key))


@router.get("/{form_key}/revisions/{revision}", response_model=RevisionContent)
def revision(form_key: str, revision: RowId, actor: ActorDep, lf: LandflowDep) -> RevisionContent:
    return RevisionContent.model_validate(lf.form_editor.revision(actor, form_key, revision))


@router.post("/{form_key}/check", response_model=FormCheck, response_model_by_alias=True)
def check(form_key: str, body: FormIn, actor: ActorDep, lf: LandflowDep) -> FormCheck:
    """What start-up would refuse, our conventions, and fields diagrams still read."""
    return FormCheck.model_validate(lf.form_editor.check(actor, form_key, body.content))


@router.put("/{form_key}", response_model=Revision)
def save(form_key: str, body: FormIn, actor: ActorDep, lf: LandflowDep) -> Revision:
    """Write forms/<form_key>.json and keep the version; 422 when the form is invalid."""
    return Revision.model_validate(lf.form_editor.save(actor, form_key, body.content, body.note))
