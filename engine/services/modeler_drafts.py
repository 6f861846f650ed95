"""Drafts of diagrams (administrators only): what the modeler holds, saved before it is
deployed, with the DMN files edited alongside. A draft counts as deployed while the deployed
file holds exactly its content."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.modeler_tables import ModelDraft
from engine.db.tables import DefinitionFile
from engine.errors import BadRequest, NotFound

from .access import Access
from .actor import Actor
from .modeler_validation import file_problems
from .uow import UnitOfWork

MAX_DRAFTS_LISTED = 50


class ModelDrafts:
    def __init__(self, uow: UnitOfWork, clock: Clock, access: Access, max_bytes: int) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.max_bytes = max_bytes

    def save(
        self,
        actor: Actor,
        process_id: str,
        file_name: str,
        xml: str,
        extra_files: Mapping[str, str] | None = None,
        note: str = "",
        draft_id: int | None = None,
        base_version: int | None = None,
    ) -> dict[str, Any]:
        """A new draft, or the new content of draft `draft_id`."""
        self.access.require_admin(actor)
        extras = dict(extra_files or {})
        files = {file_name: xml.encode("utf-8")} | {n: c.encode() for n, c in extras.items()}
        problems = file_problems(files, self.max_bytes)
        if problems:
            raise BadRequest("；".join(p.message for p in problems))
        now = self.clock.now()
        with self.uow.write() as session:
            if draft_id is None:
                draft = ModelDraft(
                    process_id=process_id,
                    created_by=actor.username,
                    created_at=now,
                    base_version=base_version,
                )
                session.add(draft)
            else:
                draft = self._get(session, draft_id)
                if draft.process_id != process_id:
                    raise BadRequest("草稿属于另一个流程")
            draft.file_name = file_name
            draft.content = xml
            draft.extra_files = extras
            draft.note = note[:400]
            draft.updated_by = actor.username
            draft.updated_at = now
            session.flush()
            return self._as_dict(session, draft, with_content=False)

    def get(self, actor: Actor, draft_id: int) -> dict[str, Any]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            return self._as_dict(session, self._get(session, draft_id), with_content=True)

    def list(self, actor: Actor, process_id: str | None = None) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            query = select(ModelDraft).order_by(ModelDraft.updated_at.desc(), ModelDraft.id.desc())
            if process_id:
                query = query.where(ModelDraft.process_id == process_id)
            drafts = session.scalars(query.limit(MAX_DRAFTS_LISTED)).all()
            return [self._as_dict(session, d, with_content=False) for d in drafts]

    def delete(self, actor: Actor, draft_id: int) -> None:
        self.access.require_admin(actor)
        with self.uow.write() as session:
            session.delete(self._get(session, draft_id))

    @staticmethod
    def _get(session: Session, draft_id: int) -> ModelDraft:
        draft = session.get(ModelDraft, draft_id)
        if draft is None:
            raise NotFound(f"草稿 {draft_id} 不存在")
        return draft

    @staticmethod
    def _as_dict(session: Session, draft: ModelDraft, with_content: bool) -> dict[str, Any]:
        digest = hashlib.sha256(draft.content.encode("utf-8")).hexdigest()
        current = session.execute(
            select(DefinitionFile.sha256, DefinitionFile.deployed_at)
            .where(DefinitionFile.file_name == draft.file_name)
            .order_by(DefinitionFile.id.desc())
            .limit(1)
        ).first()
        deployed = current.deployed_at if current and current.sha256 == digest else None
        found = {
            "id": draft.id,
            "process_id": draft.process_id,
            "file_name": draft.file_name,
            "base_version": draft.base_version,
            "note": draft.note,
            "created_by": draft.created_by,
            "created_at": draft.created_at.isoformat(),
            "updated_by": draft.updated_by,
            "updated_at": draft.updated_at.isoformat(),
            "deployed_at": deployed.isoformat() if deployed else None,
        }
        if with_content:
            found["xml"] = draft.content
            found["extra_files"] = dict(draft.extra_files or {})
        return found
