"""Task forms in a real browser on the product's processes: vote numbers the form's rules refuse
come back next to the fields with the input kept, and conditional fields turn required (and
appear) as the controlling field changes. Screenshots at 1366×768 go to test-output/screenshots/."""

from __future__ import annotations

from tests.scenarios import test_collective_decision as decision
from tests.scenarios import test_homestead_withdrawal as homestead

VILLAGE = decision.VILLAGE
TOO_MANY_VOTES = "赞成、反对、弃权票数之和不能超过到会人数"


def signed_in(browser, url: str, username: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return context, page


def marked_required(page, name: str) -> bool:
    return page.locator(f"#field_{name} .req").is_visible()


def test_refused_vote_numbers_are_shown_in_place_with_the_input_kept(
    browser, product_site, screenshot
):
    url, lf = product_site
    case = decision.start(lf, "收益分配方案", "村民会议")
    task = case.task(decision.walk_to_vote(case, "村民会议"))
    context, page = signed_in(browser, url, f"cwh.{VILLAGE}")
    page.goto(f"{url}/tasks/{task['id']}")
    typed = decision.vote_counts(100, 60, 40, 15, 10)
    for name, value in typed.items():
        page.fill(f"#f_{name}", str(value))

    # the household counts go together: filling one makes the other required
    assert not marked_required(page, "households_present_count")
    page.fill("#f_household_count", "80")
    assert marked_required(page, "households_present_count")
    assert page.locator("#f_households_present_count").evaluate("e => e.required")
    page.fill("#f_household_count", "")
    assert not marked_required(page, "households_present_count")

    page.click("text=提交办理")
    page.wait_for_selector(".field.invalid")
    assert f"/tasks/{task['id']}/complete" in page.url
    for name in ("for_count", "against_count", "abstain_count", "present_count"):
        assert page.locator(f"#field_{name} .error").inner_text() == TOO_MANY_VOTES
        assert page.locator(f"#f_{name}").input_value() == str(typed[name])
    assert page.locator("#field_eligible_count .error").count() == 0
    assert page.locator("#f_minutes").input_value() == typed["minutes"]
    assert "表单数据未通过校验" in page.locator(".form-errors").inner_text()
    page.locator("#field_abstain_count").scroll_into_view_if_needed()
    screenshot(page, "vote_refused", full_page=False)
    screenshot(page, "vote_refused_full")
    assert case.open_names() == [task["name"]]

    page.fill("#f_abstain_count", "5")
    page.click("text=提交办理")
    page.wait_for_url(f"{url}/cases/{case.id}?done={task['id']}")
    assert case.open_names() == ["publish_decision"]
    context.close()


def test_the_refusal_reason_appears_and_is_required_when_a_check_fails(
    browser, product_site, screenshot
):
    url, lf = product_site
    case = homestead.start(lf)
    homestead.apply(case)
    task = case.task("collective_review")
    context, page = signed_in(browser, url, f"jjzz.{VILLAGE}")
    page.goto(f"{url}/tasks/{task['id']}")
    reason = page.locator("#field_refusal_reason")
    assert reason.is_hidden()
    screenshot(page, "review_all_pass", full_page=False)
    for name in ("right_registered", "one_household_one_homestead", "members_consent"):
        page.check(f"input[name={name}][value=true]")
    page.check("input[name=no_dispute][value=false]")
    assert reason.is_visible() and marked_required(page, "refusal_reason")
    assert page.locator("#f_refusal_reason").evaluate("e => e.required && !e.disabled")
    page.fill("#f_collective_review_opinion", "存在权属争议")
    reason.scroll_into_view_if_needed()
    screenshot(page, "review_reason_required", full_page=False)

    page.click("text=提交办理")  # without the reason: refused, shown next to it
    page.wait_for_selector("#field_refusal_reason.invalid")
    assert reason.is_visible()
    assert "不予退出理由" in reason.locator(".error").inner_text()
    assert page.locator("input[name=no_dispute][value=false]").is_checked()
    assert page.locator("#f_collective_review_opinion").input_value() == "存在权属争议"
    page.locator("button:has-text('提交办理')").scroll_into_view_if_needed()
    screenshot(page, "review_reason_missing", full_page=False)

    page.check("input[name=no_dispute][value=true]")  # every check passes: no reason asked
    assert reason.is_hidden()
    assert page.locator("#f_refusal_reason").evaluate("e => e.disabled")
    page.click("text=提交办理")
    page.wait_for_url(f"{url}/cases/{case.id}?done={task['id']}")
    assert "refusal_reason" not in case.data
    context.close()
