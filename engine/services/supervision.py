"""督办单 (supervision orders): a leadership-group office issues one by hand about a case or a
step of it in its territory (the ladder issues them when a step goes red), the supervised
department replies (反馈) in its inbox, the office closes it (办结), asks for a further reply or
escalates it (升级) to the next office up or the next grade.

Who: issuing, closing, sending back and escalating are for the office's members (the issuing
office's, for an order); replying is for the supervised department. A reader sees the orders
its offices issued, those sent to its departments, and, as an office, those about cases of its
territory; anything else does not exist for them (404)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import false, func, or_, select, true
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import HumanTask, Instance, SupervisionOrder
from engine.db.types import path_prefix
from engine.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed

from .access import Access
from .actor import Actor
from .names import NameBook
from .notify.outbox import Outbox
from .supervision_cases import end_by_escalation
from .supervision_issue import (
    OFFICES_ONLY,
    IssueRequest,
    check_request,
    covering_offices,
    issuing_office,
    offices_of,
    subject,
    supervised_department,
)
from .supervision_orders import FURTHER, SupervisionOrders
from .supervision_records import (
    ANSWERED,
    CLOSED,
    ESCALATED,
    GRADE_NAMES,
    GRADES,
    OPEN,
    OrderSpec,
)
from .supervision_views import REPLY, REVIEW, steps_on_case, views
from .uow import UnitOfWork

if TYPE_CHECKING:
    from .instances import InstanceService
    from .tasks import TaskService

__all__ = ["IssueRequest", "SupervisionService"]
STATUSES = (OPEN, ANSWERED, "overdue", CLOSED, ESCALATED)
SCOPES = ("office", "department")
NOT_FOUND = "未找到该督办单，或您无权查看"


class SupervisionService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        access: Access,
        instances: InstanceService,
        tasks: TaskService,
        names: NameBook,
        outbox: Outbox,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.access = access
        self.instances = instances
        self.tasks = tasks
        self.names = names
        self.orders = SupervisionOrders(instances, clock, outbox)
        instances.sla.escalation.orders = self.orders  # the ladder issues through the book
        _follow_order_cases(instances, self.orders)

    # ---- reading ---------------------------------------------------------------------------
    def list(
        self,
        actor: Actor,
        status: str = OPEN,
        scope: str = "",
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Orders visible to the actor: `status` open, answered, overdue, closed, escalated or
        "" for all; `scope` office (issued by my offices), department (sent to mine) or ""."""
        if status not in (*STATUSES, ""):
            raise ValidationFailed("筛选条件无效", [FieldError("status", "没有这种督办单状态")])
        if scope not in (*SCOPES, ""):
            problem = FieldError("scope", "范围应为本办公室或本部门")
            raise ValidationFailed("筛选条件无效", [problem])
        now = self.clock.now()
        with self.uow.read() as session:
            where = [self._visible(actor), self._scope(actor, scope)]
            query = select(SupervisionOrder).where(*where, self._status(status, now))
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(
                query.order_by(SupervisionOrder.created_at.desc(), SupervisionOrder.id.desc())
                .limit(min(max(limit, 1), 500))
                .offset(max(offset, 0))
            ).all()
            counts = {
                s: session.scalar(
                    select(func.count())
                    .select_from(SupervisionOrder)
                    .where(*where, self._status(s, now))
                )
                for s in STATUSES
            }
            return {
                "items": views(session, self.names, actor, rows, now),
                "total": total,
                "counts": counts,
            }

    def get(self, actor: Actor, order_id: int) -> dict[str, Any]:
        with self.uow.read() as session:
            order = self._order(session, actor, order_id)
            [view] = views(session, self.names, actor, [order], self.clock.now())
            related = [i for i in (order.parent_id, order.escalated_to) if i]
            linked = session.scalars(
                select(SupervisionOrder).where(SupervisionOrder.id.in_(related))
            ).all()
            linked_views = {
                v["id"]: v for v in views(session, self.names, actor, linked, self.clock.now())
            }
            view["parent"] = linked_views.get(order.parent_id or 0)
            view["escalated_order"] = linked_views.get(order.escalated_to or 0)
            view["steps"] = steps_on_case(session, order)
            return view

    def issue_options(
        self, actor: Actor, instance_id: str | None, task_id: str | None = None
    ) -> dict[str, Any]:
        """What the issue form offers: the case, its open steps and their departments, the
        actor's offices over it, the grades and the default reply days."""
        with self.uow.read() as session:
            instance, task = subject(session, self.access, actor, instance_id, task_id)
            if not offices_of(actor):
                raise PermissionDenied(OFFICES_ONLY)
            # the office nearest the case first, as issuing picks it
            found = covering_offices(session, actor, instance.region_path)
            covering = sorted(found, key=lambda o: -len(found[o]))
            steps = session.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
                .order_by(HumanTask.created_at, HumanTask.id)
            ).all()
            return {
                "instance_id": instance.id,
                "case_no": instance.case_no,
                "case_title": instance.title,
                "task_id": task.id if task is not None else None,
                "steps": [
                    {
                        "task_id": t.id,
                        "title": t.title,
                        "department": t.department,
                        "department_name": self.names.department(t.department),
                        "sla_state": t.sla_state,
                        "due_at": t.due_at.isoformat() if t.due_at else None,
                    }
                    for t in steps
                    if t.department
                ],
                "offices": [{"code": o, "name": self.names.department(o)} for o in covering],
                "grades": [{"code": g, "name": GRADE_NAMES[g]} for g in GRADES],
                "reply_days": self.orders.default_reply_days(
                    session, next(iter(covering), instance.region)
                ),
            }

    # ---- commands --------------------------------------------------------------------------
    def issue(self, actor: Actor, request: IssueRequest) -> dict[str, Any]:
        """An office issues an order by hand; one transaction with its case and notice."""
        check_request(request)
        with self.uow.write() as session:
            instance, task = subject(
                session, self.access, actor, request.instance_id, request.task_id
            )
            office = issuing_office(session, actor, request.office, instance, self.names)
            department = supervised_department(session, office, task, request.department)
            same_step = (
                SupervisionOrder.task_id == task.id
                if task is not None
                else SupervisionOrder.task_id.is_(None)
            )
            pending = session.scalar(
                select(SupervisionOrder.id).where(
                    SupervisionOrder.instance_id == instance.id,
                    SupervisionOrder.office == office,
                    SupervisionOrder.department == department,
                    same_step,
                    SupervisionOrder.status.in_((OPEN, ANSWERED)),
                )
            )
            if pending is not None:
                raise Conflict(
                    "本办公室对该事项已有未办结的督办单，请在原督办单上办理或升级",
                    order_id=pending,
                )
            now = self.clock.now()
            days = request.reply_days or self.orders.default_reply_days(session, office)
            spec = OrderSpec(
                instance,
                task,
                None,
                office,
                department,
                request.grade,
                request.text.strip(),
                days,
            )
            order = self.orders.issue(session, actor, spec, now)
            order_id = order.id
        return self.get(actor, order_id)

    def reply(self, actor: Actor, order_id: int, data: dict[str, Any]) -> dict[str, Any]:
        """The supervised department's 反馈: the order's reply step, completed with the form."""
        task_id = self._open_step(actor, order_id, REPLY, OPEN, "该督办单当前不在等待反馈")
        self.tasks.complete(actor, task_id, data)
        return self.get(actor, order_id)

    def close(self, actor: Actor, order_id: int, opinion: str = "") -> dict[str, Any]:
        task_id = self._open_step(actor, order_id, REVIEW, ANSWERED, "尚未反馈的督办单不能办结")
        data = {"review_decision": "办结", **({"review_opinion": opinion} if opinion else {})}
        self.tasks.complete(actor, task_id, data)
        return self.get(actor, order_id)

    def send_back(self, actor: Actor, order_id: int, opinion: str, days: int) -> dict[str, Any]:
        task_id = self._open_step(actor, order_id, REVIEW, ANSWERED, "尚未反馈的督办单不能退回")
        data = {"review_decision": FURTHER, "review_opinion": opinion, "further_reply_days": days}
        self.tasks.complete(actor, task_id, data)
        return self.get(actor, order_id)

    def escalate(self, actor: Actor, order_id: int, reason: str) -> dict[str, Any]:
        """升级: answered, the review step decides it; still waiting for the reply, the reply
        step ends and the next order is issued, in one transaction."""
        reason = (reason or "").strip()
        if not reason or len(reason) > 2000:
            raise ValidationFailed(
                "升级理由无效", [FieldError("reason", "请写明升级理由（不超过2000字）")]
            )
        with self.uow.read() as session:
            order = self._order(session, actor, order_id)
            self._check_runs(actor, order)
            status = order.status
        if status == ANSWERED:
            task_id = self._open_step(actor, order_id, REVIEW, ANSWERED, "该督办单已变化")
            data = {"review_decision": "升级督办", "review_opinion": reason}
            self.tasks.complete(actor, task_id, data)
            return self.get(actor, order_id)
        with self.uow.write() as session:
            order = self._order(session, actor, order_id)
            if order.status != OPEN:
                raise Conflict("该督办单已办结或已升级，请刷新后查看")
            now = self.clock.now()
            case = session.get(Instance, order.order_instance_id or "")
            if case is None:  # an order kept as a row only
                self.orders.escalate(session, order, actor, reason, now)
            else:
                self.access.check_no_incident(session, case.id)
                end_by_escalation(session, self.instances, case, actor, {"reason": reason}, now)
        return self.get(actor, order_id)

    # ---- internals -------------------------------------------------------------------------
    def _open_step(self, actor: Actor, order_id: int, step: str, status: str, refusal: str) -> str:
        with self.uow.read() as session:
            order = self._order(session, actor, order_id)
            if step == REVIEW:
                self._check_runs(actor, order)
            if order.status != status:
                raise Conflict(refusal)
            task_id = session.scalar(
                select(HumanTask.id).where(
                    HumanTask.instance_id == (order.order_instance_id or ""),
                    HumanTask.task_spec == step,
                    HumanTask.state == "open",
                )
            )
            if task_id is None:
                raise Conflict(refusal)
            return task_id

    def _check_runs(self, actor: Actor, order: SupervisionOrder) -> None:
        if not self.orders.may_run(actor, order):
            raise PermissionDenied("只有下达督办的领导小组办公室可以办结、退回或升级督办单")

    def _order(self, session: Session, actor: Actor, order_id: int) -> SupervisionOrder:
        order = session.scalar(
            select(SupervisionOrder).where(SupervisionOrder.id == order_id, self._visible(actor))
        )
        if order is None:
            raise NotFound(NOT_FOUND)
        return order

    def _visible(self, actor: Actor):
        if actor.is_admin:
            return true()
        clauses = []
        if actor.departments:
            mine = sorted(actor.departments)
            clauses += [SupervisionOrder.office.in_(mine), SupervisionOrder.department.in_(mine)]
        if actor.territories:
            watched = select(Instance.id).where(
                or_(*[path_prefix(Instance.region_path, t) for t in actor.territories])
            )
            clauses.append(SupervisionOrder.instance_id.in_(watched))
        return or_(*clauses) if clauses else false()

    @staticmethod
    def _scope(actor: Actor, scope: str):
        if scope == "office":
            return SupervisionOrder.office.in_(sorted(actor.departments))
        if scope == "department":
            return SupervisionOrder.department.in_(sorted(actor.departments))
        return true()

    @staticmethod
    def _status(status: str, now):
        if status == "overdue":
            return (SupervisionOrder.status == OPEN) & or_(
                SupervisionOrder.overdue_at.is_not(None),
                SupervisionOrder.order_instance_id.is_(None)
                & (SupervisionOrder.reply_due_at < now),
            )
        return SupervisionOrder.status == status if status else true()


def _follow_order_cases(instances: InstanceService, orders: SupervisionOrders) -> None:
    """Every save of an order's case (a completed step, a return, a message, a retry) brings
    its row in step, in the same transaction."""

    def follow(session, instance, actor, now):
        if orders.is_order_case(instance):
            orders.sync(session, instance, actor, now)

    instances.listeners.append(follow)
