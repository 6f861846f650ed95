"""The leadership-group office's dispatch dashboard on both backends: a seeded month with known
figures gives exactly those figures (on-time rate, counts per county and department, average and
90th-percentile working days per step across a holiday, 督办, indicators against the demo's
targets), every number lists exactly its cases, each office sees its own territory only, and
targets are edited per year and region by the offices above them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, literal, select

from engine.api.app import create_app
from engine.api.routes import dispatch as dispatch_routes
from engine.db.tables import (
    HumanTask,
    Instance,
    ProcessVersion,
    Region,
    SlaClock,
    SlaSuspension,
    SupervisionOrder,
)
from engine.domain.calendar import package_calendar
from engine.errors import BadRequest, NotFound, PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.dashboard_drilldown import DrillDown
from engine.services.dashboard_indicators import parse_indicators
from engine.services.dashboard_workdays import WorkdayIndex, day_number, local_day_number
from tests.conftest import PROJECT
from tests.integration.test_authorization_matrix import sign_in

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # Friday 10:00 in Beijing
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))
CITY, WUCHENG, YIWU = "330700", "330702", "330782"
GUFANG, SIPING, BEILEI = "330702101201", "330702102201", "330782101201"
BAILONGQIAO = "330702101"
HUANGYAN_VILLAGE = "331003101201"


def local(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=BEIJING)


class Seeder:
    """Rows written straight into the engine's tables, with the figures we want to read back."""

    def __init__(self, lf) -> None:
        self.lf = lf
        with lf.uow.read() as session:
            self.versions = {
                v.process_id: (v.id, v.version) for v in session.scalars(select(ProcessVersion))
            }
            self.paths = dict(session.execute(select(Region.code, Region.path)).all())
            self.names = {p: d.steps for p, d in lf.dispatch.diagrams.latest(session).items()}
        self.cases: dict[str, str] = {}
        self.tasks: dict[str, str] = {}

    def case(self, name: str, process_id: str, region: str, status="running", **data) -> str:
        case_id = str(uuid.uuid4())
        version_id, version = self.versions[process_id]
        with self.lf.uow.write() as session:
            session.execute(
                insert(Instance),
                [
                    {
                        "id": case_id,
                        "process_version_id": version_id,
                        "process_id": process_id,
                        "version": version,
                        "region": region,
                        "region_path": self.paths[region],
                        "case_no": f"测试{len(self.cases) + 1:04d}",
                        "title": name,
                        "status": status,
                        "data": data,
                        "state_json": "",
                        "revision": 1,
                        "started_by": "admin",
                        "created_at": local("2026-09-01"),
                        "updated_at": local("2026-11-01"),
                    }
                ],
            )
        self.cases[name] = case_id
        return case_id

    def step(
        self,
        name: str,
        case: str,
        spec: str,
        department: str | None,
        opened: datetime,
        done: datetime | None = None,
        state: str = "normal",
        suspended: int = 0,
    ) -> str:
        task_id = str(uuid.uuid4())
        with self.lf.uow.read() as session:
            instance = session.get(Instance, self.cases[case])
        with self.lf.uow.write() as session:
            session.add(  # through the ORM: the roll-up of finished steps follows in the flush
                HumanTask(
                    id=task_id,
                    instance_id=instance.id,
                    process_id=instance.process_id,
                    task_spec=spec,
                    title=self.names[instance.process_id][spec],
                    state="done" if done else "open",
                    properties={},
                    region=instance.region,
                    region_path=instance.region_path,
                    department=department,
                    created_at=opened,
                    completed_at=done,
                    completed_by=department if done else None,
                    sla_state=state,
                    sla_provisional=False,
                )
            )
            session.flush()
            if suspended:
                clock = SlaClock(
                    instance_id=instance.id,
                    task_id=task_id,
                    kind="committed",
                    limit_days=10,
                    unit="wd",
                    yellow_rule="1wd",
                    department=department,
                    started_at=opened,
                    start_day=opened.astimezone(BEIJING).date(),
                    suspended_days=suspended,
                    extension_days=0,
                    state=state,
                    stopped_at=done,
                )
                session.add(clock)
                session.flush()
                session.add(
                    SlaSuspension(
                        clock_id=clock.id,
                        reason_type="补正",
                        reason="补正材料",
                        started_at=opened + timedelta(days=1),
                        started_by="zrzy.330702",
                        ended_at=opened + timedelta(days=3),
                        ended_by="zrzy.330702",
                        days_counted=suspended,
                    )
                )
        self.tasks[name] = task_id
        return task_id

    def order(self, case: str, task: str, department: str, office: str, at: datetime) -> None:
        with self.lf.uow.write() as session:
            session.add(
                SupervisionOrder(
                    instance_id=self.cases[case],
                    task_id=self.tasks[task],
                    office=office,
                    department=department,
                    grade="blue",
                    text="请加快办理",
                    status="open",
                    created_at=at,
                )
            )


