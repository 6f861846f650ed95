"""Case search and the inbox's new filters through the service layer, on both backends: a case
is found by case number, matter, business key, applicant, parcel code and village name once its
data holds them; only by those who may see it; the inbox filters by light, shows working days
left or over, the 督办 badge and the 已办 tab; notifications carry read marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from engine.db.migrate import alembic_config, upgrade
from engine.db.tables import HumanTask, Instance, SupervisionOrder
from engine.errors import BadRequest
from engine.services.actor import SYSTEM
from engine.services.attachment_samples import attach_samples
from engine.services.inbox import TaskFilter
from engine.services.search import CaseFilter
from tests.scenarios.test_joint_review_entry import (
    APPLICANT,
    PRECHECK_OK,
    ZRZY,
    application,
    start,
)

CLERK = "zrzy.330702"  # 婺城区自然资源和规划局
STRANGER = "zrzy.330782"  # 义乌市: another county
CITY_OFFICE = "ldxz.330700"  # 金华市 leadership-group office: watches the whole city


def found(lf, username: str, **where) -> list[str]:
    result = lf.search.list(lf.auth.actor_for(username), CaseFilter(**where))
    assert result["total"] == len(result["items"])
    return [c["case_no"] for c in result["items"]]


def applied(lf):
    case = start(lf)
    apply(case)
    return case


def apply(case) -> None:
    """The applicant's step, with the materials it requires."""
    applicant = case.lf.auth.actor_for("applicant.330702101201")
    attach_samples(case.lf.attachments, applicant, case.task("apply")["id"])
    case.complete("apply", application(), by=APPLICANT)


def test_a_case_is_found_by_number_matter_applicant_parcel_and_village(product_lf):
    lf = product_lf
    case = start(lf)
    case_no = case.case["case_no"]
    assert found(lf, "admin", text=case_no) == [case_no]
    assert found(lf, "admin", text="330702101201JC00012") == []  # not applied for yet

    apply(case)
    for query in (
        case_no,
        case_no.lower().replace("入市", "入市 "),  # words in any order and spacing
        "古方村",  # the village (region)
        "白龙桥镇",  # the township
        "330702101201JC00012",  # parcel code
        "３３０７０２１０１２０１ＪＣ００012",  # typed with full-width digits and letters
        "工业功能区",  # the parcel's location
        "古方村股份经济合作社",  # the applicant
        "婺城-入市-2026-001",  # business key
        "12.5亩 工业",  # two words of the matter
    ):
        assert found(lf, CLERK, text=query) == [case_no], query
    assert found(lf, CLERK, text="筱溪村") == []
    assert found(lf, CLERK, text="古方村 筱溪村") == []  # every word must occur
    assert found(lf, CLERK, text="%") == []  # LIKE wildcards are matched literally


def test_search_covers_only_the_cases_the_user_may_see(product_lf):
    lf = product_lf
    case_no = applied(lf).case["case_no"]
    assert found(lf, CLERK, text="古方村") == [case_no]
    assert found(lf, CITY_OFFICE, text="古方村") == [case_no]  # watching the city
    assert found(lf, f"applicant.{'330702101201'}", text="古方村") == [case_no]
    assert found(lf, STRANGER, text="古方村") == []
    assert found(lf, "applicant.330702101202", text="") == []  # 筱溪村's applicant


