"""The task page on the product's processes, in a real browser: what is being decided comes
first (the application with its labels and units, the earlier departments' opinions), then the
form; 暂存 keeps a draft; invalid data and a disagreement without a reason are refused in
place with the input kept; every action is on the page (转办, 委托 and 交回, 挂起/补正 and 恢复,
申请延期 and the head's approval); a submission says where the case went.
Screenshots (test-output/screenshots/): task.png, task-phone.png, task-actions.png,
task-rows.png."""

from __future__ import annotations

import re
import shutil

import pytest

from engine.services.actor import SYSTEM
from engine.services.auth import hash_password
from engine.services.container import Landflow
from engine.services.organisation import UserSpec
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PROJECT, make_settings
from tests.live_server import serving
from tests.scenarios import test_consolidation_project as consolidation
from tests.scenarios import test_joint_review_entry as entry
from tests.scenarios.harness import Scenario

COUNTY_ZRZY = "zrzy.330702"  # 婺城区自然资源和规划局: handler and head (approver)
APPLICANT = "applicant.330702101201"
COLLEAGUE = "wang.zrzy"  # a second clerk of the county bureau, handler only
COLLEAGUE_NAME = "王经办"
PHONE = {"width": 390, "height": 844}
CODE = re.compile(r"\b[a-z]{2,}\.\d{6,12}\b|\b(task|sla|data|null|true|false)_?\w*\b")


@pytest.fixture
def product_site(sqlite_template, tmp_path, clock):
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(
        f"sqlite:///{path}", processes_dir=PROJECT / "processes", forms_dir=PROJECT / "forms"
    )
    lf = Landflow.build(settings, clock)
    with serving(lf) as url:
        lf.organisation.load(
            SYSTEM,
            [],
            [],
            [
                UserSpec(
                    COLLEAGUE, COLLEAGUE_NAME, hash_password("demo"), ((COUNTY_ZRZY, "handler"),)
                )
            ],
        )
        yield url, lf
    lf.close()


def signed_in(browser, url: str, username: str, viewport=None):
    context = browser.new_context(
        locale="zh-CN", viewport=viewport or {"width": 1366, "height": 768}
    )
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return context, page


def with_materials(case: Scenario, name: str, username: str) -> None:
    """Upload a sample of every required material of the step (processes/materials.csv)."""
    service = getattr(case.lf, "attachments", None)
    if service is None:
        return
    from engine.services.attachment_samples import attach_samples

    attach_samples(service, case.lf.auth.actor_for(username), case.task(name)["id"])


def applied(lf) -> Scenario:
    """A 入市 case of 古方村 (12.5 亩, 工业), its application submitted: the precheck is open."""
    case = entry.start(lf)
    with_materials(case, "apply", APPLICANT)
    case.complete("apply", entry.application(), by=entry.APPLICANT)
    return case


def in_joint_review(lf) -> Scenario:
    """The plan adopted by the village: the county departments review it, 自然资源 has."""
    case = applied(lf)
    case.complete("precheck", entry.PRECHECK_OK, by=entry.ZRZY)
    entry.set_conditions(case)
    with_materials(case, "draft_plan", APPLICANT)
    case.complete("draft_plan", entry.plan(), by=entry.APPLICANT)
    entry.entry_vote(case)
    zrzy = next(t for t in case.open_tasks("joint_review") if t["properties"]["item"] == "zrzy")
    case.complete("joint_review", {"review_opinion": entry.NO_CHANGE}, by=entry.ZRZY, task=zrzy)
    return case


def review_task(case: Scenario, dept_type: str) -> dict:
    return next(t for t in case.open_tasks("joint_review") if t["properties"]["item"] == dept_type)


def shown_text(page) -> str:
    """What the task page itself says (the header, summary, form and actions)."""
    return "\n".join(
        page.locator(s).all_inner_texts()[0] if page.locator(s).count() else ""
        for s in (".task-head", ".case-summary", ".task-form-card", ".more-card")
    )