def seed_known_month(lf) -> Seeder:
    """金华市 in November 2026 (no holidays): nine steps finished, two of them late; three
    open (one red, one yellow); two 督办; and 台州市's case that 金华 must never see."""
    s = Seeder(lf)
    s.case("A", "joint_review_entry", GUFANG)
    s.step(
        "A.apply",
        "A",
        "apply",
        "applicant.330702101201",
        local("2026-11-02"),
        local("2026-11-04"),
        "met",
    )
    s.step(
        "A.precheck",
        "A",
        "precheck",
        "zrzy.330702",
        local("2026-11-04"),
        local("2026-11-11"),
        "missed",
    )
    s.step("A.open", "A", "planning_conditions", "zrzy.330702", local("2026-11-11"), state="red")
    s.case("B", "joint_review_entry", SIPING)
    s.step(
        "B.apply",
        "B",
        "apply",
        "applicant.330702102201",
        local("2026-11-03", 9),
        local("2026-11-03", 17),
        "met",
    )
    # five working days open, two of them suspended for 补正: three counted
    s.step(
        "B.precheck",
        "B",
        "precheck",
        "zrzy.330702",
        local("2026-11-03"),
        local("2026-11-10"),
        "met",
        suspended=2,
    )
    s.step("B.open", "B", "planning_conditions", "zrzy.330702", local("2026-11-10"), state="yellow")
    s.case("C", "joint_review_entry", BEILEI)
    s.step(
        "C.apply",
        "C",
        "apply",
        "applicant.330782101201",
        local("2026-10-20"),
        local("2026-10-22"),
        "met",
    )
    s.step(
        "C.precheck",
        "C",
        "precheck",
        "zrzy.330782",
        local("2026-10-22"),
        local("2026-11-05"),
        "missed",
    )
    s.step("C.open", "C", "planning_conditions", "zrzy.330782", local("2026-11-05"))
    s.case(
        "D",
        "homestead_withdrawal",
        BEILEI,
        status="completed",
        paid_yuan=300_000,
        reclaimed_area_mu=0.5,
        new_cultivated_land_mu=0.4,
    )
    s.step(
        "D.pay",
        "D",
        "pay_compensation",
        "cz.330782",
        local("2026-11-04"),
        local("2026-11-06"),
        "met",
    )
    s.step(
        "D.indicators",
        "D",
        "record_indicators",
        "zrzy.330782",
        local("2026-11-06"),
        local("2026-11-12"),
        "met",
    )
    s.case(
        "E",
        "consolidation_project",
        BAILONGQIAO,
        new_farmland_mu=300,
        high_standard_farmland_mu=1000,
    )
    s.step(
        "E.start",
        "E",
        "report_start",
        "xz.330702101",
        local("2026-11-02"),
        local("2026-11-09"),
        "met",
    )
    s.step(
        "E.farmland",
        "E",
        "certify_new_farmland",
        "zrzy.330702",
        local("2026-11-09"),
        local("2026-11-16"),
        "met",
    )
    s.step(
        "E.high",
        "E",
        "certify_high_standard",
        "nync.330702",
        local("2026-10-12"),
        local("2026-10-15"),
        "met",
    )
    # across National Day: 10 working days from Mon 09-28 to Fri 10-16 (DOMAIN.md §2)
    s.case("G", "collective_decision", GUFANG, status="completed")
    s.step(
        "G.propose",
        "G",
        "propose",
        "dzz.330702101201",
        local("2026-09-28"),
        local("2026-10-16"),
        "met",
    )
    s.order("A", "A.precheck", "zrzy.330702", "ldxz.330702", local("2026-11-12", 0))
    s.order("C", "C.precheck", "zrzy.330782", "ldxz.330782", local("2026-11-06", 0))
    s.case("F", "joint_review_entry", HUANGYAN_VILLAGE)
    s.step(
        "F.apply",
        "F",
        "apply",
        "applicant.331003101201",
        local("2026-11-02"),
        local("2026-11-03"),
        "missed",
    )
    s.step("F.open", "F", "precheck", "zrzy.331003", local("2026-11-03"), state="red")
    s.order("F", "F.apply", "applicant.331003101201", "ldxz.331003", local("2026-11-04", 0))
    return s