def test_case_filters_process_region_status_and_dates(product_lf):
    lf = product_lf
    case = applied(lf)
    case_no = case.case["case_no"]
    started = case.case["created_at"]
    day = datetime.fromisoformat(started)
    assert found(lf, CLERK, process_id="joint_review_entry") == [case_no]
    assert found(lf, CLERK, process_id="collective_decision") == []
    assert found(lf, CLERK, region="330702101") == [case_no]  # 白龙桥镇 holds 古方村
    assert found(lf, CLERK, region="330702102") == []  # 汤溪镇
    assert found(lf, CLERK, status="active") == [case_no]
    assert found(lf, CLERK, status="running") == [case_no]
    assert found(lf, CLERK, status="completed") == []
    assert found(lf, CLERK, created_from=day - timedelta(hours=1)) == [case_no]
    assert found(lf, CLERK, created_from=day + timedelta(hours=1)) == []
    assert found(lf, CLERK, created_to=day) == []
    listed = lf.search.list(lf.auth.actor_for(CLERK), CaseFilter())["items"][0]
    assert [s["title"] for s in listed["open_steps"]] == ["入市条件及负面清单审查"]
    assert listed["open_steps"][0]["department"] == CLERK
    with pytest.raises(BadRequest):
        lf.search.list(SYSTEM, CaseFilter(status="lost"))
    with pytest.raises(BadRequest):
        lf.search.list(SYSTEM, CaseFilter(region="999999"))


def inbox(lf, username: str, **where) -> dict:
    return lf.inbox.list(lf.auth.actor_for(username), TaskFilter(**where))


def test_inbox_rows_carry_the_light_and_working_days_left_or_over(product_lf):
    lf = product_lf
    case = applied(lf)  # precheck: 5 working days from Monday 2026-03-02 → due Monday 03-09
    [row] = inbox(lf, CLERK, scope="queue")["items"]
    assert row["case_no"] == case.case["case_no"]
    assert row["case_title"] == "古方村 12.5亩 工业用地入市"
    assert (row["light"], row["days_left"], row["supervised"]) == ("green", 5, False)
    assert row["can_claim"] is True and row["sla_provisional"] is False
    assert [t["id"] for t in inbox(lf, CLERK, scope="queue", light="green")["items"]] == [row["id"]]
    assert inbox(lf, CLERK, scope="queue", light="red")["items"] == []

    case.advance(days=9)  # Wednesday 03-11: two working days past the due Monday
    [row] = inbox(lf, CLERK, scope="queue", light="red")["items"]
    assert (row["light"], row["days_left"]) == ("red", -2)
    # the red step's blue 督办 asks the department for a reply: a green step of its own
    [reply] = inbox(lf, CLERK, scope="queue", light="green")["items"]
    assert (reply["process_id"], reply["name"]) == ("supervision_order", "reply")


def test_a_supplement_pauses_the_row_and_shows_in_the_paused_filter(product_lf):
    lf = product_lf
    applied(lf)
    clerk = lf.auth.actor_for(CLERK)
    [row] = inbox(lf, CLERK, scope="queue")["items"]
    lf.sla.suspend(clerk, row["id"], "补正", "材料不齐", ["宗地界址图", "村民代表会议决议"])
    [paused] = inbox(lf, CLERK, scope="queue", light="paused")["items"]
    assert paused["light"] == "paused"
    assert inbox(lf, CLERK, scope="queue", light="green")["items"] == []


def test_a_due_date_in_a_year_without_the_notice_is_provisional(product_lf):
    lf = product_lf
    case = start(lf)
    lf.clock.set(datetime(2026, 12, 28, 1, 0, tzinfo=UTC))
    apply(case)  # precheck due in January 2027
    [row] = inbox(lf, CLERK, scope="queue", light="provisional")["items"]
    assert row["sla_provisional"] is True and row["light"] == "green"
    with lf.uow.read() as session:
        assert session.get(HumanTask, row["id"]).sla_provisional is True