def test_the_case_is_summarised_before_the_form_with_the_earlier_opinions(
    browser, product_site, screenshot
):
    url, lf = product_site
    case = in_joint_review(lf)
    task = review_task(case, "fgw")
    context, page = signed_in(browser, url, "fgw.330702")
    page.goto(f"{url}/tasks/{task['id']}")

    head = page.locator(".task-head").inner_text()
    assert case.refresh()["case_no"] in head and "古方村 12.5亩 工业用地入市" in head
    assert "金华市婺城区白龙桥镇古方村" in head and "婺城区发展和改革委员会" in head
    summary = page.locator(".case-summary")
    fields = dict(
        zip(
            summary.locator(".summary-fields dt").all_inner_texts(),
            summary.locator(".summary-fields dd").all_inner_texts(),
            strict=True,
        )
    )
    assert fields["入市主体名称"] == "古方村股份经济合作社"
    assert fields["宗地面积"] == "12.5 亩"
    assert fields["位于城镇开发边界内"] == "是"
    assert fields["拟交易方式"] == "挂牌"
    opinions = summary.locator(".opinions li").all_inner_texts()
    precheck = next(o for o in opinions if "入市条件及负面清单审查" in o)
    assert "婺城区自然资源和规划局" in precheck and "符合入市条件" in precheck
    review = next(o for o in opinions if "入市方案联审" in o)
    assert "婺城区自然资源和规划局" in review and "同意" in review and "无修改意见" in review
    # the summary comes before the form, the opinion block in the form
    boxes = [page.locator(s).bounding_box()["y"] for s in (".case-summary", ".task-form-card")]
    assert boxes[0] < boxes[1]
    assert page.locator(".opinion-block legend").inner_text() == "办理意见"
    assert not CODE.search(shown_text(page)), CODE.search(shown_text(page))
    screenshot(page, "task")

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("button:has-text('提交办理')").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "task-phone.png"), full_page=True)
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    context.close()


def test_a_disagreement_needs_a_reason_and_a_draft_is_kept(browser, product_site):
    url, lf = product_site
    case = in_joint_review(lf)
    task = review_task(case, "fgw")
    context, page = signed_in(browser, url, "fgw.330702")
    page.goto(f"{url}/tasks/{task['id']}")
    reason = "#field_review_opinion-comments"
    assert not page.locator(f"{reason} .req").is_visible()
    page.check("input[name='review_opinion.conclusion'][value=有修改意见]")
    assert page.locator(f"{reason} .req").is_visible()  # required as soon as one disagrees

    page.click("button:has-text('提交办理')")  # without a reason: refused next to the reason
    page.wait_for_selector(f"{reason}.invalid")
    assert "选择“有修改意见”时必填" in page.locator(f"{reason} .error").inner_text()
    assert page.locator("input[name='review_opinion.conclusion'][value=有修改意见]").is_checked()
    assert len(case.open_tasks("joint_review")) == 5  # nothing was submitted

    page.fill("#f_review_opinion-comments", "补充产业准入的投资强度测算")
    page.click("button:has-text('暂存')")
    page.wait_for_url(re.compile(r"done=draft"))
    assert "已暂存" in page.locator(".flash").inner_text()
    page.goto(f"{url}/tasks/{task['id']}")  # later: the draft is there
    assert page.locator("#f_review_opinion-comments").input_value() == "补充产业准入的投资强度测算"
    assert page.locator("input[name='review_opinion.conclusion'][value=有修改意见]").is_checked()
    assert lf.inbox.get(SYSTEM, task["id"])["draft"] == {
        "review_opinion": {"conclusion": "有修改意见", "comments": "补充产业准入的投资强度测算"}
    }

    page.click("button:has-text('提交办理')")
    page.wait_for_url(re.compile(rf"/cases/{case.id}\?done={task['id']}"))
    opinions = [
        h["details"]["opinion"]
        for h in case.refresh()["history"]
        if h["action"] == "task_completed" and h["task_id"] == task["id"]
    ]
    assert opinions == [
        {
            "decision": "有修改意见",
            "stance": "modify",
            "stance_label": "修改意见",
            "reason": "补充产业准入的投资强度测算",
        }
    ]
    context.close()


