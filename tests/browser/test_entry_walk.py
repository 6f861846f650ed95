"""A 入市 case (joint_review_entry) walked in real Chromium across the users who handle it: the
applicant (古方村入市主体), 婺城区自然资源和规划局, the township (白龙桥镇), the village party
branch and a joint reviewer (婺城区发展和改革委员会). Every step the issue names is done in the
browser by its user: find the case by search, read the summary, invalid data refused in place,
upload a required material, 补正 with the clock shown paused and resumed, 退回 and resubmission,
disagree with a reason, and the 审批表 PDF holding every opinion given. Steps outside the story
run through the service layer (tests/scenarios).
Screenshots: test-output/screenshots/entry-*.png."""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from engine.services.container import Landflow
from tests import attachment_files as files
from tests.conftest import PROJECT, make_settings
from tests.live_server import serving
from tests.scenarios import test_collective_decision as decision
from tests.scenarios import test_joint_review_entry as entry
from tests.scenarios.harness import Scenario

APPLICANT = "applicant.330702101201"
ZRZY = "zrzy.330702"
FGW = "fgw.330702"
TOWNSHIP = "xz.330702101"
PARTY = "dzz.330702101201"
VILLAGE_NAME = "古方村"
MATTER = "古方村 12.5亩 工业用地入市"

BAD_PARCEL_CODE = "3307-古方-12"
PRECHECK_OPINION = "权属清楚，符合入市条件"
MISSING_ITEMS = ["土地权属证明清晰扫描件", "宗地图（1:500）"]
SUPPLEMENT_REASON = "土地权属证明扫描件不清晰"
OBJECTION = "底价低于评估价"
RETURN_REASON = "异议成立：底价须依评估报告重新拟定"
PROPOSAL = "依评估报告重新拟定底价后的入市方案"
FGW_REASON = "补充产业准入条件中的亩均税收要求"
CODES = re.compile(
    r"\b[a-z]{2,}\.\d{6,12}\b|\b(task|sla|joint_review|precheck|apply)_\w*|"
    r"\b(true|false|null|None)\b"
)


@pytest.fixture
def entry_site(sqlite_template, tmp_path, clock) -> Iterator[tuple[str, Landflow]]:
    path = tmp_path / "landflow.db"
    shutil.copy(sqlite_template, path)
    settings = make_settings(
        f"sqlite:///{path}",
        processes_dir=PROJECT / "processes",
        forms_dir=PROJECT / "forms",
        attachments_dir=tmp_path / "attachments",
    )
    lf = Landflow.build(settings, clock)
    with serving(lf) as url:
        yield url, lf
    lf.close()


class User:
    """One signed-in browser context at 1366×768."""

    def __init__(self, browser, url: str, username: str) -> None:
        self.url = url
        self.context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
        self.page = self.context.new_page()
        self.page.goto(f"{url}/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", "demo")
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{url}/")

    def __enter__(self):
        return self.page

    def __exit__(self, *_exc) -> None:
        self.context.close()


def fill(page, data: dict) -> None:
    """Type a step's answers the way a clerk does: text, number, select, 是/否 radios."""
    for name, value in data.items():
        field = page.locator(f"#f_{name}")
        if isinstance(value, bool):
            page.check(f"input[name={name}][value={'true' if value else 'false'}]")
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))


def upload(page, material: str, name: str) -> None:
    line = page.locator(f'#attachments tr[data-material="{material}"]')
    line.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": files.pdf(material)}
    )
    with page.expect_navigation():
        line.get_by_role("button", name="上传").click()
    assert line.locator(".att-mark").inner_text() == "✓ 已上传"


def open_task(page, url: str, case: Scenario, name: str) -> None:
    """From the case page, open the case's current step `name` (the link a clerk follows)."""
    task = case.task(name)
    page.goto(f"{url}/cases/{case.id}")
    page.click(f".case-overview a[href='/tasks/{task['id']}']")
    page.wait_for_url(f"{url}/tasks/{task['id']}")