@pytest.fixture
def seeded(product_lf):
    product_lf.clock.set(NOW)
    product_lf.dispatch.seed_targets(PROJECT / "processes" / "demo" / "dispatch_targets.csv")
    return product_lf, seed_known_month(product_lf)


def office(lf, code: str = CITY):
    return lf.auth.actor_for(f"ldxz.{code}")


def by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in rows}


def case_names(seeder: Seeder, listed: dict[str, Any]) -> list[str]:
    names = {v: k for k, v in seeder.cases.items()}
    return sorted(names[c["id"]] for c in listed["items"])


def test_the_city_office_reads_exactly_the_seeded_figures(seeded):
    lf, _ = seeded
    figures = lf.dispatch.dashboard(office(lf), None, *NOVEMBER)

    assert figures["scope"] == {
        "region": CITY,
        "region_name": "金华市",
        "since": "2026-11-01",
        "until": "2026-11-30",
        "year": 2026,
    }
    assert figures["totals"] == {
        "active_cases": 4,  # A, B, C and the consolidation project E (D and G are finished)
        "open_steps": 3,
        "yellow": 1,
        "red": 1,
        "finished": 9,
        "late": 2,
        "on_time_rate": 0.7778,
        "supervised": 2,
    }
    areas = by_code(figures["areas"])
    assert list(areas) == [WUCHENG, YIWU]  # 金华市本级 has no case: not shown
    assert areas[WUCHENG] | {"name": "婺城区"} == areas[WUCHENG]
    assert {k: areas[WUCHENG][k] for k in ("active_cases", "finished", "late", "red")} == {
        "active_cases": 3,
        "finished": 6,
        "late": 1,
        "red": 1,
    }
    assert areas[WUCHENG]["on_time_rate"] == 0.8333
    assert (areas[YIWU]["finished"], areas[YIWU]["late"], areas[YIWU]["on_time_rate"]) == (
        3,
        1,
        0.6667,
    )
    assert (areas[WUCHENG]["supervised"], areas[YIWU]["supervised"]) == (1, 1)

    departments = by_code(figures["departments"])
    assert departments["zrzy.330702"] == {
        "code": "zrzy.330702",
        "name": "婺城区自然资源和规划局",
        "active_cases": 0,
        "open_steps": 2,
        "yellow": 1,
        "red": 1,
        "finished": 3,  # A.precheck, B.precheck, E's new farmland
        "late": 1,
        "on_time_rate": 0.6667,
        "supervised": 1,
    }
    assert figures["departments"][0]["code"] == "zrzy.330702"  # red first

    steps = {(s["process_id"], s["step"]): s for s in figures["steps"]}
    precheck = steps[("joint_review_entry", "precheck")]
    # A 5, B 5 less 2 suspended = 3, C across two weeks = 10 working days
    assert (precheck["finished"], precheck["late"]) == (3, 2)
    assert (precheck["avg_workdays"], precheck["p90_workdays"]) == (6.0, 10)
    assert precheck["overdue_share"] == 0.6667
    assert precheck["name"] == "入市条件及负面清单审查"
    apply = steps[("joint_review_entry", "apply")]
    assert (apply["finished"], apply["avg_workdays"], apply["p90_workdays"]) == (2, 1.0, 2)
    waiting = steps[("joint_review_entry", "planning_conditions")]
    assert (waiting["open_cases"], waiting["open_red"], waiting["finished"]) == (3, 1, 0)
    # opened 11-11, 11-10 and 11-05; today is Fri 11-20: 7, 8 and 11 working days
    assert waiting["avg_waited_workdays"] == round((7 + 8 + 11) / 3, 1)
    assert figures["steps"][0]["step"] == "precheck"  # the longest first

    entry = next(p for p in figures["processes"] if p["process_id"] == "joint_review_entry")
    assert entry["active_cases"] == 3
    assert [(s["step"], s["open_cases"]) for s in entry["stages"]] == [("planning_conditions", 3)]