def test_supervised_tab_done_tab_and_the_watchers_rows(product_lf):
    lf = product_lf
    case = applied(lf)
    [row] = inbox(lf, CLERK, scope="queue")["items"]
    with lf.uow.write() as session:
        session.add(
            SupervisionOrder(
                instance_id=case.id,
                task_id=row["id"],
                office="ldxz.330702",
                department=CLERK,
                grade="blue",
                text="督办",
                status="open",
                created_at=lf.clock.now(),
            )
        )
    [supervised] = inbox(lf, CLERK, scope="supervised")["items"]
    assert supervised["id"] == row["id"] and supervised["supervised"] is True
    watched = inbox(lf, CITY_OFFICE, scope="watch")["items"]
    assert [t["id"] for t in watched] == [row["id"]]
    assert watched[0]["can_claim"] is False  # a watching office only watches
    counts = lf.inbox.counts(lf.auth.actor_for(CLERK))
    assert (counts["queue"], counts["supervised"], counts["done"]) == (1, 1, 0)

    case.complete("precheck", PRECHECK_OK, by=ZRZY)
    done = inbox(lf, CLERK, scope="own", state="done", sort="-completed")["items"]
    assert [t["name"] for t in done] == ["precheck"]
    assert done[0]["light"] is None and done[0]["days_left"] is None
    assert lf.inbox.counts(lf.auth.actor_for(CLERK))["done"] == 1
    applicant_done = inbox(lf, "applicant.330702101201", scope="own", state="done")["items"]
    assert [t["name"] for t in applicant_done] == ["apply"]
    with pytest.raises(BadRequest):
        inbox(lf, CLERK, light="blue")


def test_notifications_are_counted_until_read(product_lf):
    lf = product_lf
    applied(lf)
    clerk = lf.auth.actor_for(CLERK)
    [row] = inbox(lf, CLERK, scope="queue")["items"]
    applicant = lf.auth.actor_for("applicant.330702101201")
    lf.workspace.mark_read(applicant)  # 新事项进入本部门待认领 of the applicant's own step
    lf.sla.suspend(clerk, row["id"], "补正", "材料不齐", ["宗地界址图"])
    header = lf.workspace.header(applicant)
    assert header["unread"] == 1 and header["is_applicant"] is True
    [notice] = lf.workspace.notifications(applicant, unread_only=True)
    assert notice["event"] == "supplement_notice" and notice["read"] is False
    assert notice["event_name"] == "补正材料通知" and "宗地界址图" in notice["text"]
    assert notice["case_no"].startswith("入市")
    assert lf.workspace.mark_read(clerk, [notice["id"]]) == 0  # not the clerk's to mark
    assert lf.workspace.mark_read(applicant, [notice["id"]]) == 1
    assert lf.workspace.header(applicant)["unread"] == 0
    assert lf.workspace.notifications(applicant, unread_only=True) == []

    home = lf.applicant.cases(applicant)
    assert home[0]["supplement"]["missing_items"] == ["宗地界址图"]
    assert home[0]["open_steps"][0]["paused"] is True


def test_the_header_names_departments_region_and_the_role(product_lf):
    lf = product_lf
    clerk = lf.workspace.header(lf.auth.actor_for(CLERK))
    assert clerk["departments"] == ["婺城区自然资源和规划局"]
    assert clerk["region"] == "金华市婺城区"
    assert (clerk["is_applicant"], clerk["is_watcher"], clerk["can_start"]) == (False, False, True)
    office = lf.workspace.header(lf.auth.actor_for(CITY_OFFICE))
    assert (office["is_watcher"], office["can_start"]) == (True, False)


def test_migration_0005_fills_the_search_text_of_existing_cases(product_lf, database_url):
    lf = product_lf
    case = applied(lf)
    with lf.uow.write() as session:
        session.execute(text("UPDATE instances SET search_text = NULL"))
    with lf.uow.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
        conn.execute(text("ALTER TABLE instances DROP COLUMN search_text"))
        conn.execute(text("ALTER TABLE tasks DROP COLUMN sla_provisional"))
        conn.execute(text("ALTER TABLE notifications DROP COLUMN read_at"))
    lf.uow.engine.dispose()
    upgrade(database_url, "0005")
    with lf.uow.read() as session:
        stored = session.scalar(select(Instance.search_text).where(Instance.id == case.id))
    assert "330702101201jc00012" in stored and "古方村" in stored
    command.stamp(alembic_config(database_url), "head")  # later revisions are in place