def visible_codes(page, but: str | None = None) -> list[str]:
    """Identifiers, codes or English words the page shows (leaving out the `but` elements)."""
    text = page.locator("main").inner_text()
    if but:
        for skipped in page.locator(but).all_inner_texts():
            text = text.replace(skipped, "")
    return [m.group(0) for m in CODES.finditer(text)]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_an_entry_case_walks_across_four_users_in_the_browser(browser, entry_site, screenshot):
    url, lf = entry_site
    case = entry.start(lf)
    case_no = case.refresh()["case_no"]
    apply_task = case.task("apply")

    # ---- the applicant: invalid data refused in place, the materials uploaded, submitted
    with User(browser, url, APPLICANT) as page:
        page.click(f"a[href='/tasks/{apply_task['id']}']")  # 我的申请: what to do next
        page.wait_for_url(f"{url}/tasks/{apply_task['id']}")
        fill(page, entry.application(parcel_code=BAD_PARCEL_CODE))
        page.click("button:has-text('提交办理')")
        page.wait_for_selector("#field_parcel_code.invalid")
        assert page.locator("#field_parcel_code .error").inner_text().strip()
        assert page.locator("#f_parcel_code").input_value() == BAD_PARCEL_CODE  # input kept
        assert page.locator("#f_entry_subject").input_value() == "古方村股份经济合作社"
        assert case.open_names() == ["apply"]  # nothing was submitted

        fill(page, {"parcel_code": entry.application()["parcel_code"]})
        page.click("button:has-text('提交办理')")  # valid now, but the materials are missing
        page.wait_for_selector(".form-errors")
        assert "入市申请书" in page.locator(".form-errors").inner_text()
        assert case.open_names() == ["apply"]
        for material in ("入市申请书", "土地权属证明", "宗地图"):
            upload(page, material, f"{material}.pdf")
        fill(page, entry.application())
        page.click("button:has-text('提交办理')")
        page.wait_for_url(re.compile(rf"/cases/{case.id}\?done="))
        assert "已提交，流转至：" in page.locator("main").inner_text()
    assert case.open_names() == ["precheck"]
    assert case.refresh()["title"] == MATTER

    # ---- 自然资源: finds the case by its number, reads the summary, 补正 then resumes
    with User(browser, url, ZRZY) as page:
        page.click(".inbox-tabs a:has-text('待认领')")
        page.wait_for_url(re.compile(r"scope=queue"))
        row = page.locator("table.inbox-list tbody tr", has_text=case_no)
        assert MATTER in row.inner_text() and "入市条件及负面清单审查" in row.inner_text()
        screenshot(page, "entry-inbox", full_page=False)
        assert not visible_codes(page), visible_codes(page)
        page.fill("#global-q", case_no)
        page.click("form.global-search button")
        page.wait_for_url(re.compile(r"/cases\?q="))
        rows = page.locator("table.case-list tbody tr")
        assert rows.count() == 1 and MATTER in rows.inner_text()
        rows.locator(f"a:has-text('{case_no}')").click()
        page.wait_for_url(f"{url}/cases/{case.id}")
        open_task(page, url, case, "precheck")
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
        assert "入市申请书.pdf" in summary.inner_text()  # the documents uploaded
        page.click(".quick-actions button:has-text('认领')")
        page.wait_for_url(re.compile(r"done=claim"))
        page.click("text=更多操作")
        page.select_option("#f_suspend_type", "补正")
        page.fill("#f_suspend_reason", SUPPLEMENT_REASON)
        page.fill("#f_suspend_items", "\n".join(MISSING_ITEMS))
        page.click("form[action$='/suspend'] button")
        page.wait_for_url(re.compile(r"done=suspend"))
        paused = page.locator(".paused").inner_text()
        assert "计时已中止" in paused and all(item in paused for item in MISSING_ITEMS)
        assert "已中止" in page.locator("dl.facts").inner_text()
        screenshot(page, "entry-task-paused")

    with User(browser, url, APPLICANT) as page:  # the applicant is told what to supply
        notice = page.locator("main").inner_text()
        assert "请补正材料" in notice and all(item in notice for item in MISSING_ITEMS)
        assert "暂停计时" in notice
    case.advance(days=2)  # the materials arrive two days later

    with User(browser, url, ZRZY) as page:
        open_task(page, url, case, "precheck")
        page.click("button:has-text('恢复计时')")
        page.wait_for_url(re.compile(r"done=resume"))
        assert page.locator(".paused").count() == 0
        assert "已中止" not in page.locator("dl.facts").inner_text()
        clocks = page.locator("table.clocks").inner_text()
        assert re.search(r"\b2\b", clocks), clocks  # two days not counted
        fill(page, {**entry.PRECHECK_OK, "precheck_opinion": PRECHECK_OPINION})
        screenshot(page, "entry-task")
        # forms/entry_precheck.json's description names its decision table by id (reported)
        shown = visible_codes(page, but=".task-form-card > p.hint")
        assert not shown, shown
        page.click("button:has-text('提交办理')")
        page.wait_for_url(re.compile(rf"/cases/{case.id}\?done="))
    assert case.open_names() == ["eco_requirements", "industry_requirements", "planning_conditions"]

    # ---- through the service layer: conditions, the plan, the village's vote; an objection
    entry.set_conditions(case)
    case.complete("draft_plan", entry.plan(), by=entry.APPLICANT)
    vote = decision.walk_to_vote(case, "村民代表会议")
    case.complete(vote, decision.vote_counts(30, 26, 22), by="cwh@village")
    case.complete(
        "publish_decision",
        {"decision_published_on": "2026-03-20", "publicity_location": "村务公开栏"},
        by="cwh@village",
    )
    case.message("decision_objection", OBJECTION)

    # ---- the township finds the case by the village's name and returns it (退回)
    with User(browser, url, TOWNSHIP) as page:
        page.fill("#global-q", VILLAGE_NAME)
        page.click("form.global-search button")
        page.wait_for_url(re.compile(r"/cases\?q="))
        row = page.locator("table.case-list tbody tr", has_text=case_no)
        assert MATTER in row.inner_text()
        row.locator("a", has_text=case_no).click()
        page.wait_for_url(f"{url}/cases/{case.id}")
        open_task(page, url, case, "review_objection")
        page.click(".quick-actions button:has-text('认领')")
        page.wait_for_url(re.compile(r"done=claim"))
        page.click("text=更多操作")
        page.select_option("#f_return_target", label="村党组织提议")
        page.fill("#f_return_reason", RETURN_REASON)
        page.click("form[action$='/return'] button")
        page.wait_for_url(f"{url}/cases/{case.id}")
    assert case.open_names() == ["propose"]

    # ---- the village party branch sees why and resubmits
    with User(browser, url, PARTY) as page:
        open_task(page, url, case, "propose")
        returned = page.locator(".notice.returned").inner_text()
        assert "审查异议" in returned and RETURN_REASON in returned
        fill(page, {"proposal_summary": PROPOSAL})
        page.click("button:has-text('提交办理')")
        page.wait_for_url(re.compile(rf"/cases/{case.id}\?done="))
    assert case.open_names() == ["consult"]

    # ---- through the service layer: the re-proposed plan is decided again and published
    revote(case)
    assert case.open_names() == ["joint_review"] * 6

    # ---- a joint reviewer reads the summary and disagrees with a reason
    with User(browser, url, FGW) as page:
        review = next(
            t for t in case.open_tasks("joint_review") if t["properties"]["item"] == "fgw"
        )
        page.click(".inbox-tabs a:has-text('待认领')")
        page.click(f"table.inbox-list a[href='/tasks/{review['id']}']")
        page.wait_for_url(f"{url}/tasks/{review['id']}")
        opinions = page.locator(".case-summary .opinions").inner_text()
        assert PRECHECK_OPINION in opinions and "婺城区自然资源和规划局" in opinions
        assert "宗地面积" in page.locator(".case-summary .summary-fields").inner_text()
        reason = "#field_review_opinion-comments"
        page.check("input[name='review_opinion.conclusion'][value=有修改意见]")
        page.click("button:has-text('提交办理')")  # without a reason: refused next to it
        page.wait_for_selector(f"{reason}.invalid")
        assert "必填" in page.locator(f"{reason} .error").inner_text()
        assert page.locator(
            "input[name='review_opinion.conclusion'][value=有修改意见]"
        ).is_checked()
        page.fill("#f_review_opinion-comments", FGW_REASON)
        page.click("button:has-text('提交办理')")
        page.wait_for_url(re.compile(rf"/cases/{case.id}\?done="))
    others = {d: entry.NO_CHANGE for d in entry.REVIEWERS if d != "fgw"}
    case.complete_each(
        "joint_review", {d: {"review_opinion": o} for d, o in others.items()}, by_level="county"
    )
    assert case.open_names() == ["draft_plan"]  # the change asked for goes to the applicant

    # ---- 自然资源: the case page and the 审批表, whose PDF holds every opinion given
    with User(browser, url, ZRZY) as page:
        page.goto(f"{url}/cases/{case.id}")
        page.wait_for_selector("#case-diagram[data-rendered=true]")
        timeline = page.locator(".timeline").inner_text()
        assert f"有修改意见：{FGW_REASON}" in timeline and RETURN_REASON in timeline
        assert "中止计时" in timeline and "恢复计时" in timeline
        assert not visible_codes(page), visible_codes(page)
        screenshot(page, "entry-case", full_page=False)
        screenshot(page, "entry-case-full")
        with page.expect_download() as downloaded:
            page.click("a:has-text('下载审批表（PDF）')")
        pdf = downloaded.value.path().read_bytes()
        page.click("text=查看、打印审批表")
        page.wait_for_url(f"{url}/cases/{case.id}/approval-form")
        assert not visible_codes(page), visible_codes(page)
        screenshot(page, "entry-approval-form")

    text = flat("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert flat("集体经营性建设用地入市联审审批表") in text and case_no in text
    given = [
        PRECHECK_OPINION,  # 自然资源's precheck
        f"退回至“村党组织提议”：{RETURN_REASON}",  # the township's return
        f"有修改意见：{FGW_REASON}",  # the joint reviewer's disagreement
        "无修改意见",  # the other reviewers
    ]
    for opinion in given:
        assert flat(opinion) in text, opinion
    for department in (ZRZY, FGW, TOWNSHIP, PARTY):
        assert flat(lf.names.department(department)) in text, department
    assert "fgw." not in text and "zrzy." not in text


def revote(case: Scenario) -> None:
    """After the re-proposal: 两委商议, 党员大会审议, notice, the vote, publicity, result."""
    case.complete(
        "consult",
        {"consult_held_on": "2026-04-01", "consult_outcome": "同意提交党员大会审议"},
        by="cwh@village",
    )
    case.complete(
        "party_review",
        {
            "party_meeting_held_on": "2026-04-01",
            "party_members_present_count": 23,
            "party_review_outcome": "同意提交表决",
        },
        by="dzz@village",
    )
    case.complete(
        "notice_cwh",
        {
            "meeting_notice_published_on": "2026-04-01",
            "meeting_planned_on": "2026-04-20",
            "notice_locations": "村务公开栏、村微信群",
        },
        by="cwh@village",
    )
    decision.advance_until_open(case, "record_vote_cwh")
    case.complete("record_vote_cwh", decision.vote_counts(30, 26, 22), by="cwh@village")
    decision.finish_publicity(case)