def test_a_submission_says_where_the_case_went(browser, product_site):
    url, lf = product_site
    case = applied(lf)
    task = case.task("precheck")
    context, page = signed_in(browser, url, COUNTY_ZRZY)
    page.goto(f"{url}/tasks/{task['id']}")
    for name, value in entry.PRECHECK_OK.items():
        if isinstance(value, bool):
            page.check(f"input[name={name}][value={'true' if value else 'false'}]")
        else:
            page.fill(f"#f_{name}", value)
    page.click("button:has-text('提交办理')")
    page.wait_for_url(re.compile(rf"/cases/{case.id}\?done={task['id']}"))
    on_the_case = page.locator("main").inner_text()
    assert (
        "已提交，流转至：" in on_the_case and "出具规划条件 · 婺城区自然资源和规划局" in on_the_case
    )
    page.goto(f"{url}/tasks/{task['id']}")
    said = page.locator(".flash.submitted").inner_text()
    assert said.startswith("已提交，流转至：")
    for step, department in (
        ("出具规划条件", "婺城区自然资源和规划局"),
        ("提出产业准入要求", "婺城区发展和改革委员会"),
        ("提出生态环境保护要求", "婺城区生态环境局"),
    ):
        assert f"{step} · {department}" in said
    assert "本环节意见：符合入市条件" in said
    assert page.locator("form[action$='/complete']").count() == 0  # nothing to do any more
    context.close()


def test_invalid_rows_are_refused_in_place_with_every_row_kept(browser, product_site, screenshot):
    url, lf = product_site
    case = consolidation.start(lf)
    with_materials(case, "propose_project", "zrzy.330702")
    consolidation.enter_bank(case)
    case.complete("draft_plan", consolidation.plan(), by=consolidation.COUNTY_ZRZY)
    task = case.task("record_consent")
    context, page = signed_in(browser, url, "xz.330702101")
    page.goto(f"{url}/tasks/{task['id']}")
    rows = page.locator("#field_consent_villages tbody tr")
    assert rows.count() == 0
    for number, village in enumerate(consolidation.consent()["consent_villages"]):
        page.click("#field_consent_villages [data-add-row]")
        for column, value in village.items():
            selector = f"[name='consent_villages.{number}.{column}']"
            if column == "decision_body":
                page.select_option(selector, value)
            else:
                page.fill(selector, str(value))
    page.click("#field_consent_villages [data-add-row]")  # a third row, removed again
    assert rows.count() == 3
    rows.nth(2).locator("[data-remove-row]").click()
    assert rows.count() == 2
    page.fill("[name='consent_villages.1.agree_count']", "-3")  # below 0: that cell is wrong
    page.fill("#f_plan_posted_days", "15")
    page.fill("#f_demolition_owner_count", "12")
    page.fill("#f_demolition_consented_count", "12")
    page.fill("#f_consent_minutes_no", "白龙桥镇档〔2026〕21号")
    page.click("button:has-text('提交办理')")
    page.wait_for_selector("td.invalid")
    cell = page.locator("td.invalid")
    assert "同意人数" in cell.locator(".error").inner_text()
    assert cell.locator("input").input_value() == "-3"
    assert rows.count() == 2
    assert page.locator("[name='consent_villages.0.village_name']").input_value() == "古方村"
    assert page.locator("[name='consent_villages.1.decision_body']").input_value() == "村民代表会议"
    page.locator("#field_consent_villages").scroll_into_view_if_needed()
    screenshot(page, "task-rows", full_page=False)

    page.fill("[name='consent_villages.1.agree_count']", "36")
    page.click("button:has-text('提交办理')")
    page.wait_for_url(re.compile(rf"/cases/{case.id}"))
    villages = case.data["consent_villages"]
    assert [(v["village_name"], v["agree_count"]) for v in villages] == [
        ("古方村", 240),
        ("筱溪村", 36),
    ]
    context.close()


def test_transfer_then_delegate_and_hand_back(browser, product_site):
    url, lf = product_site
    case = applied(lf)
    task = case.task("precheck")
    context, page = signed_in(browser, url, COUNTY_ZRZY)
    page.goto(f"{url}/tasks/{task['id']}")
    assert page.locator("form[action$='/transfer']").count() == 0  # claim first
    page.click(".quick-actions button:has-text('认领')")
    page.wait_for_url(re.compile(r"done=claim"))
    page.click("text=更多操作")
    page.select_option("#f_transfer_to", label=COLLEAGUE_NAME)
    page.click("form[action$='/transfer'] button")
    page.wait_for_url(re.compile(r"done=transfer"))
    assert COLLEAGUE_NAME in page.locator("dl.facts").inner_text()
    assert page.locator("form[action$='/transfer']").count() == 0  # no longer theirs
    context.close()

    context, page = signed_in(browser, url, COLLEAGUE)
    page.goto(f"{url}/tasks/{task['id']}")
    page.click("text=更多操作")
    page.select_option("#f_delegate_to", value=COUNTY_ZRZY)
    page.click("form[action$='/delegate'] button")
    page.wait_for_url(re.compile(r"done=delegate"))
    assert page.locator("button:has-text('提交办理')").count() == 0  # waits for the delegate
    context.close()

    context, page = signed_in(browser, url, COUNTY_ZRZY)
    page.goto(f"{url}/tasks/{task['id']}")
    assert f"{COLLEAGUE_NAME}委托您办理本环节" in page.locator(".task-head").inner_text()
    page.fill("#f_precheck_opinion", "材料齐全，建议同意")
    page.click("button:has-text('交回委托人')")
    page.wait_for_url(re.compile(r"done=resolve"))
    context.close()

    context, page = signed_in(browser, url, COLLEAGUE)
    page.goto(f"{url}/tasks/{task['id']}")
    assert page.locator("#f_precheck_opinion").input_value() == "材料齐全，建议同意"
    row = lf.inbox.get(SYSTEM, task["id"])
    assert (row["assignee"], row["delegation"]) == (COLLEAGUE, "resolved")
    context.close()


