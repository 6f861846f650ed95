"""The 审批表 of a real 入市 case walked with the scenario harness, downloaded as a PDF through the
app and read back with a PDF library: every opinion and every department is in it; the case's
diagram endpoint serves the deployed XML with the case's position to whoever may see the case,
and nothing (404) to anyone else. Both backends."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from engine.api.app import create_app
from engine.services.actor import SYSTEM
from tests.scenarios import test_joint_review_entry as entry
from tests.scenarios.harness import Scenario
from tests.sign_in import page_sign_in

FGW_COMMENT = "补充产业准入条件中的亩均税收要求"
SUPPLEMENT_REASON = "土地权属证明扫描件不清晰"
OUTSIDER = "zrzy.330782"  # 兰溪市's 自然资源和规划局: another county


def walk_to_revision(lf) -> Scenario:
    """入市 from the application to the joint review: the precheck suspended for 补正 and
    resumed, the plan decided by the representatives, one reviewer asking for a change, so the
    plan is open again with the applicant."""
    case = entry.start(lf)
    case.complete("apply", entry.application(), by=entry.APPLICANT)
    precheck = case.task("precheck")
    zrzy = case.actor(case.department_for("zrzy", "county"))
    lf.sla.suspend(zrzy, precheck["id"], "补正", SUPPLEMENT_REASON, ["土地权属证明清晰扫描件"])
    case.advance(days=1)
    lf.sla.resume(zrzy, precheck["id"])
    case.complete("precheck", entry.PRECHECK_OK, by=entry.ZRZY)
    entry.set_conditions(case)
    case.complete("draft_plan", entry.plan(), by=entry.APPLICANT)
    entry.entry_vote(case)
    opinions = entry.all_agree()
    opinions["fgw"] = {"conclusion": "有修改意见", "comments": FGW_COMMENT}
    entry.review(case, opinions)
    assert case.open_names() == ["draft_plan"]
    return case


def signed_in(client: TestClient, username: str, password: str = "demo") -> TestClient:
    client.cookies.clear()
    response = page_sign_in(client, username, password)
    assert response.status_code == 303, response.text
    return client


def flat(text: str) -> str:
    """PDF text without the line breaks and spaces a table cell's wrapping puts in."""
    return re.sub(r"\s+", "", text)


@pytest.fixture
def client(product_lf):
    with TestClient(create_app(product_lf, start_scheduler=False)) as client:
        yield client


def test_the_pdf_holds_every_opinion_and_department(product_lf, client):
    case = walk_to_revision(product_lf)
    view = product_lf.instances.get(SYSTEM, case.id)
    signed_in(client, "zrzy.330702")

    response = client.get(f"/cases/{case.id}/approval-form.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = flat("".join(page.extract_text() for page in reader.pages))

    assert flat("集体经营性建设用地入市联审审批表") in text
    assert view["case_no"] in text and flat(view["title"]) in text
    assert "古方村股份经济合作社" in text  # the applicant
    expected_opinions = [
        "符合入市条件",  # 入市条件审查 (a text opinion)
        f"有修改意见：{FGW_COMMENT}",  # the reviewer asking for a change, with the reason
        "无修改意见",  # the other reviewers
        "同意提交党员大会审议",  # 村两委会议商议
        "同意提交表决",  # 党员大会审议
    ]
    for opinion in expected_opinions:
        assert flat(opinion) in text, opinion
    done = [t for t in view["tasks"] if t["state"] == "done"]
    departments = {product_lf.names.department(t["department"]) for t in done}
    assert len(departments) >= 9  # applicant, zrzy, fgw, sthj, nync, cz, sw, village bodies
    for name in departments:
        assert flat(name) in text, name
    assert text.count(flat("负责人（签字）")) == len(done)  # one signature block per step
    for code in ("zrzy.", "task_completed", "joint_review", "applicant."):
        assert code not in text


def test_the_printable_form_lists_the_same_steps(product_lf, client):
    case = walk_to_revision(product_lf)
    signed_in(client, "fgw.330702")
    page = client.get(f"/cases/{case.id}/approval-form")
    assert page.status_code == 200
    html = page.text
    assert "集体经营性建设用地入市联审审批表" in html
    assert f"有修改意见：{FGW_COMMENT}" in html
    done = [t for t in product_lf.instances.get(SYSTEM, case.id)["tasks"] if t["state"] == "done"]
    assert html.count('class="sign date"') == len(done)


def test_the_diagram_serves_the_deployed_xml_and_where_the_case_stands(product_lf, client):
    case = walk_to_revision(product_lf)
    signed_in(client, "zrzy.330702")
    response = client.get(f"/api/v1/instances/{case.id}/diagram")
    assert response.status_code == 200
    body = response.json()
    assert body["process_id"] == "joint_review_entry"
    assert "<bpmn:definitions" in body["xml"] and 'id="joint_review_entry"' in body["xml"]
    states = {e["id"]: e for e in body["elements"]}
    # the plan, done before, is open again: active, not done
    assert states["draft_plan"]["state"] == "active"
    assert states["draft_plan"]["departments"] == [
        {
            "code": "applicant.330702101201",
            "name": product_lf.names.department("applicant.330702101201"),
        }
    ]
    for element in ("start", "apply", "precheck", "joint_review", "call_entry_decision"):
        assert states[element]["state"] == "done", element
    assert "announce" not in states  # not reached
    assert "propose" not in states  # the called decision's elements are on its own diagram

    # past the step's time limit (30 working days) the active step is overdue
    case.advance(days=60)
    states = {
        e["id"]: e["state"]
        for e in client.get(f"/api/v1/instances/{case.id}/diagram").json()["elements"]
    }
    assert states["draft_plan"] == "overdue"


def test_outsiders_get_nothing_of_the_case(product_lf, client):
    case = walk_to_revision(product_lf)
    missing = "00000000-0000-0000-0000-000000000000"
    signed_in(client, OUTSIDER)
    for path in (
        f"/api/v1/instances/{case.id}/diagram",
        f"/cases/{case.id}/approval-form",
        f"/cases/{case.id}/approval-form.pdf",
        f"/cases/{case.id}",
    ):
        refused = client.get(path)
        assert refused.status_code == 404, path
        unknown = client.get(path.replace(case.id, missing))
        assert unknown.status_code == 404
        assert refused.text.replace(case.id, "ID") == unknown.text.replace(missing, "ID")
        assert "古方村" not in refused.text
    page = client.get(f"/cases/{case.id}")
    assert "未找到该办件" in page.text  # in Chinese, not the service's English
