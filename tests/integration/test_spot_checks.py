"""Yearly spot checks of accepted consolidation projects (engine/services/spot_checks.py,
processes/consolidation_spot_check.bpmn; DOMAIN.md §5: the city checks ≥ 40 %, the province
≥ 15 % of the projects accepted each year), on SQLite and PostgreSQL: which projects are
candidates, the reproducible draw, its record, the check case each drawn project starts, and
who may do what."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.db.spot_check_tables import SpotCheckDraw
from engine.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.attachment_samples import attach_samples
from engine.services.inbox import TaskFilter
from engine.services.spot_checks import DrawRequest
from tests.spot_check_projects import accepted_project, open_tasks
from tests.support import ApiUser

NOV_2 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
JINHUA_OFFICE, ZHEJIANG_OFFICE = "ldxz.330700", "ldxz.330000"
# five projects of 金华市 (婺城区 and 义乌市) and one of 台州市黄岩区
JINHUA = [
    ("330702101", "WC-ZZ-2026-001", "白龙桥镇全域土地综合整治项目"),
    ("330702102", "WC-ZZ-2026-002", "汤溪镇全域土地综合整治项目"),
    ("330782101", "YW-ZZ-2026-001", "佛堂镇全域土地综合整治项目"),
    ("330782102", "YW-ZZ-2026-002", "苏溪镇全域土地综合整治项目"),
    ("330702101", "WC-ZZ-2026-003", "白龙桥镇高标准农田提升项目"),
]
HUANGYAN = ("331003101", "HY-ZZ-2026-001", "院桥镇全域土地综合整治项目")
CHECKED = {
    "check_date": "2026-11-10",
    "check_method": "实地与资料核查",
    "checked_new_farmland_mu": 410.0,
    "spot_check_result": "合格",
    "spot_check_findings": "新增耕地面积、质量等级与验收结论一致",
}
FAILED = {
    **CHECKED,
    "spot_check_result": "不合格",
    "spot_check_findings": "部分排灌沟渠损毁，新增耕地有抛荒",
    "rectification_requirements": "修复排灌沟渠，恢复耕种",
    "rectification_deadline": "2027-01-31",
}
RECTIFIED = {
    "rectification_report": "已修复沟渠 1.2 公里并复耕",
    "rectification_completed_on": "2027-01-20",
}


def actor(lf, username):
    return lf.auth.actor_for(username)


def projects(lf, *specs) -> list[dict]:
    return [accepted_project(lf, township, key, name) for township, key, name in specs]


def rerun(seed: int, candidates: list[dict], count: int) -> list[str]:
    """The draw as anyone can repeat it: candidates by 办件编号, Random(seed).sample."""
    ordered = sorted(candidates, key=lambda c: (c["case_no"], c["instance_id"]))
    picked = sorted(random.Random(seed).sample(range(len(ordered)), count))
    return [ordered[i]["instance_id"] for i in picked]


def complete(lf, task: dict, data: dict) -> None:
    clerk = actor(lf, task["department"])
    attach_samples(lf.attachments, clerk, task["id"])
    lf.tasks.complete(clerk, task["id"], data)


# ---- candidates ---------------------------------------------------------------------------
def test_a_project_is_a_candidate_of_the_year_its_joint_acceptance_passed(product_lf):
    lf = product_lf
    lf.clock.set(datetime(2025, 6, 2, 1, 0, tzinfo=UTC))
    last_year = accepted_project(lf, "330702101", "WC-ZZ-2025-009", "白龙桥镇二〇二五年项目")
    lf.clock.set(NOV_2)
    waiting = accepted_project(lf, "330702102", "WC-ZZ-2026-010", "汤溪镇项目", True)
    failed = accepted_project(lf, "330782101", "YW-ZZ-2026-011", "佛堂镇项目", failing="sl")
    office = actor(lf, JINHUA_OFFICE)

    assert lf.spot_checks.candidates(office, 2026)["candidate_count"] == 0  # none passed yet
    names = {t["name"] for t in open_tasks(lf, failed["id"])}
    assert names == {"rework"}  # 水利局 answered 不合格: 整改返工, no acceptance
    lf.clock.set(datetime(2026, 11, 3, 2, 0, tzinfo=UTC))
    for task in open_tasks(lf, waiting["id"]):
        complete(lf, task, {"acceptance_result": "合格", "acceptance_remark": ""})

    preview = lf.spot_checks.candidates(office, 2026)
    assert [c["instance_id"] for c in preview["candidates"]] == [waiting["id"]]
    assert preview["candidates"][0]["accepted_at"] == "2026-11-03T02:00:00+00:00"
    assert preview["candidates"][0]["region_name"] == "金华市婺城区汤溪镇"
    assert (preview["candidate_count"], preview["required_count"]) == (1, 1)
    earlier = lf.spot_checks.candidates(office, 2025)["candidates"]
    assert [c["instance_id"] for c in earlier] == [last_year["id"]]
    lf.instances.terminate(SYSTEM, waiting["id"], "项目撤销")
    assert lf.spot_checks.candidates(office, 2026)["candidate_count"] == 0


# ---- the draw -----------------------------------------------------------------------------
def test_the_recorded_seed_draws_the_share_of_the_territorys_projects_again(product_lf):
    lf = product_lf
    lf.clock.set(NOV_2)
    jinhua = projects(lf, *JINHUA)
    huangyan = projects(lf, HUANGYAN)[0]
    office = actor(lf, JINHUA_OFFICE)

    preview = lf.spot_checks.candidates(office, 2026)
    assert {c["instance_id"] for c in preview["candidates"]} == {p["id"] for p in jinhua}
    assert (preview["candidate_count"], preview["required_count"]) == (5, 2)  # 40 % of 5 → 2

    city = lf.spot_checks.draw(office, DrawRequest(year=2026, seed=20261102))
    assert (city["region"], city["level"], city["year"], city["round"]) == (
        "330700",
        "city",
        2026,
        1,
    )
    assert (city["share_percent"], city["candidate_count"], city["drawn_count"]) == (40.0, 5, 2)
    assert huangyan["id"] not in {c["instance_id"] for c in city["candidates"]}  # 台州市
    assert [c["case_no"] for c in city["candidates"]] == sorted(p["case_no"] for p in jinhua)
    drawn = [d["instance_id"] for d in city["drawn"]]
    assert drawn == rerun(20261102, city["candidates"], 2)
    assert city["verified"] is True and city["seed"] == 20261102
    assert (city["drawn_by"], city["drawn_by_name"]) == (JINHUA_OFFICE, "金华市领导小组办公室")
    assert lf.spot_checks.get(office, city["id"]) == city  # as recorded

    # the province draws ≥ 15 % of its six (台州市's too): 1; a higher share is allowed
    province = lf.spot_checks.draw(
        actor(lf, ZHEJIANG_OFFICE), DrawRequest(year=2026, seed=7, share_percent=50)
    )
    assert (province["level"], province["candidate_count"], province["drawn_count"]) == (
        "province",
        6,
        3,
    )
    assert huangyan["id"] in {c["instance_id"] for c in province["candidates"]}
    assert [d["instance_id"] for d in province["drawn"]] == rerun(7, province["candidates"], 3)
    with pytest.raises(ValidationFailed) as low:  # below the province's 15 %
        lf.spot_checks.draw(actor(lf, "zrzy.330000"), DrawRequest(year=2026, share_percent=10))
    assert low.value.errors[0].field == "share_percent" and "15" in low.value.errors[0].message

    # a second draw of the year is refused; a supplementary one leaves out the drawn projects
    with pytest.raises(Conflict, match="不能重复抽取"):
        lf.spot_checks.draw(office, DrawRequest(year=2026, seed=1))
    with pytest.raises(Conflict, match="已达到抽查比例"):
        lf.spot_checks.draw(office, DrawRequest(year=2026, supplementary=True))
    extra = lf.spot_checks.draw(
        office, DrawRequest(year=2026, seed=99, supplementary=True, count=2, reason="加大抽查力度")
    )
    assert (extra["round"], extra["candidate_count"], extra["drawn_count"]) == (2, 3, 2)
    assert set(extra["drawn"][0]) >= {"check_case_id"} and extra["excluded_count"] == 2
    assert not {d["instance_id"] for d in extra["drawn"]} & set(drawn)
    assert [d["instance_id"] for d in extra["drawn"]] == rerun(99, extra["candidates"], 2)
    listed = lf.spot_checks.list(office)
    assert [d["id"] for d in listed["items"]] == [extra["id"], city["id"]]  # not the province's
    assert [d["id"] for d in lf.spot_checks.list(actor(lf, ZHEJIANG_OFFICE), 2026)["items"]] == [
        extra["id"],
        province["id"],
        city["id"],
    ]

    # a record whose seed no longer draws its projects says so
    other = next(s for s in range(100) if rerun(s, city["candidates"], 2) != drawn)
    with lf.uow.write() as session:
        session.get(SpotCheckDraw, city["id"]).seed = other
    assert lf.spot_checks.get(office, city["id"])["verified"] is False


def test_each_drawn_project_gets_a_check_case_at_the_drawing_level(product_lf):
    lf = product_lf
    lf.clock.set(NOV_2)
    wucheng, yiwu = projects(lf, JINHUA[0], JINHUA[2])
    draw = lf.spot_checks.draw(
        actor(lf, "zrzy.330700"), DrawRequest(year=2026, seed=5, share_percent=100)
    )
    assert draw["drawn_by"] == "zrzy.330700" and draw["drawn_count"] == 2
    by_project = {d["instance_id"]: d for d in draw["drawn"]}
    office = actor(lf, JINHUA_OFFICE)
    for project in (wucheng, yiwu):
        check = lf.instances.get(office, by_project[project["id"]]["check_case_id"])  # watched
        assert check["process_id"] == "consolidation_spot_check"
        assert check["region"] == project["region"] and check["started_by"] == "zrzy.330700"
        assert check["case_no"].startswith("抽查2026-")
        assert check["title"] == f"{project['data']['project_name']} 2026年度市级抽查"
        assert check["business_key"] == f"{project['business_key']}-2026市级抽查"
        data = check["data"]
        assert (data["project_case_id"], data["project_case_no"]) == (
            project["id"],
            project["case_no"],
        )
        assert (data["draw_id"], data["draw_seed"], data["check_department"]) == (
            draw["id"],
            5,
            "zrzy.330700",
        )
        [task] = [t for t in check["tasks"] if t["state"] == "open"]
        assert (task["name"], task["department"]) == ("spot_check", "zrzy.330700")
        started = check["history"][0]
        assert started["action"] == "instance_started"
        assert "随机种子 5" in started["details"]["reason"]
        assert f"抽取记录第{draw['id']}号" in started["details"]["reason"]
        drawn = [
            h
            for h in lf.instances.get(SYSTEM, project["id"])["history"]
            if h["action"] == "spot_check_drawn"
        ]
        assert [h["details"]["check_case_no"] for h in drawn] == [check["case_no"]]
        assert "随机种子 5" in drawn[0]["details"]["reason"]
    queue = lf.inbox.list(actor(lf, "zrzy.330700"), TaskFilter(scope="queue"))["items"]
    assert {t["instance_id"] for t in queue} == {d["check_case_id"] for d in draw["drawn"]}

    # the province's checks go to the province's 自然资源 department
    province = lf.spot_checks.draw(actor(lf, ZHEJIANG_OFFICE), DrawRequest(year=2026, seed=3))
    [drawn] = province["drawn"]
    check = lf.instances.get(SYSTEM, drawn["check_case_id"])
    assert [t["department"] for t in check["tasks"]] == ["zrzy.330000"]
    assert check["title"].endswith("2026年度省级抽查")


def test_a_failed_check_is_rectified_by_the_county_and_reviewed_by_the_drawer(product_lf):
    lf = product_lf
    lf.clock.set(NOV_2)
    wucheng, yiwu = projects(lf, JINHUA[0], JINHUA[2])
    draw = lf.spot_checks.draw(actor(lf, JINHUA_OFFICE), DrawRequest(year=2026, share_percent=100))
    cases = {d["instance_id"]: d["check_case_id"] for d in draw["drawn"]}
    failed, passed = cases[yiwu["id"]], cases[wucheng["id"]]

    [check] = open_tasks(lf, passed)
    complete(lf, check, CHECKED)
    assert lf.instances.get(SYSTEM, passed)["status"] == "completed"
    assert lf.instances.get(SYSTEM, passed)["data"]["spot_check_outcome"] == "合格"

    [check] = open_tasks(lf, failed)
    clerk = actor(lf, "zrzy.330700")
    attach_samples(lf.attachments, clerk, check["id"])
    no_requirements = {k: v for k, v in FAILED.items() if k != "rectification_requirements"}
    with pytest.raises(ValidationFailed) as refused:
        lf.tasks.complete(clerk, check["id"], no_requirements)
    assert [e.field for e in refused.value.errors] == ["rectification_requirements"]
    lf.tasks.complete(clerk, check["id"], FAILED)
    [rectify] = open_tasks(lf, failed)
    assert (rectify["name"], rectify["department"]) == ("rectify", "zrzy.330782")  # 义乌市
    complete(lf, rectify, RECTIFIED)
    [review] = open_tasks(lf, failed)
    assert (review["name"], review["department"]) == ("review_rectification", "zrzy.330700")
    complete(
        lf,
        review,
        {"review_date": "2027-01-25", "review_result": "整改不到位", "review_opinion": "仍有抛荒"},
    )
    [again] = open_tasks(lf, failed)
    assert (again["name"], again["department"]) == ("rectify", "zrzy.330782")
    complete(lf, again, RECTIFIED)
    [review] = open_tasks(lf, failed)
    complete(lf, review, {"review_date": "2027-02-10", "review_result": "整改到位"})
    case = lf.instances.get(SYSTEM, failed)
    assert case["status"] == "completed"
    assert (case["data"]["spot_check_outcome"], case["data"]["rectification_round"]) == (
        "整改完成",
        2,
    )
    outcomes = {
        d["instance_id"]: d["check_outcome"]
        for d in lf.spot_checks.get(SYSTEM, draw["id"])["drawn"]
    }
    assert outcomes == {wucheng["id"]: "合格", yiwu["id"]: "整改完成"}


# ---- who may ------------------------------------------------------------------------------
def test_only_offices_and_natural_resources_departments_of_a_city_or_province_draw(product_lf):
    lf = product_lf
    lf.clock.set(NOV_2)
    projects(lf, JINHUA[0])
    request = DrawRequest(year=2026, seed=11)
    for clerk in ("zrzy.330702", "xz.330702101", "nync.330700"):  # a county, a township, not zrzy
        with pytest.raises(PermissionDenied):
            lf.spot_checks.draw(actor(lf, clerk), request)
        with pytest.raises(PermissionDenied):
            lf.spot_checks.list(actor(lf, clerk))
    taizhou = actor(lf, "ldxz.331000")
    with pytest.raises(NotFound):
        lf.spot_checks.draw(taizhou, DrawRequest(year=2026, region="330700"))
    with pytest.raises(NotFound):
        lf.spot_checks.candidates(taizhou, 2026, "330700")
    with pytest.raises(ValidationFailed) as future:
        lf.spot_checks.draw(actor(lf, JINHUA_OFFICE), DrawRequest(year=2027))
    assert future.value.errors[0].field == "year"
    with pytest.raises(ValidationFailed) as which:  # an administrator names the territory
        lf.spot_checks.draw(SYSTEM, request)
    assert which.value.errors[0].field == "region"

    draw = lf.spot_checks.draw(actor(lf, JINHUA_OFFICE), request)
    for outsider in ("ldxz.331000", "ldxz.330702"):  # another city's office; a county's office
        with pytest.raises(NotFound):
            lf.spot_checks.get(actor(lf, outsider), draw["id"])
        assert lf.spot_checks.list(actor(lf, outsider))["items"] == []
    for insider in ("zrzy.330700", "ldxz.330000", "admin"):
        assert lf.spot_checks.get(actor(lf, insider), draw["id"])["id"] == draw["id"]


def test_the_api_draws_lists_and_refuses(product_lf):
    lf = product_lf
    lf.clock.set(NOV_2)
    projects(lf, JINHUA[0], JINHUA[2])
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        office = ApiUser(client, JINHUA_OFFICE, "demo")
        preview = office.get("/api/v1/spot-checks/candidates", year=2026)
        assert (preview["candidate_count"], preview["required_count"]) == (2, 1)
        made = office.post("/api/v1/spot-checks/draws", {"year": 2026, "seed": 42}, expect=201)
        assert made["drawn_count"] == 1 and made["verified"] is True
        assert made["drawn"][0]["check_outcome"] == "待核查"
        again = office.post("/api/v1/spot-checks/draws", {"year": 2026}, expect=409)
        assert "不能重复抽取" in again["message"] and again["draw_id"] == made["id"]
        low = office.post(
            "/api/v1/spot-checks/draws",
            {"year": 2026, "share_percent": 20, "supplementary": True},
            expect=422,
        )
        assert low["errors"][0]["field"] == "share_percent"
        assert office.get("/api/v1/spot-checks/draws")["total"] == 1
        assert office.get(f"/api/v1/spot-checks/draws/{made['id']}")["seed"] == 42
        clerk = ApiUser(client, "zrzy.330702", "demo")
        clerk.get("/api/v1/spot-checks/draws", expect=403)
        clerk.post("/api/v1/spot-checks/draws", {"year": 2026}, expect=403)
        ApiUser(client, "ldxz.331000", "demo").get(
            f"/api/v1/spot-checks/draws/{made['id']}", expect=404
        )
