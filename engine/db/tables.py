"""Tables of the engine. The Alembic migrations under migrations/ create them; a test checks
that the two agree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .types import JsonDocument, RegionPath, UTCDateTime

# naive UTC as both backends store it; UTCDateTime hands it back as 9999-12-31T00:00:00+00:00
SORT_DUE_SQL = "coalesce(due_at, '9999-12-31 00:00:00.000000')"


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email: Mapped[str | None] = mapped_column(String(200))  # for e-mail notifications
    phone: Mapped[str | None] = mapped_column(String(30))  # for SMS notifications


class Region(Base):
    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    path: Mapped[str] = mapped_column(RegionPath, index=True)


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("dept_type", "region_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    dept_type: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "department_id", "role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))


class Substitution(Base):
    """`substitute` acts for `absent` from starts_on to ends_on (inclusive, local dates)."""

    __tablename__ = "substitutions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    absent_user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    substitute_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(400))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuthToken(Base):
    __tablename__ = "auth_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # bearer | session
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Deployment(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_by: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16))


class DefinitionFile(Base):
    """Every distinct content of a BPMN/DMN file ever deployed; the newest per name is current."""

    __tablename__ = "definition_files"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    file_name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessVersion(Base):
    """One parsed, serialized spec per (process, version); instances point here, never copy it."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec_json: Mapped[str] = mapped_column(Text)
    subprocess_specs_json: Mapped[str] = mapped_column(Text)
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    file_name: Mapped[str] = mapped_column(String(200))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (
        Index("ix_instances_business_key", "business_key"),
        Index("ix_instances_process_status", "process_id", "status"),
        Index("ix_instances_region_path", "region_path"),
        Index("ix_instances_created", "created_at", "id"),  # the case list, newest first
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    process_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(20))
    region_path: Mapped[str] = mapped_column(RegionPath)
    business_key: Mapped[str | None] = mapped_column(String(120))
    case_no: Mapped[str | None] = mapped_column(String(40), unique=True)  # 办件编号
    title: Mapped[str | None] = mapped_column(String(300))  # 事项名称
    applicant: Mapped[str | None] = mapped_column(String(200))
    # what the case is found by (engine.domain.case_search), kept when the case is saved
    search_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    state_json: Mapped[str] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - optimistic concurrency


class HumanTask(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_instance", "instance_id"),
        # the inbox walks these in (sort_due, id) order: engine/services/task_pages.py
        Index("ix_tasks_assignee_state_sort", "assignee", "state", "sort_due", "id"),
        Index(
            "ix_tasks_department_state_sort", "department", "state", "sort_due", "id", "assignee"
        ),
        Index("ix_tasks_owner_state_sort", "owner", "state", "sort_due", "id"),
        Index("ix_tasks_state_sort", "state", "sort_due", "id", "region_path"),
        Index("ix_tasks_region_path_state", "region_path", "state"),
        Index("ix_tasks_unroutable", "route_dept_type", "route_region", "state"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    process_id: Mapped[str] = mapped_column(String(120))
    task_spec: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(80))
    owner: Mapped[str | None] = mapped_column(String(80))
    delegation: Mapped[str | None] = mapped_column(String(12))
    draft: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    form_key: Mapped[str | None] = mapped_column(String(120))
    properties: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    region: Mapped[str] = mapped_column(String(20))
    region_path: Mapped[str] = mapped_column(RegionPath)
    department: Mapped[str | None] = mapped_column(String(60))
    route_dept_type: Mapped[str | None] = mapped_column(String(20))
    route_region: Mapped[str | None] = mapped_column(String(20))
    route_problem: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(80))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # due_at, or 9999-12-31 when there is none: a non-null key the inbox indexes walk in order
    sort_due: Mapped[datetime] = mapped_column(UTCDateTime, Computed(SORT_DUE_SQL))
    sla_state: Mapped[str | None] = mapped_column(String(20))
    # an open clock's due date reaches a year without official calendar data (暂定)
    sla_provisional: Mapped[bool] = mapped_column(default=False)
    # set when the step was reopened by a return (退回): from where, by whom, why
    returned: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    return_targets: Mapped[list[Any] | None] = mapped_column(JsonDocument)