def test_working_days_cross_the_national_day_holiday(seeded):
    lf, _ = seeded
    october = lf.dispatch.dashboard(office(lf), None, *OCTOBER)
    propose = next(s for s in october["steps"] if s["step"] == "propose")
    assert (propose["finished"], propose["avg_workdays"], propose["p90_workdays"]) == (1, 10.0, 10)
    heat = lf.dispatch.heatmap(office(lf), "collective_decision", None, *OCTOBER)
    element = next(e for e in heat["elements"] if e["id"] == "propose")
    assert (element["avg_workdays"], element["overdue_share"], element["name"]) == (
        10.0,
        0.0,
        "村党组织提议",
    )
    assert "<bpmn:userTask" in heat["xml"] or "userTask" in heat["xml"]
    assert {e["id"] for e in heat["elements"]} >= {"propose", "consult", "party_review"}


def test_indicators_count_the_period_and_the_year_against_the_demo_targets(seeded):
    lf, _ = seeded
    indicators = {
        i["key"]: i for i in lf.dispatch.dashboard(office(lf), None, *NOVEMBER)["indicators"]
    }
    assert indicators["consolidation_projects"] | {} == {
        "key": "consolidation_projects",
        "name": "新开工土地综合整治项目",
        "unit": "个",
        "value": 1.0,
        "year_value": 1.0,
        "target": 50.0,
        "progress": 0.02,
        "basis": "金华市2026年目标：新启动全域土地综合整治项目50个",
    }
    assert (indicators["new_farmland"]["value"], indicators["new_farmland"]["target"]) == (
        300.4,  # 300 亩 of the project and 0.4 亩 of the homestead
        45000.0,
    )
    assert indicators["new_farmland"]["progress"] == round(300.4 / 45000, 4)
    high = indicators["high_standard_farmland"]
    assert (high["value"], high["year_value"], high["target"]) == (0.0, 1000.0, 160000.0)
    assert indicators["reclaimed_village_land"]["value"] == 0.5
    assert indicators["homestead_withdrawals"]["value"] == 1.0
    assert indicators["homestead_compensation"]["value"] == 30.0  # 万元
    assert indicators["entry_parcels"]["target"] is None
    assert indicators["entry_parcels"]["progress"] is None


def test_every_number_lists_exactly_its_cases(seeded):
    lf, s = seeded
    city = office(lf)

    def listed(kind: str, period=NOVEMBER, **filters) -> list[str]:
        return case_names(s, lf.dispatch.cases(city, DrillDown(kind, **filters), None, *period))

    assert listed("open", light="red") == ["A"]
    assert listed("open", light="yellow") == ["B"]
    assert listed("active") == ["A", "B", "C", "E"]
    assert listed("active", area=WUCHENG) == ["A", "B", "E"]
    assert listed("active", process="joint_review_entry") == ["A", "B", "C"]
    assert listed("late") == ["A", "C"]
    assert listed("late", area=YIWU) == ["C"]
    assert listed("finished", process="joint_review_entry", step="precheck") == ["A", "B", "C"]
    assert listed("open", department="zrzy.330702") == ["A", "B"]
    assert listed("supervised") == ["A", "C"]
    assert listed("supervised", department="zrzy.330782") == ["C"]
    assert listed("indicator", indicator="new_farmland") == ["D", "E"]
    assert listed("indicator", indicator="high_standard_farmland") == []
    assert listed(
        "indicator", (date(2026, 1, 1), NOVEMBER[1]), indicator="high_standard_farmland"
    ) == ["E"]
    page = lf.dispatch.cases(city, DrillDown("active"), None, *NOVEMBER, limit=2)
    assert (page["total"], len(page["items"])) == (4, 2)
    assert page["items"][0]["open_steps"] or page["items"][1]["open_steps"]
    with pytest.raises(BadRequest):
        lf.dispatch.cases(city, DrillDown("nonsense"), None, *NOVEMBER)