def test_suspend_for_supplement_then_resume(browser, product_site, screenshot):
    url, lf = product_site
    case = applied(lf)
    task = case.task("precheck")
    lf.tasks.claim(lf.auth.actor_for(COUNTY_ZRZY), task["id"])
    context, page = signed_in(browser, url, COUNTY_ZRZY)
    page.goto(f"{url}/tasks/{task['id']}")
    page.click("text=更多操作")
    page.locator(".more-card").scroll_into_view_if_needed()
    screenshot(page, "task-actions", full_page=False)
    page.select_option("#f_suspend_type", "补正")
    page.fill("#f_suspend_reason", "宗地图比例尺不符")
    page.click("form[action$='/suspend'] button")  # without the list: refused in place
    page.wait_for_selector("#e_suspend_missing_items")
    assert "一次性告知" in page.locator("#e_suspend_missing_items").inner_text()
    assert page.locator("#f_suspend_reason").input_value() == "宗地图比例尺不符"
    page.fill("#f_suspend_items", "宗地图（1:500）\n四至界址说明")
    page.click("form[action$='/suspend'] button")
    page.wait_for_url(re.compile(r"done=suspend"))
    paused = page.locator(".paused").inner_text()
    assert "补正材料" in paused and "宗地图（1:500）" in paused and "四至界址说明" in paused
    assert "已中止" in page.locator("dl.facts").inner_text()
    page.click("button:has-text('恢复计时')")
    page.wait_for_url(re.compile(r"done=resume"))
    assert page.locator(".paused").count() == 0
    assert "已中止" not in page.locator("dl.facts").inner_text()
    page.click("text=更多操作")
    assert "补正" not in page.locator("#f_suspend_type").inner_text()  # notified once only
    context.close()


def test_an_extension_is_requested_and_approved_by_the_head(browser, product_site):
    url, lf = product_site
    case = applied(lf)
    task = case.task("precheck")
    before = lf.sla.task_clocks(SYSTEM, task["id"])["clocks"][0]["due_at"]
    context, page = signed_in(browser, url, COLLEAGUE)
    page.goto(f"{url}/tasks/{task['id']}")
    assert page.locator(".decision-form").count() == 0  # a clerk does not approve
    page.click("text=更多操作")
    page.fill("#f_extension_days", "")
    page.fill("#f_extension_reason", "需现场核实四至")
    page.click("form[action$='/extension'] button")  # no days: refused next to the days
    page.wait_for_selector("#e_extension_days")
    assert page.locator("#f_extension_reason").input_value() == "需现场核实四至"
    page.fill("#f_extension_days", "3")
    page.click("form[action$='/extension'] button")
    page.wait_for_url(re.compile(r"done=extension"))
    assert page.locator(".decision-form").count() == 0  # who asked does not approve
    context.close()

    context, page = signed_in(browser, url, COUNTY_ZRZY)
    page.goto(f"{url}/tasks/{task['id']}")
    decision = page.locator(".decision-form")
    assert f"{COLLEAGUE_NAME}于" in decision.inner_text() and "延长 3 天" in decision.inner_text()
    page.fill("#f_decision_note_committed", "同意")
    page.click(".decision-form button:has-text('批准延期')")
    page.wait_for_url(re.compile(r"done=approved"))
    assert "已延期" in page.locator("table.list").inner_text()
    clock = lf.sla.task_clocks(SYSTEM, task["id"])["clocks"][0]
    assert clock["extension_state"] == "approved" and clock["due_at"] > before
    context.close()
