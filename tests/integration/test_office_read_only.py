"""A leadership-group office is read-only on the cases it watches (issue 11, item 7): it does
not start cases, comment on, claim or submit watched work — while the steps routed to its own
department (市领导小组 drafting a pilot plan) stay its own to do."""

from __future__ import annotations

import pytest

from engine.errors import NotFound, PermissionDenied
from engine.services.actor import SYSTEM

GUFANG = "330702101201"
CITY = "330700"
START_DATA = {"matter": "入市方案", "deciding_body": "村民代表会议"}


def who(lf, username: str):
    return lf.auth.actor_for(username)


def open_task(lf, case: dict) -> dict:
    return next(t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open")


@pytest.fixture
def watched(product_lf):
    case = product_lf.instances.start(SYSTEM, "collective_decision", GUFANG, "JC-1", START_DATA)
    return product_lf, case, open_task(product_lf, case)


def test_an_office_does_not_start_cases_in_its_territory(watched):
    lf, _, _ = watched
    for office in ("ldxz.330700", "ldxz.330702"):
        with pytest.raises(PermissionDenied) as refused:
            lf.instances.start(who(lf, office), "collective_decision", GUFANG, None, START_DATA)
        assert "不能发起办件" in refused.value.message
    with pytest.raises(NotFound):  # outside its territory the region does not exist for it
        lf.instances.start(who(lf, "ldxz.331000"), "collective_decision", GUFANG, None, START_DATA)
    started = lf.instances.start(
        who(lf, "dzz.330702101201"), "collective_decision", GUFANG, None, START_DATA
    )
    assert started["started_by"] == "dzz.330702101201"


def test_an_office_watches_but_neither_claims_nor_submits(watched):
    lf, case, task = watched
    office = who(lf, "ldxz.330700")
    assert lf.instances.get(office, case["id"])["id"] == case["id"]
    assert lf.inbox.get(office, task["id"])["can_act"] is False
    for attempt in (
        lambda: lf.tasks.claim(office, task["id"]),
        lambda: lf.tasks.complete(office, task["id"], {"proposal_summary": "x"}),
        lambda: lf.tasks.save_draft(office, task["id"], {}),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert lf.instances.get(SYSTEM, case["id"])["tasks"][0]["state"] == "open"


def test_an_office_does_not_comment_on_watched_work(watched):
    lf, _, task = watched
    with pytest.raises(PermissionDenied):
        lf.tasks.comment(who(lf, "ldxz.330700"), task["id"], "请加快办理")


def test_the_task_owners_still_comment(watched):
    lf, _, task = watched
    said = lf.tasks.comment(who(lf, "dzz.330702101201"), task["id"], "已收到")
    assert said["author"] == "dzz.330702101201"


def test_an_office_still_does_the_steps_routed_to_its_own_department(product_lf):
    lf = product_lf
    case = lf.instances.start(SYSTEM, "pilot_plan_approval", CITY, "JH-SYQ-1", {})
    task = open_task(lf, case)
    assert (task["name"], task["department"]) == ("draft_plan", "ldxz.330700")
    office = who(lf, "ldxz.330700")
    assert lf.inbox.get(office, task["id"])["can_act"] is True
    lf.tasks.claim(office, task["id"])
    assert lf.tasks.comment(office, task["id"], "起草中")["author"] == "ldxz.330700"