def test_each_office_sees_its_own_territory_only(seeded):
    lf, _ = seeded
    yiwu = lf.dispatch.dashboard(office(lf, YIWU), None, *NOVEMBER)
    assert yiwu["scope"]["region"] == YIWU
    assert (yiwu["totals"]["finished"], yiwu["totals"]["active_cases"]) == (3, 1)
    assert [a["code"] for a in yiwu["areas"]] == ["330782101", "330782102"]  # its townships
    wucheng = lf.dispatch.dashboard(office(lf, WUCHENG), None, *NOVEMBER)
    assert (wucheng["totals"]["finished"], wucheng["totals"]["red"]) == (6, 1)
    assert "zrzy.330782" not in by_code(wucheng["departments"])
    with pytest.raises(NotFound):
        lf.dispatch.dashboard(office(lf, WUCHENG), YIWU, *NOVEMBER)
    with pytest.raises(BadRequest):
        lf.dispatch.cases(office(lf, WUCHENG), DrillDown("active", area=YIWU), None, *NOVEMBER)
    taizhou = lf.dispatch.dashboard(office(lf, "331000"), None, *NOVEMBER)
    assert (taizhou["totals"]["red"], taizhou["totals"]["late"]) == (1, 1)
    city = lf.dispatch.dashboard(office(lf), None, *NOVEMBER)
    assert "zrzy.331003" not in by_code(city["departments"])
    # the city office narrows to one county; the administrator sees every province
    narrowed = lf.dispatch.dashboard(office(lf), WUCHENG, *NOVEMBER)
    assert narrowed["totals"] == wucheng["totals"]
    everything = lf.dispatch.dashboard(lf.auth.actor_for("admin"), None, *NOVEMBER)
    assert everything["totals"]["red"] == 2 and everything["totals"]["finished"] == 10
    assert "330000" in by_code(everything["areas"])
    for clerk in ("zrzy.330702", "dzz.330702101201"):
        with pytest.raises(PermissionDenied):
            lf.dispatch.dashboard(lf.auth.actor_for(clerk))
        with pytest.raises(PermissionDenied):
            lf.dispatch.cases(lf.auth.actor_for(clerk), DrillDown("active"))


def test_a_bad_period_is_refused(seeded):
    lf, _ = seeded
    with pytest.raises(BadRequest):
        lf.dispatch.dashboard(office(lf), None, date(2026, 11, 30), date(2026, 11, 1))
    with pytest.raises(BadRequest):
        lf.dispatch.dashboard(office(lf), None, date(2020, 1, 1), date(2026, 11, 1))
    default = lf.dispatch.dashboard(office(lf))
    assert (default["scope"]["since"], default["scope"]["until"]) == ("2026-11-01", "2026-11-20")


