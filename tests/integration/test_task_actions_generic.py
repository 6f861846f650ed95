"""Every action the task page offers works, in every process (generated).

Each shipped process is walked along its main path (tests/scenarios/walker.py, with the
main-path scripts of test_every_action.py), on SQLite and PostgreSQL. At each user task reached,
the task is worked as the page lets each user work it: before every action, the page's offers for
that user (engine.web.task_context.gather → task_offers.py, the very code the page renders
from) must contain it, and the service must then accept it — no 409, no 403, no 500. In turn:
暂存 and 认领 by the department's clerk, 取消认领, 认领 again, 转办 to a colleague, who 中止计时
(补正 while the law still allows it, else another reason) and 恢复, 申请延期 that the head — and
only the head — is offered to approve, 委托 back and 交回; then 退回 or 办理. Over the task, every
action offered to anyone at any point must have been taken (办理 and 退回 exclude each other),
and a leadership office watching the region is offered nothing."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from engine.services.actor import Actor
from engine.web.task_context import gather
from engine.web.task_offers import Offers
from tests.scenarios.test_every_action import MAIN
from tests.scenarios.walker import EXTENSION_DAYS, Walker

FINISHING = {"complete", "return"}


class PageWalker(Walker):
    """The walker, acting only through what the task page offers."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.offered: dict[tuple[str, str, Any], set[str]] = defaultdict(set)
        self.taken: dict[tuple[str, str, Any], set[str]] = defaultdict(set)
        self.watched = 0
        self.office_steps = 0

    def offers(self, username: str, task_id: str) -> Offers:
        return gather(self.lf, self.actor(username), task_id)["offers"]

    def actor(self, username: str) -> Actor:
        return self.lf.auth.actor_for(username)

    def on_page(self, key: tuple, username: str, task_id: str, action: str) -> Offers:
        """The page offers `action` to `username` now."""
        offers = self.offers(username, task_id)
        self.offered[key] |= offers.names()
        assert action in offers.names(), (
            f"{self.script.process_id}: '{key[1]}' does not offer {action} to {username}; "
            f"it offers {sorted(offers.names())}"
        )
        self.taken[key].add(action)
        return offers

    def try_every_action(self, task: dict[str, Any]) -> None:
        demo, task_id = task["department"], task["id"]
        key = (task["process_id"], task["name"], task["properties"].get("item"))
        clerk, head = self.colleague(demo), self.head(demo)
        answer = self.answer(task)
        self.not_offered_to_a_watcher(task)

        offers = self.on_page(key, demo, task_id, "claim")
        if task["form_key"]:
            self.on_page(key, demo, task_id, "save_draft")
            self.act("save_draft", self.lf.tasks.save_draft, demo, task_id, answer)
        self.act("claim", self.lf.tasks.claim, demo, task_id)
        self.on_page(key, demo, task_id, "unclaim")
        self.act("unclaim", self.lf.tasks.unclaim, demo, task_id)
        self.on_page(key, demo, task_id, "claim")
        self.act("claim", self.lf.tasks.claim, demo, task_id)
        offers = self.on_page(key, demo, task_id, "transfer")
        assert clerk in {p["username"] for p in offers.transfer_to}
        self.act("transfer", self.lf.tasks.transfer, demo, task_id, clerk)

        offers = self.offers(clerk, task_id)
        self.offered[key] |= offers.names()
        if offers.suspension_types:
            self.suspend_as_offered(key, clerk, task_id, offers)
        if offers.extensions:
            self.extend_as_offered(key, clerk, head, task_id, offers)

        self.on_page(key, clerk, task_id, "delegate")
        self.act("delegate", self.lf.tasks.delegate, clerk, task_id, demo)
        offers = self.on_page(key, demo, task_id, "resolve")
        assert "complete" not in offers.names()  # the delegate hands back, the owner finishes
        assert "save_draft" in offers.names() or not task["form_key"]
        self.act("resolve", self.lf.tasks.resolve, demo, task_id, answer, "已核对")

        offers = self.offers(clerk, task_id)
        targets = offers.return_targets
        if targets and (task["process_id"], task["name"]) not in self.returned:
            self.on_page(key, clerk, task_id, "return")
            self.return_to(task, clerk, dict(targets[0]))
        else:
            self.on_page(key, clerk, task_id, "complete")
            self.complete(clerk, task, answer)
        left = self.offered[key] - self.taken[key]
        assert left <= FINISHING, f"{key[1]}: offered but never taken: {sorted(left)}"

    def suspend_as_offered(self, key: tuple, clerk: str, task_id: str, offers: Offers) -> None:
        self.on_page(key, clerk, task_id, "suspend")
        kind = next(t for t in offers.suspension_types if not t.late)
        items = ["宗地图"] if kind.key == "补正" else None
        self.act("suspend", self.lf.sla.suspend, clerk, task_id, kind.key, "材料需补充", items)
        after = self.on_page(key, clerk, task_id, "resume")
        assert "suspend" not in after.names()  # one suspension at a time
        self.act("resume", self.lf.sla.resume, clerk, task_id)

    def extend_as_offered(
        self, key: tuple, clerk: str, head: str, task_id: str, offers: Offers
    ) -> None:
        self.on_page(key, clerk, task_id, "request_extension")
        choice = offers.extensions[0]
        days = min(EXTENSION_DAYS, choice.max_days)
        self.act(
            "request_extension",
            self.lf.sla.request_extension,
            clerk,
            task_id,
            days,
            "需补充现场踏勘",
            kind=choice.kind,
        )
        assert "decide_extension" not in self.offers(clerk, task_id).names()  # not who asked
        decision = self.on_page(key, head, task_id, "decide_extension").decisions[0]
        assert decision.kind == choice.kind
        self.act(
            "decide_extension",
            self.lf.sla.decide_extension,
            head,
            task_id,
            True,
            "同意",
            kind=choice.kind,
        )

    def not_offered_to_a_watcher(self, task: dict[str, Any]) -> None:
        """The leadership office (领导小组办公室) of the task's county may watch, not act."""
        office = f"ldxz.{task['region'][:6]}"
        if office == task["department"]:
            self.office_steps += 1  # the office's own step (督办, 领导小组审议)
            return
        offers = self.offers(office, task["id"])
        assert offers.names() == set() and offers.watching_only, (office, offers.names())
        self.watched += 1


@pytest.mark.parametrize("process_id", sorted(MAIN))
def test_every_action_the_task_page_offers_is_accepted(product_lf, process_id):
    walker = PageWalker(product_lf, MAIN[process_id]())
    walker.run()
    assert walker.case.status == "completed"
    assert walker.acted_on, f"{process_id}: no user task was worked"
    assert walker.watched + walker.office_steps == len(walker.acted_on)
    taken = set().union(*walker.taken.values())
    assert {"claim", "unclaim", "transfer", "delegate", "resolve", "complete"} <= taken
    if process_id == "joint_review_entry":  # the application's precheck is in the §32 window
        assert {"save_draft", "suspend", "resume", "request_extension", "decide_extension"} <= (
            taken
        )
