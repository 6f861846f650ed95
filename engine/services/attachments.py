"""Attachments (附件) and the 材料清单: upload a file to a task's case, list, download, delete;
a step's required materials must be on the case before the step can be submitted.

Who may do what (engine/services/access.py decides who sees and acts):
- upload: whoever may act on the task, while it is open;
- list and download: whoever sees the case;
- delete: the uploader or an administrator, while the task it was uploaded at is open.

The bytes live in a blob store (engine/storage) under their SHA-256; the database holds the
row. What a file is comes from its first bytes (engine/storage/sniffing.py), never from the
client's header or the file name; the name users gave is kept for display only."""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import Attachment, HumanTask, Instance
from engine.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from engine.storage import BlobMissing, BlobStore, StorageUnavailable
from engine.storage.sniffing import KINDS, ExecutableInArchive, FileKind, sniff

from .access import Access
from .actor import Actor
from .attachment_materials import MaterialsCatalog
from .attachment_views import attachment_view, display_name, materials_view, size_text
from .recorder import record_history
from .uow import UnitOfWork

log = logging.getLogger(__name__)

# Why an upload was refused: the page route passes the reason back to the task page.
REFUSALS = {
    "missing": "请选择要上传的文件",
    "empty": "文件是空的，请重新选择",
    "too_large": "文件超过 {limit} 的大小限制",
    "type": "不支持的文件类型：只接受 {types}（按文件内容识别，改扩展名无效）",
    "program": "压缩包内含可执行程序，不能上传",
    "material": "本环节的材料清单中没有这项材料",
    "storage": "附件存储暂时不可用，请稍后重试",
}
OTHER = "其他材料"


class UploadRefused(ValidationFailed):
    def __init__(self, reason: str, message: str, field: str = "file") -> None:
        super().__init__(message, [FieldError(field, message)])
        self.reason = reason


@dataclass(frozen=True)
class Download:
    data: bytes
    kind: FileKind
    file_name: str