def test_offices_edit_the_targets_of_their_regions(seeded):
    lf, _ = seeded
    city, county = office(lf), office(lf, WUCHENG)
    saved = lf.dispatch.set_target(city, 2026, WUCHENG, "new_farmland", 8000, "婺城区分解任务")
    assert (saved["target"], saved["updated_by"], saved["unit"]) == (8000.0, "ldxz.330700", "亩")
    listed = {t["indicator"]: t for t in lf.dispatch.targets(county, 2026)["items"]}
    assert listed["new_farmland"]["target"] == 8000.0
    assert listed["new_farmland"]["basis"] == "婺城区分解任务"
    assert listed["entry_parcels"]["target"] is None
    wucheng = lf.dispatch.dashboard(county, None, *NOVEMBER)
    farmland = next(i for i in wucheng["indicators"] if i["key"] == "new_farmland")
    assert (farmland["year_value"], farmland["progress"]) == (300.0, round(300 / 8000, 4))

    lf.dispatch.set_target(county, 2026, WUCHENG, "new_farmland", 9000)
    assert lf.dispatch.targets(county, 2026)["items"][1]["target"] == 9000.0
    lf.dispatch.set_target(county, 2026, WUCHENG, "new_farmland", None)
    assert lf.dispatch.targets(county, 2026)["items"][1]["target"] is None
    assert lf.dispatch.targets(city, 2027)["items"][1]["target"] is None  # per year

    with pytest.raises(NotFound):  # a county office does not set the city's targets
        lf.dispatch.set_target(county, 2026, CITY, "new_farmland", 1)
    with pytest.raises(ValidationFailed):
        lf.dispatch.set_target(city, 2026, CITY, "new_farmland", -5)
    with pytest.raises(ValidationFailed):
        lf.dispatch.set_target(city, 2026, CITY, "no_such_indicator", 5)
    with pytest.raises(PermissionDenied):
        lf.dispatch.set_target(lf.auth.actor_for("zrzy.330702"), 2026, WUCHENG, "new_farmland", 5)
    # seeding again keeps what an office set
    lf.dispatch.set_target(city, 2026, CITY, "new_farmland", 50000)
    assert lf.dispatch.seed_targets(PROJECT / "processes" / "demo" / "dispatch_targets.csv") == 0
    assert lf.dispatch.targets(city, 2026)["items"][1]["target"] == 50000.0


def test_working_days_in_sql_match_the_calendar(product_lf):
    """The ordinal written into SQL agrees with the calendar service on both backends,
    across the 2026 Spring Festival and National Day (with their make-up Saturdays)."""
    calendar = package_calendar()
    index = WorkdayIndex.build(calendar, date(2025, 6, 1), date(2026, 12, 31))
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(0, 330, 3)]
    with product_lf.uow.read() as session:
        expression = [
            index.ordinal_sql(literal(day_number(d))).label(f"d{n}") for n, d in enumerate(days)
        ]
        found = session.execute(select(*expression)).one()
        moments = [
            datetime(2026, 10, 31, 15, 59, tzinfo=UTC),
            datetime(2026, 10, 31, 16, 0, tzinfo=UTC),
        ]
        dialect = session.get_bind().dialect.name
        local_days = session.execute(
            select(
                *[
                    local_day_number(literal(m, HumanTask.created_at.type), BEIJING, dialect)
                    for m in moments
                ]
            )
        ).one()
    for n, day in enumerate(days):
        assert found[n] == index.ordinal(day_number(day)), day
    for n in range(len(days) - 1):
        passed = found[n + 1] - found[n]
        assert passed == calendar.workdays_between(days[n], days[n + 1]), days[n]
    assert list(local_days) == [day_number(date(2026, 10, 31)), day_number(date(2026, 11, 1))]


def test_the_shipped_indicator_mapping_names_real_steps_and_fields(product_lf):
    indicators = parse_indicators(
        (PROJECT / "processes" / "dispatch_indicators.csv").read_text(encoding="utf-8")
    )
    with product_lf.uow.read() as session:
        diagrams = product_lf.dispatch.diagrams.latest(session)

    for indicator in indicators:
        for source in indicator.sources:
            assert source.task_spec in diagrams[source.process_id].steps, source
            if source.field:
                forms = [
                    json.loads(p.read_text(encoding="utf-8"))
                    for p in (PROJECT / "forms").glob("*.json")
                ]
                assert any(source.field in f.get("properties", {}) for f in forms), source
    with pytest.raises(Exception) as refused:
        parse_indicators("indicator,name,unit,process_id,task_spec,field,factor\nBad,x,y,p,t,,1\n")
    assert "第 2 行" in str(refused.value.problems[0].message)


