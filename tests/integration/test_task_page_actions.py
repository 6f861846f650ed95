"""The services behind the task page's actions, on SQLite and PostgreSQL: 暂存 (save_draft), the
colleagues a task can be handed to, the opinion and the next steps a completion records, refusals
in Chinese; and over HTTP, a refused action comes back on the task page next to its input."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.auth import hash_password
from engine.services.organisation import UserSpec
from tests.scenarios import test_joint_review_entry as entry
from tests.scenarios.harness import Scenario
from tests.sign_in import page_sign_in

COUNTY = "zrzy.330702"
COLLEAGUE = "wang.zrzy"
ENGLISH = re.compile(r"[A-Za-z]{3,}")


def with_materials(case: Scenario, name: str, username: str) -> None:
    service = getattr(case.lf, "attachments", None)
    if service is None:
        return
    from engine.services.attachment_samples import attach_samples

    attach_samples(service, case.lf.auth.actor_for(username), case.task(name)["id"])


@pytest.fixture
def precheck(product_lf):
    """A 入市 application submitted: its precheck waits at the county bureau, which has a
    second clerk."""
    product_lf.organisation.load(
        SYSTEM,
        [],
        [],
        [UserSpec(COLLEAGUE, "王经办", hash_password("demo"), ((COUNTY, "handler"),))],
    )
    case = entry.start(product_lf)
    with_materials(case, "apply", "applicant.330702101201")
    case.complete("apply", entry.application(), by=entry.APPLICANT)
    return case, case.task("precheck")


def actor(lf, username):
    return lf.auth.actor_for(username)


def test_a_draft_keeps_what_was_typed_for_who_may_finish_the_task(product_lf, precheck):
    case, task = precheck
    lf = product_lf
    typed = {"precheck_opinion": "初步符合", "ownership_registered": True, "no_such_field": 1}
    lf.tasks.save_draft(actor(lf, COUNTY), task["id"], typed)
    assert lf.inbox.get(SYSTEM, task["id"])["draft"] == {
        "precheck_opinion": "初步符合",
        "ownership_registered": True,
    }
    assert case.task("precheck")["assignee"] is None  # a draft does not claim the task
    lf.tasks.claim(actor(lf, COLLEAGUE), task["id"])
    with pytest.raises(Conflict) as held:
        lf.tasks.save_draft(actor(lf, COUNTY), task["id"], {"precheck_opinion": "改"})
    assert held.value.message == "该环节已由王经办认领"
    with pytest.raises(NotFound):
        lf.tasks.save_draft(actor(lf, "zrzy.330782"), task["id"], {})  # another county
    with pytest.raises(PermissionDenied):
        lf.tasks.save_draft(actor(lf, "ldxz.330702"), task["id"], {})  # an office watches
    with pytest.raises(ValidationFailed):
        lf.tasks.save_draft(actor(lf, COLLEAGUE), task["id"], ["not", "an", "object"])
    lf.tasks.delegate(actor(lf, COLLEAGUE), task["id"], COUNTY)
    lf.tasks.save_draft(actor(lf, COUNTY), task["id"], {"precheck_opinion": "受托初稿"})
    assert lf.inbox.get(SYSTEM, task["id"])["draft"] == {"precheck_opinion": "受托初稿"}


def test_colleagues_are_the_active_members_of_the_department_by_name(product_lf, precheck):
    _, task = precheck
    lf = product_lf
    # alice and bob are test clerks of the county bureau too (tests/conftest.py)
    names = lf.tasks.colleagues(actor(lf, COUNTY), task["id"])
    assert names == [
        {"username": "alice", "name": "Alice"},
        {"username": "bob", "name": "Bob"},
        {"username": COLLEAGUE, "name": "王经办"},
    ]
    seen = {p["username"] for p in lf.tasks.colleagues(actor(lf, COLLEAGUE), task["id"])}
    assert COUNTY in seen and COLLEAGUE not in seen


def test_a_completion_records_its_opinion_and_where_the_case_went(product_lf, precheck):
    case, task = precheck
    product_lf.tasks.complete(actor(product_lf, COUNTY), task["id"], entry.PRECHECK_OK)
    [completed] = [
        h
        for h in case.refresh()["history"]
        if h["action"] == "task_completed" and h["task_id"] == task["id"]
    ]
    assert completed["details"]["opinion"] == {
        "decision": "",
        "stance": None,
        "stance_label": "",
        "reason": "符合入市条件",
    }
    opened = {(n["title"], n["department"]) for n in completed["details"]["next"]}
    assert opened == {
        ("出具规划条件", "zrzy.330702"),
        ("提出产业准入要求", "fgw.330702"),
        ("提出生态环境保护要求", "sthj.330702"),
    }
    assert {n["task_id"] for n in completed["details"]["next"]} == {
        t["id"] for t in case.open_tasks()
    }


def test_refusals_are_in_chinese(product_lf, precheck):
    _, task = precheck
    lf, task_id = product_lf, task["id"]
    county, colleague = actor(lf, COUNTY), actor(lf, COLLEAGUE)
    refusals = []
    for command in (
        lambda: lf.tasks.unclaim(county, task_id),
        lambda: lf.tasks.transfer(county, task_id, COLLEAGUE),
        lambda: lf.sla.resume(county, task_id),
        lambda: lf.tasks.resolve(county, task_id),
        lambda: lf.sla.decide_extension(colleague, task_id, True),
    ):
        with pytest.raises((Conflict, PermissionDenied)) as refused:
            command()
        refusals.append(refused.value.message)
    lf.tasks.claim(colleague, task_id)
    for command in (
        lambda: lf.tasks.claim(county, task_id),
        lambda: lf.tasks.unclaim(county, task_id),
        lambda: lf.tasks.complete(county, task_id, entry.PRECHECK_OK),
    ):
        with pytest.raises(Conflict) as refused:
            command()
        refusals.append(refused.value.message)
    with pytest.raises(ValidationFailed) as refused:
        lf.tasks.transfer(colleague, task_id, "zrzy.330782")
    refusals.extend(e.message for e in refused.value.errors)
    lf.tasks.delegate(colleague, task_id, COUNTY)
    with pytest.raises(Conflict) as refused:
        lf.tasks.delegate(colleague, task_id, COUNTY)
    refusals.append(refused.value.message)
    lf.tasks.resolve(county, task_id, {})
    lf.tasks.complete(colleague, task_id, entry.PRECHECK_OK)
    with pytest.raises(Conflict) as refused:
        lf.tasks.claim(county, task_id)
    refusals.append(refused.value.message)
    assert len(refusals) == 11
    for message in refusals:
        assert not ENGLISH.search(message), message
        assert COUNTY not in message and COLLEAGUE not in message, message
    assert "王经办" in refusals[5] and "婺城区自然资源和规划局" in refusals[8]
    assert refusals[-1] == "该环节已办理完成，请刷新后查看"


def sign_in(client: TestClient, username: str) -> str:
    page_sign_in(client, username, "demo", follow_redirects=True)
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_refused_action_comes_back_on_the_task_page_next_to_its_input(product_lf, precheck):
    _, task = precheck
    with TestClient(create_app(product_lf, start_scheduler=False)) as client:
        sign_in(client, COUNTY)
        page = client.get(f"/tasks/{task['id']}")
        assert page.status_code == 200
        client.post(f"/tasks/{task['id']}/claim", data={"csrf_token": csrf_of(page.text)})
        refused = client.post(
            f"/tasks/{task['id']}/transfer", data={"csrf_token": csrf_of(page.text), "to": ""}
        )
        assert refused.status_code == 422
        assert '<details class="more-actions" open' in refused.text
        after_the_picker = refused.text.split('id="f_transfer_to"', 1)[1].split("</form>", 1)[0]
        assert "请选择本部门的一位同事" in after_the_picker  # next to the input it is about
        draft = client.post(
            f"/tasks/{task['id']}/draft",
            data={
                "csrf_token": csrf_of(page.text),
                "precheck_opinion": "初稿",
                "is_homestead": "false",
            },
            follow_redirects=False,
        )
        assert draft.status_code == 303 and draft.headers["location"].endswith("?done=draft")
        assert "已暂存" in client.get(draft.headers["location"]).text
        client.post(f"/tasks/{task['id']}/unclaim", data={"csrf_token": csrf_of(page.text)})
        product_lf.tasks.claim(actor(product_lf, COLLEAGUE), task["id"])  # meanwhile
        stale = client.post(
            f"/tasks/{task['id']}/complete",
            data={"csrf_token": csrf_of(page.text), "precheck_opinion": "同意"},
        )
        assert stale.status_code == 409
        assert '<div class="error action-refused" role="alert"><p>该环节已由王经办认领</p>' in (
            stale.text
        )
    with TestClient(create_app(product_lf, start_scheduler=False)) as client:
        sign_in(client, "ldxz.330702")  # the office watches the county: it sees, cannot act
        page = client.get(f"/tasks/{task['id']}")
        assert page.status_code == 200 and "不能办理" in page.text
        assert f'action="/tasks/{task["id"]}/complete"' not in page.text
        refused = client.post(f"/tasks/{task['id']}/claim", data={"csrf_token": csrf_of(page.text)})
        assert refused.status_code == 403
        assert "您可以查看该环节，但不能办理" in refused.text