class HistoryEntry(Base):
    """Append-only audit trail: who did what, when, with which data."""

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    on_behalf_of: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)


class MessageWait(Base):
    """Which instance waits for which message name; rebuilt after every command of the instance."""

    __tablename__ = "message_waits"
    __table_args__ = (Index("ix_message_waits_name", "message_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    message_name: Mapped[str] = mapped_column(String(200))


class Job(Base):
    """Due work: timers and SLA ladder rungs. A job runs inside the transaction that holds its
    row (FOR UPDATE SKIP LOCKED on PostgreSQL), so a crash simply releases it."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_due", "status", "due_at"),
        UniqueConstraint("kind", "instance_id", "target"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    instance_id: Mapped[str | None] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(80))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CalendarDay(Base):
    """An exception to the weekend rule: a holiday on a weekday or a 调休 make-up workday."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # holiday | workday
    name: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarYear(Base):
    """A year whose official arrangement is known; computing into any other year fails."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarChange(Base):
    __tablename__ = "calendar_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(JsonDocument)


class SlaClock(Base):
    __tablename__ = "sla_clocks"
    __table_args__ = (Index("ix_sla_clocks_task", "task_id"), Index("ix_sla_clocks_state", "state"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(12))  # statutory | committed | overall
    limit_days: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(4))
    yellow_rule: Mapped[str] = mapped_column(String(10))
    basis: Mapped[str | None] = mapped_column(String(300))
    department: Mapped[str | None] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    start_day: Mapped[date] = mapped_column(Date)
    suspended_days: Mapped[int] = mapped_column(Integer, default=0)
    paused_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_state: Mapped[str | None] = mapped_column(String(10))
    extension_request: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument)
    state: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    yellow_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    problem: Mapped[str | None] = mapped_column(String(400))
    # the due date reaches a year without official calendar data (暂定)
    provisional: Mapped[bool] = mapped_column(default=False)
    # the longest extension allowed (行政许可法 §42 for statutory clocks); None: no legal figure
    max_extension: Mapped[int | None] = mapped_column(Integer)


class SlaSuspension(Base):
    __tablename__ = "sla_suspensions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clock_id: Mapped[int] = mapped_column(
        ForeignKey("sla_clocks.id", ondelete="CASCADE"), index=True
    )
    reason_type: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(1000))
    missing_items: Mapped[list[Any] | None] = mapped_column(JsonDocument)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(80))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(80))
    days_counted: Mapped[int | None] = mapped_column(Integer)


class SlaEscalation(Base):
    """A rung of the escalation ladder that fired; unique per clock and rung."""

    __tablename__ = "sla_escalations"
    __table_args__ = (UniqueConstraint("clock_id", "rung"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    rung: Mapped[str] = mapped_column(String(20))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    worker: Mapped[str] = mapped_column(String(80))


class SupervisionOrder(Base):
    """督办: a supervision order from a leadership-group office to a department about a case
    (`instance_id`) or one of its steps. Its reply and review run as a case of the process
    supervision_order (`order_instance_id`); this row is the list offices and the dashboard
    read (engine/services/supervision*.py keeps it in step with that case)."""

    __tablename__ = "supervision_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(String(36))
    clock_id: Mapped[int | None] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"))
    office: Mapped[str] = mapped_column(String(60), index=True)
    department: Mapped[str | None] = mapped_column(String(60), index=True)
    # the case's (it never changes), for the dashboard's counts by territory
    region_path: Mapped[str | None] = mapped_column(RegionPath)
    grade: Mapped[str] = mapped_column(String(10))  # blue | orange | red (蓝/橙/红)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # open | answered | closed | escalated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # closed or escalated
    issued_by: Mapped[str | None] = mapped_column(String(80))  # "system" for the ladder
    order_instance_id: Mapped[str | None] = mapped_column(String(36), index=True)
    reply_days: Mapped[int | None] = mapped_column(Integer)  # working days to reply
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_by: Mapped[str | None] = mapped_column(String(80))
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the reply went late
    closed_by: Mapped[str | None] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(Integer)  # the order this one escalates
    escalated_to: Mapped[int | None] = mapped_column(Integer)


class Notification(Base):
    """The outbox: one row per event and recipient, written in the transaction of the change
    that caused it. It is the in-app notification; `notify_tables.Delivery` rows carry it to
    the other channels. `template` is the event's code (engine.services.notify.catalogue)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status", "status", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(80), index=True)
    template: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    instance_id: Mapped[str | None] = mapped_column(String(36))
    task_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # seen by the recipient
    digest_id: Mapped[int | None] = mapped_column(Integer)  # the digest delivery that carried it


class AdminAlert(Base):
    __tablename__ = "admin_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Incident(Base):
    """A step that failed: the case stays exactly as it failed until an admin retries the step
    (after correcting data) or cancels it (Camunda's incident model)."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_process", "status", "process_id"),
        Index("ix_incidents_instance", "instance_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36))  # kept when a case is deleted
    process_id: Mapped[str] = mapped_column(String(120))
    step_id: Mapped[str | None] = mapped_column(String(36))  # the failed engine step
    element_id: Mapped[str | None] = mapped_column(String(120))
    element_name: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)  # for the clerk, Chinese
    detail: Mapped[str] = mapped_column(Text)  # for admins, technical
    status: Mapped[str] = mapped_column(String(12))  # open | resolved | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolution: Mapped[str | None] = mapped_column(String(20))  # retried | step_cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class TimeLimitRule(Base):
    """A time limit as data: for a process's task ('*': the whole case), in the regions under a
    GB/T 2260 prefix ('': everywhere), of one kind (statutory | committed | overall)."""

    __tablename__ = "time_limit_rules"
    __table_args__ = (UniqueConstraint("process_id", "task_spec", "region_prefix", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(120))
    task_spec: Mapped[str] = mapped_column(String(120))
    region_prefix: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    limit_text: Mapped[str] = mapped_column(String(10))
    yellow_rule: Mapped[str | None] = mapped_column(String(10))
    max_extension: Mapped[int | None] = mapped_column(Integer)
    basis: Mapped[str | None] = mapped_column(String(300))
    updated_by: Mapped[str] = mapped_column(String(80))  # "file": as seeded from the file
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LegalAcceptance(Base):
    """A case accepted by law (行政许可法 §32): no 补正 was notified within 5 working days of
    receiving the application, so it counts as accepted from the day it was received."""

    __tablename__ = "legal_acceptances"
    instance_id: Mapped[str] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[str | None] = mapped_column(String(36))
    received_on: Mapped[date] = mapped_column(Date)
    notice_deadline: Mapped[date] = mapped_column(Date)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    basis: Mapped[str] = mapped_column(String(300))


class CaseCounter(Base):
    """The last case number taken per prefix and year (入市2026 → 12)."""

    __tablename__ = "case_counters"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Attachment(Base):
    """A file on a case, uploaded at one of its tasks, possibly as one of the step's required
    materials (材料清单). The bytes live in the blob store under `sha256`, never in here."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_instance_material", "instance_id", "material"),
        Index("ix_attachments_sha256", "sha256"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    task_spec: Mapped[str] = mapped_column(String(120))
    material: Mapped[str | None] = mapped_column(String(120))  # None: 其他材料
    file_name: Mapped[str] = mapped_column(String(255))  # shown to users; never a storage path
    kind: Mapped[str] = mapped_column(String(10))  # sniffed: pdf, jpeg, png, ofd, doc, …
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
