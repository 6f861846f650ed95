"""Which actions the task page offers a user: exactly those the services would accept from them
now (办理, 暂存, 交回, 认领, 取消认领, 转办, 委托, 退回, 中止/补正, 恢复, 申请延期, 审批延期).
The rules mirror the checks of engine/services/tasks.py and sla.py; the generated test
tests/integration/test_task_actions_generic.py holds them to that on every shipped process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.domain.sla import ClockState
from engine.domain.time_limits import KIND_NAMES
from engine.services.actor import Actor
from engine.services.sla_law import SUPPLEMENT, SUSPENSION_TYPES

MAX_EXTENSION_DAYS = 60  # SlaService.request_extension refuses more


@dataclass(frozen=True)
class SuspensionType:
    key: str
    label: str
    late: bool = False  # a 补正 past its notice deadline: refused, the case counts as accepted


@dataclass(frozen=True)
class ExtensionChoice:
    kind: str
    label: str
    max_days: int
    request: dict[str, Any] | None = None  # the pending request, for a head's decision


@dataclass(frozen=True)
class Offers:
    claim: bool = False
    unclaim: bool = False
    complete: bool = False
    save_draft: bool = False
    resolve: bool = False
    return_targets: tuple[dict[str, str], ...] = ()
    transfer_to: tuple[dict[str, str], ...] = ()
    delegate_to: tuple[dict[str, str], ...] = ()
    suspension_types: tuple[SuspensionType, ...] = ()
    resume: bool = False
    extensions: tuple[ExtensionChoice, ...] = ()
    decisions: tuple[ExtensionChoice, ...] = ()
    watching_only: bool = False  # may see, not act (a leadership office)
    delegated_away: bool = False  # the owner waits for the delegate
    supplement_deadline: date | None = field(default=None)

    def names(self) -> set[str]:
        """The offered actions by name (the page's forms and the generated test use them)."""
        offered = {
            "claim": self.claim,
            "unclaim": self.unclaim,
            "complete": self.complete,
            "save_draft": self.save_draft,
            "resolve": self.resolve,
            "return": bool(self.return_targets),
            "transfer": bool(self.transfer_to),
            "delegate": bool(self.delegate_to),
            "suspend": bool(self.suspension_types),
            "resume": self.resume,
            "request_extension": bool(self.extensions),
            "decide_extension": bool(self.decisions),
        }
        return {name for name, yes in offered.items() if yes}

    @property
    def secondary(self) -> bool:
        """Anything for the 更多操作 panel."""
        return bool(
            self.return_targets
            or self.transfer_to
            or self.delegate_to
            or self.suspension_types
            or self.extensions
        )


def offers_for(
    actor: Actor,
    task: dict[str, Any],
    clocks: dict[str, Any] | None,
    colleagues: list[dict[str, str]],
    has_incident: bool,
    today: date,
    supplement_deadline: date | None,
) -> Offers:
    if task["state"] != "open":
        return Offers()
    if not task.get("can_act"):
        return Offers(watching_only=True)
    if has_incident:
        return Offers()
    principals = actor.principals()
    holder = task.get("assignee") in principals
    pending = task.get("delegation") == "pending"
    may_finish = not pending and (task.get("assignee") is None or holder or actor.is_admin)
    has_form = not task.get("form_problem")
    hands_on = (holder or actor.is_admin) and not pending
    clock_rows = list((clocks or {}).get("clocks") or [])
    return Offers(
        claim=task.get("assignee") is None and task.get("department") is not None,
        unclaim=task.get("assignee") is not None and (holder or actor.is_admin) and not pending,
        complete=may_finish and has_form,
        save_draft=bool(task.get("form_key")) and has_form and (may_finish or (pending and holder)),
        resolve=pending and holder,
        return_targets=tuple(task.get("return_targets") or ()) if may_finish else (),
        transfer_to=tuple(colleagues) if hands_on else (),
        delegate_to=tuple(colleagues) if hands_on else (),
        suspension_types=_suspension_types(clocks, clock_rows, today, supplement_deadline),
        resume=any(c["state"] == ClockState.PAUSED for c in clock_rows),
        extensions=tuple(
            ExtensionChoice(c["kind"], KIND_NAMES.get(c["kind"], "时限"), _max_days(c))
            for c in clock_rows
            if c.get("extension_state") is None
            and c["state"] in ClockState.OPEN
            and c.get("max_extension") != 0
        ),
        decisions=tuple(
            ExtensionChoice(
                c["kind"], KIND_NAMES.get(c["kind"], "时限"), _max_days(c), c["extension_request"]
            )
            for c in clock_rows
            if c.get("extension_state") == "requested"
            and _may_decide(actor, task, c.get("extension_request") or {})
        ),
        delegated_away=pending and task.get("owner") in principals,
        supplement_deadline=supplement_deadline,
    )


def _suspension_types(
    clocks: dict[str, Any] | None,
    rows: list[dict[str, Any]],
    today: date,
    deadline: date | None,
) -> tuple[SuspensionType, ...]:
    if not any(c["state"] in ClockState.RUNNING for c in rows):
        return ()
    used = {s.get("reason_type") for s in (clocks or {}).get("suspensions") or []}
    accepted = bool((clocks or {}).get("accepted_by_law"))
    offered = []
    for key, label in SUSPENSION_TYPES.items():
        if key == SUPPLEMENT and (SUPPLEMENT in used or accepted):
            continue  # 补正 is notified once (行政许可法 §32); after acceptance by law, never
        late = key == SUPPLEMENT and deadline is not None and today > deadline
        offered.append(SuspensionType(key, label, late))
    return tuple(offered)


def _max_days(clock: dict[str, Any]) -> int:
    limit = clock.get("max_extension")
    return MAX_EXTENSION_DAYS if limit is None else min(int(limit), MAX_EXTENSION_DAYS)


def _may_decide(actor: Actor, task: dict[str, Any], request: dict[str, Any]) -> bool:
    """A head of the task's department other than who asked (admins always)."""
    if actor.is_admin:
        return True
    return actor.has_role(task.get("department") or "", "approver") and (
        request.get("by") != actor.username
    )
