"""Form rules and conditional requirements over HTTP, on the product's own processes and forms,
on SQLite and PostgreSQL: a refused submission is a 422 with field errors — through the API and
re-rendered in place on the task page — and the task stays open, the case untouched."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from tests.scenarios import test_collective_decision as decision
from tests.scenarios import test_homestead_withdrawal as homestead
from tests.sign_in import page_sign_in
from tests.support import ApiUser

VILLAGE = decision.VILLAGE
COMMITTEE_USER = f"cwh.{VILLAGE}"
TOO_MANY_VOTES = "赞成、反对、弃权票数之和不能超过到会人数"


@pytest.fixture
def client(product_lf):
    with TestClient(create_app(product_lf, start_scheduler=False)) as test_client:
        yield test_client


def vote_task(product_lf) -> tuple[Any, dict[str, Any]]:
    case = decision.start(product_lf, "收益分配方案", "村民会议")
    name = decision.walk_to_vote(case, "村民会议")
    return case, case.task(name)


def snapshot(case) -> dict[str, Any]:
    view = case.refresh()
    return {
        "data": view["data"],
        "status": view["status"],
        "updated_at": view["updated_at"],
        "history": view["history"],
        "tasks": view["tasks"],
    }


def test_inconsistent_vote_numbers_are_refused_and_the_task_stays_open(product_lf, client):
    case, task = vote_task(product_lf)
    before = snapshot(case)
    committee = ApiUser(client, COMMITTEE_USER, "demo")

    body = committee.complete(task["id"], decision.vote_counts(100, 60, 40, 15, 10), expect=422)
    assert body["error"] == "validation_failed"
    assert sorted((e["field"], e["message"]) for e in body["errors"]) == sorted(
        (field, TOO_MANY_VOTES)
        for field in ("for_count", "against_count", "abstain_count", "present_count")
    )
    assert snapshot(case) == before  # no completion, no history entry, no new step
    assert not [
        h for h in before["history"] if h["task_id"] == task["id"] and h["action"] != "task_created"
    ]

    committee.complete(task["id"], decision.vote_counts(100, 60, 40, 15, 5))
    after = case.refresh()
    assert [h["task_id"] for h in after["history"] if h["action"] == "task_completed"][-1:] == [
        task["id"]
    ]
    assert case.open_names() == ["publish_decision"]


def test_the_household_counts_are_required_together(product_lf, client):
    case, task = vote_task(product_lf)
    committee = ApiUser(client, COMMITTEE_USER, "demo")
    counts = decision.vote_counts(100, 40, 30, household_count=80)
    body = committee.complete(task["id"], counts, expect=422)
    assert [e["field"] for e in body["errors"]] == ["households_present_count"]
    committee.complete(task["id"], {**counts, "households_present_count": 60})
    assert case.data["quorum_met"] is True  # 60 of 80 households: ≥ 2/3 of the households


def test_the_refusal_reason_is_required_only_when_a_check_fails(product_lf, client):
    case = homestead.start(product_lf)
    homestead.apply(case)
    task = case.task("collective_review")
    collective = ApiUser(client, f"jjzz.{VILLAGE}", "demo")
    failed = {**homestead.COLLECTIVE_PASS, "no_dispute": False}
    body = collective.complete(task["id"], failed, expect=422)
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("refusal_reason", "不予退出理由（任一项不符合时必填）：必填")
    ]
    assert case.open_names() == ["collective_review"]
    collective.complete(task["id"], homestead.COLLECTIVE_PASS)  # all checks pass: no reason
    assert case.open_names() == []


# ---- the task page ---------------------------------------------------------------------------
def sign_in(client: TestClient, username: str) -> None:
    response = page_sign_in(client, username, "demo")
    assert response.status_code == 303


def field_html(page: str, name: str) -> str:
    """The markup of one field: from its block's opening tag to the next field's."""
    found = re.search(rf'<div class="field[^"]*" id="field_{name}"', page)
    assert found, f"no field {name} on the page"
    following = re.search(r'<div class="field[ "]', page[found.end() :])
    end = found.end() + following.start() if following else len(page)
    return page[found.start() : end]


def test_the_task_page_shows_errors_in_place_and_keeps_the_input(product_lf, client):
    case, task = vote_task(product_lf)
    before = snapshot(case)
    sign_in(client, COMMITTEE_USER)
    page = client.get(f"/tasks/{task['id']}").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    posted = {
        **{k: str(v) for k, v in decision.vote_counts(100, 60, 40, 15, 10).items()},
        "household_count": "八十",
        "csrf_token": csrf,
    }
    response = client.post(f"/tasks/{task['id']}/complete", data=posted, follow_redirects=False)
    assert response.status_code == 422
    page = unescape(response.text)
    assert "表单数据未通过校验" in page
    for name in ("for_count", "against_count", "abstain_count", "present_count"):
        html = field_html(page, name)
        assert re.search(r'class="field [^"]*\binvalid\b', html) and TOO_MANY_VOTES in html
        assert f'value="{posted[name]}"' in html
    household = field_html(page, "household_count")
    assert "本村总户数（村民会议按户代表计算到会时填写）：应为整数" in household
    assert 'type="text"' in household and 'value="八十"' in household  # kept as typed
    assert TOO_MANY_VOTES not in field_html(page, "eligible_count")
    assert 'value="att-2026-032-会议记录.pdf"' in field_html(page, "minutes")
    assert snapshot(case) == before


def test_the_task_page_marks_conditional_fields_for_the_script(product_lf, client):
    case = homestead.start(product_lf)
    homestead.apply(case)
    task = case.task("collective_review")
    sign_in(client, f"jjzz.{VILLAGE}")
    page = client.get(f"/tasks/{task['id']}").text
    reason = field_html(page, "refusal_reason")
    assert 'data-show="when-required"' in reason and "data-required-when=" in reason
    assert '<span class="req" hidden>' in reason
    assert "required" not in reason.split("<textarea", 1)[1].split(">", 1)[0]
    opinion = field_html(page, "collective_review_opinion")
    assert '<span class="req">' in opinion and "data-required-when" not in opinion
    assert '<script src="/static/forms.js" defer></script>' in page
    assert client.get("/static/forms.js").status_code == 200