def test_a_real_case_walked_through_the_engine_is_counted(product_lf):
    """Not only seeded rows: a 四议两公开 proposal worked by the village's party branch shows
    up with its working days and its on-time mark."""
    lf = product_lf
    lf.clock.set(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # Monday
    case = lf.instances.start(
        SYSTEM,
        "collective_decision",
        GUFANG,
        None,
        {"matter": "入市方案", "deciding_body": "村民代表会议"},
    )
    task = next(t for t in lf.instances.get(SYSTEM, case["id"])["tasks"] if t["state"] == "open")
    lf.clock.set(datetime(2026, 11, 5, 2, 0, tzinfo=UTC))  # Thursday: three working days
    party = lf.auth.actor_for("dzz.330702101201")
    lf.tasks.complete(
        party, task["id"], {"proposal_summary": "入市方案", "proposed_on": "2026-11-02"}
    )
    figures = lf.dispatch.dashboard(office(lf), None, *NOVEMBER)
    propose = next(s for s in figures["steps"] if s["step"] == "propose")
    assert (propose["finished"], propose["late"], propose["avg_workdays"]) == (1, 0, 3.0)
    assert figures["totals"]["on_time_rate"] == 1.0
    assert figures["totals"]["active_cases"] == 1
    listed = lf.dispatch.cases(office(lf), DrillDown("finished", step="propose"), None, *NOVEMBER)
    assert [c["id"] for c in listed["items"]] == [case["id"]]


def test_the_api_serves_offices_and_refuses_clerks(seeded):
    lf, seeder = seeded
    app = create_app(lf, start_scheduler=False)
    if not any(getattr(r, "path", "").startswith("/api/v1/dispatch") for r in app.routes):
        app.include_router(dispatch_routes.router)  # until engine/api/app.py registers it
    month = {"since": "2026-11-01", "until": "2026-11-30"}
    with TestClient(app) as client:
        city = sign_in(client, "ldxz.330700")
        figures = client.get("/api/v1/dispatch", params=month, headers=city)
        assert figures.status_code == 200, figures.text
        assert figures.json() == lf.dispatch.dashboard(office(lf), None, *NOVEMBER)
        red = client.get(
            "/api/v1/dispatch/cases", params={**month, "kind": "open", "light": "red"}, headers=city
        ).json()
        assert [c["id"] for c in red["items"]] == [seeder.cases["A"]]
        assert red["items"][0]["open_steps"][0]["sla_state"] == "red"
        heat = client.get(
            "/api/v1/dispatch/heatmap",
            params={**month, "process_id": "joint_review_entry"},
            headers=city,
        ).json()
        assert next(e for e in heat["elements"] if e["id"] == "precheck")["p90_workdays"] == 10
        choices = client.get("/api/v1/dispatch/choices", headers=city).json()
        assert [r["code"] for r in choices["regions"]][:2] == [CITY, WUCHENG]
        put = client.put(
            "/api/v1/dispatch/targets",
            json={"year": 2026, "region": YIWU, "indicator": "entry_parcels", "target": 12},
            headers=city,
        )
        assert (put.status_code, put.json()["target"]) == (200, 12.0)
        listed = client.get(
            "/api/v1/dispatch/targets", params={"year": 2026, "region": YIWU}, headers=city
        ).json()
        assert {t["indicator"]: t["target"] for t in listed["items"]}["entry_parcels"] == 12.0
        assert (
            client.get("/api/v1/dispatch", params={"region": "331000"}, headers=city).status_code
            == 404
        )
        assert (
            client.get(
                "/api/v1/dispatch",
                params={"since": "2026-12-01", "until": "2026-11-01"},
                headers=city,
            ).status_code
            == 400
        )
        clerk = sign_in(client, "zrzy.330702")
        for path in ("", "/cases", "/heatmap", "/choices", "/targets"):
            assert client.get(f"/api/v1/dispatch{path}", headers=clerk).status_code == 403, path
        assert (
            client.put(
                "/api/v1/dispatch/targets",
                json={"year": 2026, "region": WUCHENG, "indicator": "entry_parcels", "target": 1},
                headers=clerk,
            ).status_code
            == 403
        )
