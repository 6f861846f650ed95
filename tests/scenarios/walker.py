"""Walk a shipped process along one path and try every action at every user task it reaches.

A `Script` says how to answer: the form data of processes/demo/<process_id>.json, main-path
answers for the tasks that script does not cover, generated values (engine.demo_cases) for the
rest, the messages to send when the case waits for them, and how long to let a task wait before
it is completed (so that the timers of its boundary events open their tasks). `Script.branch`
overrides some of that so the walk takes an alternative path; an answer given as a list answers
the successive completions of that task in turn (the last one repeats), e.g. a failed vote first.

`Walker.run()` works the open tasks one at a time as the department each is routed to, which
first uploads a sample PDF for each required material (processes/materials.csv) the case lacks.
The first time it reaches a task it claims, unclaims and claims it again, transfers it to a
colleague, who suspends and resumes its time limit, asks for an extension that the department
head approves, delegates it back and gets it resolved, then returns it (退回) if the task offers
a return target and it was not returned yet, or completes it; for a task an earlier walk already
tried all that on (`tried_before`) it only returns or completes. Later visits only complete.
When no task is open it sends the next scripted message the case waits for, or moves the clock
to the next timer. After every action the case must not be in error, must have no open incident
and must round-trip its state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Set
from datetime import timedelta
from functools import cache, partial
from typing import Any

from sqlalchemy import select

from engine.db.tables import HumanTask, Instance, Job, MessageWait
from engine.demo_cases import generated
from engine.domain.sla import ClockState
from engine.services.actor import SYSTEM
from engine.services.attachment_samples import attach_samples
from engine.services.auth import hash_password
from engine.services.container import Landflow
from engine.services.organisation import UserSpec
from engine.services.views import task_view
from tests.scenarios.harness import Scenario
from tests.scenarios.walk_script import Script

ADDED_USER_PASSWORD = "walker-pass"
EXTENSION_DAYS = 5
MAX_STEPS = 400
LIMITS = ("statutory", "committed")  # the task clocks, the one extended first


class Walker:
    def __init__(
        self, lf: Landflow, script: Script, tried_before: Set[tuple[str, str]] = frozenset()
    ) -> None:
        """`tried_before`: (process, task name) an earlier walk tried every action on; this walk
        only returns (once) or completes them."""
        self.lf = lf
        self.script = script
        self.tried_before = tried_before
        self.case = Scenario(lf, script.process_id, script.region, data=script.start_data)
        self.visited: set[tuple[str, str]] = set()  # (task's process, task name)
        self.seen: set[tuple[str, str, str | None]] = set()  # ... and its loop item
        self.acted_on: set[tuple[str, str, str | None]] = set()  # every action tried
        self.returnable: set[tuple[str, str]] = set()
        self.returned: set[tuple[str, str]] = set()
        self.without_limit: set[tuple[str, str]] = set()  # no clock: suspend/extend not tried
        self.not_extendable: set[tuple[str, str]] = set()  # no clock the law lets be extended
        self.actions: Counter[str] = Counter()
        self.completed: Counter[str] = Counter()  # task name -> completions, for in-turn answers
        self.held: set[str] = set()
        self.sent: set[int] = set()  # indexes into script.messages
        self.added_users: set[str] = set()
        self.check()

    # ---- the walk --------------------------------------------------------------------------
    def run(self) -> None:
        for _ in range(MAX_STEPS):
            if self.status()[0] == "completed":
                return
            tasks = self.open_tasks()
            unroutable = [t for t in tasks if not t["department"]]
            assert not unroutable, [(t["name"], t["unroutable"]) for t in unroutable]
            if tasks:
                self.work(min(tasks, key=lambda t: t["name"] in self.script.holds))
            else:
                self.wait()
        raise AssertionError(f"{self.script.process_id} did not finish in {MAX_STEPS} steps")

    def work(self, task: dict[str, Any]) -> None:
        name = task["name"]
        if name in self.script.holds and name not in self.held:
            self.held.add(name)
            self.advance(self.script.holds[name])
            return
        self.case.expect_routed(task)
        self.attach_required_materials(task)
        key = (task["process_id"], name)
        self.visited.add(key)
        if self.return_targets(task):
            self.returnable.add(key)
        item = (task["process_id"], name, task["properties"].get("item"))
        if item in self.seen:  # e.g. reopened by a return: back to whoever holds it
            self.complete(task["assignee"] or task["department"], task)
            return
        self.seen.add(item)
        if key in self.tried_before:
            self.return_or_complete(task, task["department"], self.answer(task))
            return
        self.acted_on.add(item)
        self.try_every_action(task)

    def try_every_action(self, task: dict[str, Any]) -> None:
        demo, task_id = task["department"], task["id"]  # the department's demo user
        clerk = self.colleague(demo)
        self.act("claim", self.lf.tasks.claim, demo, task_id)
        assert self.row(task_id)["assignee"] == demo
        self.act("unclaim", self.lf.tasks.unclaim, demo, task_id)
        assert self.row(task_id)["assignee"] is None
        self.act("claim", self.lf.tasks.claim, demo, task_id)
        self.act("transfer", self.lf.tasks.transfer, demo, task_id, clerk)
        assert self.row(task_id)["assignee"] == clerk
        self.suspend_and_resume(task, clerk)
        self.extend(task, clerk)
        answer = self.answer(task)
        self.act("delegate", self.lf.tasks.delegate, clerk, task_id, demo)
        row = self.row(task_id)
        assert (row["assignee"], row["owner"], row["delegation"]) == (demo, clerk, "pending")
        self.act("resolve", self.lf.tasks.resolve, demo, task_id, answer, "已核对")
        row = self.row(task_id)
        assert (row["assignee"], row["delegation"], row["draft"]) == (clerk, "resolved", answer)
        self.return_or_complete(task, clerk, answer)

    # ---- the actions -----------------------------------------------------------------------
    def attach_required_materials(self, task: dict[str, Any]) -> None:
        """A sample PDF for each required material (processes/materials.csv) still missing."""
        upload = partial(attach_samples, self.lf.attachments)
        self.act("attach", upload, task["department"], task["id"])

    def return_or_complete(self, task: dict[str, Any], username: str, answer: dict) -> None:
        """退回 once per returnable task of the walk, else complete."""
        targets = self.return_targets(task)
        if targets and (task["process_id"], task["name"]) not in self.returned:
            self.return_to(task, username, targets[0])
        else:
            self.complete(username, task, answer)
            assert self.row(task["id"])["state"] == "done"

    def complete(self, username: str, task: dict[str, Any], answer: dict | None = None) -> None:
        answer = self.answer(task) if answer is None else answer
        self.act("complete", self.lf.tasks.complete, username, task["id"], answer)
        self.completed[task["name"]] += 1

    def suspend_and_resume(self, task: dict[str, Any], clerk: str) -> None:
        running = {c["id"] for c in self.clocks(task) if c["state"] in ClockState.RUNNING}
        if not running:
            declared = [k for k in LIMITS if task["properties"].get(f"sla_{k}")]
            assert not declared, f"'{task['name']}' declares {declared} but runs no clock"
            self.without_limit.add((task["process_id"], task["name"]))
            return
        self.act(
            "suspend",
            self.lf.sla.suspend,
            clerk,
            task["id"],
            # 专家评审 may pause a clock at any step; 补正 only within 5 working days of the
            # application (行政许可法 §32), which most steps of a long case are past
            "专家评审",
            "组织专家论证，时间不计入办理时限",
        )
        states = {c["id"]: c["state"] for c in self.clocks(task)}
        assert {states[c] for c in running} == {ClockState.PAUSED}, states
        self.act("resume", self.lf.sla.resume, clerk, task["id"])
        states = {c["id"]: c["state"] for c in self.clocks(task)}
        assert {states[c] for c in running} <= ClockState.RUNNING, states

    def extend(self, task: dict[str, Any], clerk: str) -> None:
        """The first clock (statutory, then committed) the law lets be extended, by as many days
        as it allows up to EXTENSION_DAYS (行政许可法 §42: a 5-working-day limit never is)."""
        key = (task["process_id"], task["name"])
        clocks = {c["kind"]: c for c in self.clocks(task)}
        if not any(k in clocks for k in LIMITS):
            self.without_limit.add(key)
            return
        kind = next(
            (k for k in LIMITS if k in clocks and clocks[k].get("max_extension") != 0), None
        )
        if kind is None:
            self.not_extendable.add(key)
            return
        days = min(EXTENSION_DAYS, clocks[kind].get("max_extension") or EXTENSION_DAYS)
        before = clocks[kind]["due_at"]
        self.act(
            "request_extension",
            self.lf.sla.request_extension,
            clerk,
            task["id"],
            days,
            "需补充现场踏勘",
            kind=kind,
        )
        self.act(
            "decide_extension",
            self.lf.sla.decide_extension,
            self.head(task["department"]),
            task["id"],
            True,
            "同意",
            kind=kind,
        )
        after = {c["kind"]: c for c in self.clocks(task)}[kind]
        assert after["extension_state"] == "approved", after
        assert after["extension_days"] == days, after
        assert before is None or after["due_at"] > before, (before, after["due_at"])

    def return_to(self, task: dict[str, Any], clerk: str, target: dict[str, Any]) -> None:
        """退回 to the first target the task offers: the target step opens again, routed to its
        department, and the returning task is closed."""
        reason = "材料需补充完善，退回重新办理"
        if "return_targets" in task:
            self.act(
                "return", self.lf.tasks.return_task, clerk, task["id"], reason, target=target["id"]
            )
        else:  # the task view before the return action was rebuilt: return_to property only
            self.act("return", self.lf.tasks.return_task, clerk, task["id"], reason)
        assert self.row(task["id"])["state"] != "open", "the returning task is still open"
        reopened = [t for t in self.open_tasks() if t["name"] == target["id"]]
        assert len(reopened) == 1, (target, [t["name"] for t in self.open_tasks()])
        self.case.expect_routed(reopened[0])
        if "returned" in reopened[0]:  # the task view since return became an engine action
            assert reopened[0]["returned"], f"'{target['id']}' does not say it was returned"
        self.returned.add((task["process_id"], task["name"]))

    def act(self, action: str, command: Callable[..., Any], username: str, *args: Any, **kw: Any):
        try:
            result = command(self.lf.auth.actor_for(username), *args, **kw)
        except Exception as exc:
            where = (
                f"{self.script.process_id}: {action} of '{self.row(args[0])['name']}' by {username}"
            )
            detail = getattr(exc, "details", None) or ""
            raise AssertionError(
                f"{where} failed: {exc.__class__.__name__} {exc} {detail}"
            ) from exc
        self.actions[action] += 1
        self.check(f"{action} of '{self.row(args[0])['name']}' by {username}")
        return result

    # ---- waiting ---------------------------------------------------------------------------
    def wait(self) -> None:
        """Nothing to do: send a scripted message the case waits for, else run the next timer."""
        waits = self.message_waits()
        reached = {name for _, name in self.visited}
        for index, message in enumerate(self.script.messages):
            if index in self.sent or message.name not in waits:
                continue
            if message.after is None or message.after in reached:
                self.sent.add(index)
                self.lf.messages.correlate(
                    SYSTEM, message.name, instance_id=self.case.id, payload=message.payload
                )
                self.check(f"message {message.name}")
                return
        due = self.next_timer()
        assert due is not None, (
            f"{self.script.process_id} is stuck: status {self.status()[0]}, no open task, "
            f"no timer, waits for {sorted(waits)}"
        )
        self.advance(max(due - self.lf.clock.now(), timedelta(0)) + timedelta(minutes=1))

    def advance(self, delta: timedelta) -> None:
        self.lf.clock.advance(delta)
        self.lf.jobs.run_due()
        self.check(f"moving the clock to {self.lf.clock.now():%Y-%m-%d %H:%M}")

    def message_waits(self) -> set[str]:
        with self.lf.uow.read() as session:
            query = select(MessageWait.message_name).where(MessageWait.instance_id == self.case.id)
            return set(session.scalars(query))

    def next_timer(self):
        with self.lf.uow.read() as session:
            return session.scalar(
                select(Job.due_at)
                .where(
                    Job.instance_id == self.case.id, Job.kind == "timer", Job.status == "pending"
                )
                .order_by(Job.due_at)
                .limit(1)
            )

    # ---- reading and checking --------------------------------------------------------------
    def check(self, after: str = "start") -> None:
        """The case is not in error, has no open incident, no failed job, and round-trips."""
        where = f"{self.script.process_id} after {after}"
        status, error = self.status()
        assert status != "error", f"{where}: case in error: {error}"
        incidents = getattr(self.lf, "incidents", None)
        if incidents is not None:
            found = incidents.list(SYSTEM, instance_id=self.case.id)
            found = found.get("items", found) if isinstance(found, dict) else found
            still_open = [i for i in found if i.get("status") == "open"]
            assert not still_open, f"{where}: open incidents: {still_open}"
        with self.lf.uow.read() as session:
            failed = session.execute(
                select(Job.kind, Job.target, Job.last_error).where(
                    Job.instance_id == self.case.id, Job.last_error.is_not(None)
                )
            ).all()
        assert not failed, f"{where}: failed jobs: {failed}"
        try:
            self.case.round_trip()
        except AssertionError as exc:
            raise AssertionError(f"{where}: the stored state does not round-trip") from exc

    # the rows themselves: the case view (with its growing history) is too slow to read after
    # every one of some thousand actions
    def status(self) -> tuple[str, str | None]:
        with self.lf.uow.read() as session:
            instance = session.get(Instance, self.case.id)
            return instance.status, instance.error

    def open_tasks(self) -> list[dict[str, Any]]:
        with self.lf.uow.read() as session:
            rows = session.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id == self.case.id, HumanTask.state == "open")
                .order_by(HumanTask.created_at, HumanTask.id)
            )
            return [task_view(row) for row in rows]

    def row(self, task_id: str) -> dict[str, Any]:
        with self.lf.uow.read() as session:
            return task_view(session.get(HumanTask, task_id))

    def clocks(self, task: dict[str, Any]) -> list[dict[str, Any]]:
        return self.lf.sla.task_clocks(SYSTEM, task["id"])["clocks"]

    @staticmethod
    def return_targets(task: dict[str, Any]) -> list[dict[str, Any]]:
        if "return_targets" in task:
            return list(task["return_targets"] or [])
        target = (task["properties"] or {}).get("return_to")
        return [{"id": target, "name": target}] if target else []

    def answer(self, task: dict[str, Any]) -> dict[str, Any]:
        answer = self.script.answers.get(task["name"])
        if isinstance(answer, list):
            answer = answer[min(self.completed[task["name"]], len(answer) - 1)]
        if callable(answer):
            return answer(self.case.data, task)
        if answer is not None:
            return dict(answer)
        return generated(self.lf, task["form_key"])

    def colleague(self, department: str) -> str:
        """A second clerk (handler only) of the department: the demo departments have one user."""
        return self.member(department, "handler", "经办人")

    def head(self, department: str) -> str:
        """Who signs off an extension: the demo user where it is the department's approver (not
        in the leadership-group offices, whose demo user is office, supervisor and handler)."""
        if self.lf.auth.actor_for(department).has_role(department, "approver"):
            return department
        return self.member(department, "approver", "负责人")

    def member(self, department: str, role: str, title: str) -> str:
        username = f"{department}-{role}"
        if username not in self.added_users:
            user = UserSpec(
                username, f"{department} {title}", _password_hash(), ((department, role),)
            )
            self.lf.organisation.load(SYSTEM, [], [], [user])
            self.added_users.add(username)
        return username


@cache
def _password_hash() -> str:
    """One hash for every added user: argon2 is slow on purpose."""
    return hash_password(ADDED_USER_PASSWORD)