class AttachmentService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        access: Access,
        store: BlobStore,
        catalog: MaterialsCatalog,
        max_bytes: int,
        allowed_types: str,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.store = store
        self.catalog = catalog
        self.max_bytes = max_bytes
        self.allowed = tuple(
            KINDS[k] for k in dict.fromkeys(t.strip().lower() for t in allowed_types.split(","))
            if k in KINDS
        )  # fmt: skip

    def start_up(self) -> None:
        self.store.start_up()
        self.catalog.check()

    # ---- reading ---------------------------------------------------------------------------
    def for_task(self, actor: Actor, task_id: str) -> dict[str, Any]:
        """What the task page shows: the case's attachments and the step's 材料清单 with
        what is there (the page context `attachments` and `materials`)."""
        with self.uow.read() as session:
            task = self.access.visible_task(session, actor, task_id)
            rows = self._case_rows(session, task.instance_id)
            views = self._views(session, actor, rows)
            materials = self._listed(task)
            return {
                "attachments": views,
                "materials": materials_view(materials, views),
                "upload_limits": self.limits(),
                "may_upload": task.state == "open"
                and self.access.can_act_on_task(session, actor, task),
            }

    def list_for_case(self, actor: Actor, instance_id: str) -> list[dict[str, Any]]:
        with self.uow.read() as session:
            self._visible_case(session, actor, instance_id)
            return self._views(session, actor, self._case_rows(session, instance_id))

    def materials_for_task(self, actor: Actor, task_id: str) -> dict[str, Any]:
        view = self.for_task(actor, task_id)
        missing = [m["name"] for m in view["materials"] if m["required"] and not m["present"]]
        return {"task_id": task_id, "materials": view["materials"], "missing": missing}

    def get(self, actor: Actor, attachment_id: str) -> dict[str, Any]:
        with self.uow.read() as session:
            row = self._visible(session, actor, attachment_id)
            return self._views(session, actor, [row])[0]

    def download(self, actor: Actor, attachment_id: str) -> Download:
        with self.uow.read() as session:
            row = self._visible(session, actor, attachment_id)
        try:
            data = self.store.get(row.sha256)
        except BlobMissing:
            log.error("attachment %s: blob %s is missing from the store", row.id, row.sha256)
            raise NotFound("文件已丢失，请联系管理员") from None
        except StorageUnavailable:
            raise Conflict(REFUSALS["storage"]) from None
        if hashlib.sha256(data).hexdigest() != row.sha256:
            log.error("attachment %s: blob %s fails its checksum", row.id, row.sha256)
            raise Conflict("文件校验未通过（内容已损坏），请联系管理员")
        return Download(data, KINDS[row.kind], row.file_name)

    def limits(self) -> dict[str, Any]:
        return {
            "max_bytes": self.max_bytes,
            "max_text": size_text(self.max_bytes),
            "types": "、".join(dict.fromkeys(k.label.split(" ")[0] for k in self.allowed)),
            "accept": ",".join(
                dict.fromkeys(
                    [k.extension for k in self.allowed]
                    + [".jpeg" for k in self.allowed if k.key == "jpeg"]
                )
            ),
        }

    def refusal_message(self, reason: str) -> str | None:
        template = REFUSALS.get(reason)
        if template is None:
            return None
        limits = self.limits()
        return template.format(limit=limits["max_text"], types=limits["types"])

    # ---- commands --------------------------------------------------------------------------
    def check_may_upload(self, actor: Actor, task_id: str) -> None:
        """Before reading an upload's body: the task is open and the actor may act on it."""
        with self.uow.read() as session:
            self.access.open_task_to_act_on(session, actor, task_id)

    def upload(
        self,
        actor: Actor,
        task_id: str,
        material: str | None,
        file_name: str | None,
        data: bytes | None,
    ) -> dict[str, Any]:
        with self.uow.write() as session:
            task = self.access.open_task_to_act_on(session, actor, task_id)
            material = self._material(task, material)
            kind = self._accepted(data)
            assert data is not None
            digest = hashlib.sha256(data).hexdigest()
            _lock_blob(session, digest)
            now = self.clock.now()
            row = Attachment(
                id=str(uuid.uuid4()),
                instance_id=task.instance_id,
                task_id=task.id,
                task_spec=task.task_spec,
                material=material,
                file_name=display_name(file_name, kind, material or OTHER),
                kind=kind.key,
                content_type=kind.mime,
                size=len(data),
                sha256=digest,
                uploaded_by=actor.username,
                uploaded_at=now,
            )
            session.add(row)
            record_history(
                session,
                task.instance_id,
                now,
                actor,
                "attachment_added",
                task_id=task.id,
                on_behalf_of=self.access.acting_for(actor, task),
                material=material or OTHER,
                file_name=row.file_name,
                size=row.size,
                sha256=digest,
            )
            session.flush()
            try:
                self.store.put(digest, data, kind.mime)
            except StorageUnavailable as exc:
                log.error("attachment store refused a write: %s", exc)
                raise UploadRefused("storage", REFUSALS["storage"]) from None
            return self._views(session, actor, [row])[0]

    def delete(self, actor: Actor, attachment_id: str) -> dict[str, Any]:
        with self.uow.write() as session:
            row = self._visible(session, actor, attachment_id)
            task = session.get(HumanTask, row.task_id)
            if not actor.is_admin and row.uploaded_by != actor.username:
                raise PermissionDenied("只有上传人或管理员可以删除此附件")
            if task is None or task.state != "open":
                raise Conflict("上传该附件的环节已经办结，附件不能再删除")
            self.access.check_no_incident(session, row.instance_id)
            _lock_blob(session, row.sha256)
            view = self._views(session, actor, [row])[0]
            session.delete(row)
            record_history(
                session,
                row.instance_id,
                self.clock.now(),
                actor,
                "attachment_deleted",
                task_id=row.task_id,
                material=row.material or OTHER,
                file_name=row.file_name,
                sha256=row.sha256,
            )
            session.flush()
            still_used = session.scalar(
                select(Attachment.id).where(Attachment.sha256 == row.sha256).limit(1)
            )
            if still_used is None:
                try:
                    self.store.delete(row.sha256)
                except StorageUnavailable as exc:  # an orphan blob is harmless; keep going
                    log.warning("could not remove blob %s: %s", row.sha256, exc)
            return view

    # ---- used by TaskService.complete inside its transaction ------------------------------
    def check_required(self, session: Session, task: HumanTask) -> None:
        """A required material the case does not have blocks the step's submission."""
        required = [m.name for m in self._listed(task) if m.required]
        if not required:
            return
        present = set(
            session.scalars(
                select(Attachment.material).where(Attachment.instance_id == task.instance_id)
            )
        )
        missing = [name for name in required if name not in present]
        if missing:
            raise ValidationFailed(
                f"缺少必需材料：{'、'.join(missing)}",
                [FieldError(f"materials.{name}", f"缺少必需材料：{name}") for name in missing],
            )

    # ---- internals -------------------------------------------------------------------------
    def _listed(self, task: HumanTask):
        return self.catalog.for_task(task.process_id, task.task_spec, task.properties)

    def _accepted(self, data: bytes | None) -> FileKind:
        if data is None:
            raise UploadRefused("missing", REFUSALS["missing"])
        if not data:
            raise UploadRefused("empty", REFUSALS["empty"])
        if len(data) > self.max_bytes:
            raise UploadRefused("too_large", self.refusal_message("too_large") or "")
        try:
            kind = sniff(data)
        except ExecutableInArchive:
            raise UploadRefused("program", REFUSALS["program"]) from None
        if kind is None or kind not in self.allowed:
            raise UploadRefused("type", self.refusal_message("type") or "")
        return kind

    def _material(self, task: HumanTask, material: str | None) -> str | None:
        material = (material or "").strip()
        if not material or material == OTHER:
            return None
        if material not in {m.name for m in self._listed(task)}:
            raise UploadRefused("material", REFUSALS["material"], field="material")
        return material

    def _visible_case(self, session: Session, actor: Actor, instance_id: str) -> Instance:
        instance = session.get(Instance, instance_id)
        if instance is None or not self.access.can_see_instance(session, actor, instance):
            raise NotFound(f"没有编号为“{instance_id}”的办件")
        return instance

    def _visible(self, session: Session, actor: Actor, attachment_id: str) -> Attachment:
        row = session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(f"没有编号为 {attachment_id} 的附件")
        instance = session.get(Instance, row.instance_id)
        if instance is None or not self.access.can_see_instance(session, actor, instance):
            raise NotFound(f"没有编号为 {attachment_id} 的附件")
        return row

    @staticmethod
    def _case_rows(session: Session, instance_id: str) -> list[Attachment]:
        return list(
            session.scalars(
                select(Attachment)
                .where(Attachment.instance_id == instance_id)
                .order_by(Attachment.uploaded_at, Attachment.id)
            )
        )

    @staticmethod
    def _views(session: Session, actor: Actor, rows: list[Attachment]) -> list[dict[str, Any]]:
        task_ids = {r.task_id for r in rows}
        states = (
            dict(
                session.execute(
                    select(HumanTask.id, HumanTask.state).where(HumanTask.id.in_(task_ids))
                ).all()
            )
            if task_ids
            else {}
        )
        return [
            attachment_view(
                row,
                can_delete=states.get(row.task_id) == "open"
                and (actor.is_admin or row.uploaded_by == actor.username),
            )
            for row in rows
        ]


def _lock_blob(session: Session, digest: str) -> None:
    """Uploads and deletes of the same content take turns (PostgreSQL; SQLite's writers
    already do), so a delete never removes a blob that a concurrent upload just stored."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int(digest[:15], 16)})
