"""Dispatch reports on both backends, over the dashboard's seeded November 2026 with known
figures (tests/integration/test_dashboard.py) and 督办 replies: the snapshot, its HTML, its
workbook's cells and its PDF text show exactly those numbers, with rankings whose ties share a
rank; an issued report stays byte-identical when the data changes, issuing again makes v2; the
weekly job issues once however often the runner runs; bulletins fill their template."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select, update

from engine.api.app import create_app
from engine.db.tables import Job, Notification, SupervisionOrder
from engine.errors import NotFound, PermissionDenied, ValidationFailed
from engine.services.reports import REPORT_JOB
from tests.conftest import PROJECT
from tests.integration.test_authorization_matrix import sign_in
from tests.integration.test_dashboard import (
    CITY,
    NOVEMBER,
    NOW,
    WUCHENG,
    YIWU,
    local,
    office,
    seed_known_month,
)


@pytest.fixture
def seeded(product_lf):
    product_lf.clock.set(NOW)
    product_lf.dispatch.seed_targets(PROJECT / "processes" / "demo" / "dispatch_targets.csv")
    seeder = seed_known_month(product_lf)
    with product_lf.uow.write() as session:
        # A's order (婺城区) answered a day early; C's (义乌市) three days late
        for case, due, replied in (
            ("A", local("2026-11-19", 17), local("2026-11-18", 10)),
            ("C", local("2026-11-13", 17), local("2026-11-16", 10)),
        ):
            session.execute(
                update(SupervisionOrder)
                .where(SupervisionOrder.instance_id == seeder.cases[case])
                .values(reply_due_at=due, replied_at=replied, status="answered")
            )
    return product_lf, seeder


def monthly(lf):
    return lf.reports.issue(office(lf), "monthly", None, *NOVEMBER)


def rows_by_name(rows):
    return {r["name"]: r for r in rows}


def test_the_monthly_dispatch_shows_the_seeded_figures_and_rankings_with_ties(seeded):
    lf, _ = seeded
    issued = monthly(lf)
    assert (issued["title"], issued["version"]) == ("金华市2026年11月月调度", 1)
    report = lf.reports.get(office(lf), issued["id"])
    figures = report["figures"]
    assert figures["totals"]["finished"] == 9
    assert figures["totals"]["on_time_rate"] == 0.7778
    areas = {a["code"]: a for a in figures["areas"]}
    # 婺城区 2+5+0+3+5+5 = 20 working days over 6 steps; 义乌市 10+2+4 over 3
    assert (areas[WUCHENG]["avg_workdays"], areas[YIWU]["avg_workdays"]) == (3.3, 5.3)
    rankings = figures["rankings"]
    assert rankings["measures"] == [
        "on_time_rate",
        "avg_workdays",
        "late",
        "supervision_in_time_rate",
    ]
    assert rankings["note"] is None
    counties = rows_by_name(rankings["areas"])
    assert [r["name"] for r in rankings["areas"]] == ["婺城区", "义乌市"]
    assert (counties["婺城区"]["on_time_rate_rank"], counties["义乌市"]["on_time_rate_rank"]) == (
        1,
        2,
    )
    # one late finish each: both first
    assert (counties["婺城区"]["late_rank"], counties["义乌市"]["late_rank"]) == (1, 1)
    assert counties["婺城区"]["supervision_in_time_rate"] == 1.0
    assert counties["义乌市"]["supervision_in_time_rate"] == 0.0
    departments = rows_by_name(rankings["departments"])
    on_time = {n: (r["on_time_rate"], r["on_time_rate_rank"]) for n, r in departments.items()}
    assert on_time == {
        "古方村申请人": (1.0, 1),
        "寺平村申请人": (1.0, 1),
        "义乌市财政局": (1.0, 1),
        "白龙桥镇乡镇人民政府": (1.0, 1),
        "婺城区自然资源和规划局": (0.6667, 5),
        "义乌市自然资源和规划局": (0.5, 6),
    }
    days = {n: (r["avg_workdays"], r["avg_workdays_rank"]) for n, r in departments.items()}
    assert days["婺城区自然资源和规划局"] == (4.3, 4)  # 5, 5 less 2 suspended, 5
    assert days["义乌市自然资源和规划局"] == (7.0, 6)  # 10 and 4
    assert days["义乌市财政局"][1] == days["古方村申请人"][1] == 2  # both 2.0: tied second
    late = {n: r["late_rank"] for n, r in departments.items()}
    assert late["婺城区自然资源和规划局"] == late["义乌市自然资源和规划局"] == 5
    assert late["义乌市财政局"] == 1


def test_the_html_workbook_and_pdf_show_the_same_numbers(seeded):
    lf, _ = seeded
    issued = monthly(lf)
    report = lf.reports.get(office(lf), issued["id"])
    html = report["html"]
    assert "金华市2026年11月月调度" in html
    assert '<td class="num">77.78%</td>' in html  # 按期办结率, 7 of 9
    assert '<td class="text">婺城区自然资源和规划局</td><td class="num">66.67%</td>' in html
    assert '<script type="application/json" id="report-chart-data">' in html

    name, media, data = lf.reports.file(office(lf), issued["id"], "xlsx")
    assert (name, media.endswith("sheet")) == ("金华市2026年11月月调度-v1.xlsx", True)
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [
        "总体情况",
        "各地对比",
        "各部门情况",
        "耗时最长的环节",
        "年度指标完成情况",
        "各地排名（晾晒）",
        "部门排名（晾晒）",
    ]
    counties = book["各地排名（晾晒）"]
    assert counties.freeze_panes == "A2"
    assert [c.value for c in counties[1]] == [
        "区域",
        "按期办结率",
        "名次",
        "平均办理工作日",
        "名次",
        "逾期办结数",
        "名次",
        "督办按时反馈率",
        "名次",
    ]
    assert [c.value for c in counties[2]] == ["婺城区", 0.8333, 1, 3.3, 1, 1, 1, 1, 1]
    assert [c.value for c in counties[3]] == ["义乌市", 0.6667, 2, 5.3, 2, 1, 1, 0, 2]
    assert counties["B2"].number_format == "0.00%"
    departments = {r[0].value: [c.value for c in r] for r in book["部门排名（晾晒）"].iter_rows(2)}
    assert departments["义乌市财政局"][1:5] == [1, 1, 2, 2]  # tied first, tied second
    assert departments["婺城区自然资源和规划局"][1:7] == [0.6667, 5, 4.3, 4, 1, 5]

    _, media, pdf = lf.reports.file(office(lf), issued["id"], "pdf")
    assert media == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    squeezed = "".join(text.split())
    assert "金华市2026年11月月调度" in squeezed
    assert "婺城区83.33%13.31" in squeezed  # rate, rank, average days, rank in the ranking
    assert "义乌市66.67%25.32" in squeezed
    assert "77.78%" in squeezed


def test_an_issued_report_never_changes_and_issuing_again_makes_v2(seeded):
    lf, seeder = seeded
    first = monthly(lf)
    before = lf.reports.get(office(lf), first["id"])
    files = {f: lf.reports.file(office(lf), first["id"], f)[2] for f in ("xlsx", "pdf")}
    # another late finish in 义乌市 after the report was issued
    seeder.step(
        "C.late",
        "C",
        "planning_conditions",
        "zrzy.330782",
        local("2026-11-05"),
        local("2026-11-25"),
        "missed",
    )
    lf.clock.set(NOW + timedelta(days=10))
    after = lf.reports.get(office(lf), first["id"])
    assert after == before
    for fmt, data in files.items():
        again = lf.reports.file(office(lf), first["id"], fmt)[2]
        assert again == data
        assert before["files"][fmt]["sha256"] == hashlib.sha256(again).hexdigest()

    second = monthly(lf)
    assert (second["version"], second["id"] != first["id"]) == (2, True)
    renewed = lf.reports.get(office(lf), second["id"])["figures"]
    assert (renewed["totals"]["finished"], renewed["totals"]["late"]) == (10, 3)
    assert lf.reports.get(office(lf), first["id"])["figures"]["totals"]["late"] == 2
    listed = lf.reports.list(office(lf), kind="monthly", period="2026-11")
    assert [(r["id"], r["version"]) for r in listed["items"]] == [
        (second["id"], 2),
        (first["id"], 1),
    ]


def test_the_weekly_job_issues_once_for_two_runs_and_rearms(seeded):
    lf, _ = seeded
    lf.reports.arm_schedule()
    lf.reports.arm_schedule()  # a second worker starting: still one job per kind
    with lf.uow.read() as session:
        jobs = {
            j.target: j.due_at for j in session.scalars(select(Job).where(Job.kind == REPORT_JOB))
        }
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Beijing
    assert jobs == {
        "weekly": monday,
        "monthly": datetime(2026, 12, 1, 0, 0, tzinfo=UTC),  # the 1st, 08:00 in Beijing
        "quarterly": datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
        "annual": datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
    }
    lf.clock.set(monday - timedelta(seconds=1))
    lf.jobs.run_due()
    assert lf.reports.list(office(lf))["total"] == 0
    lf.clock.set(monday + timedelta(minutes=1))
    lf.jobs.run_due()
    lf.jobs.run_due()
    listed = lf.reports.list(office(lf))["items"]
    assert [(r["kind"], r["since"], r["until"], r["trigger"]) for r in listed] == [
        ("weekly", "2026-11-16", "2026-11-22", "schedule")
    ]
    assert listed[0]["title"] == "金华市2026年第47周（11月16日—11月22日）周报"
    with lf.uow.read() as session:
        weekly = session.scalar(select(Job).where(Job.kind == REPORT_JOB, Job.target == "weekly"))
        sent = session.scalars(
            select(Notification).where(Notification.template == "report_issued")
        ).all()
    assert (weekly.status, weekly.due_at) == ("pending", monday + timedelta(days=7))
    assert [(n.recipient, n.payload["report_id"]) for n in sent] == [
        ("ldxz.330700", listed[0]["id"])
    ]


def test_a_bulletin_fills_its_template_with_the_current_figures(seeded):
    lf, _ = seeded
    issued = lf.reports.bulletin(
        office(lf),
        "关于十一月办件进度的通报",
        "${region}按期办结率${on_time_rate}，红灯${red}个；最低：${worst_area}。",
        None,
        *NOVEMBER,
    )
    report = lf.reports.get(office(lf), issued["id"])
    assert (
        report["figures"]["report"]["text"]
        == "金华市按期办结率77.78%，红灯1个；最低：义乌市（66.67%）。"
    )
    assert "金华市按期办结率77.78%，红灯1个" in report["html"]
    assert "排名" not in report["html"]
    with pytest.raises(ValidationFailed):
        lf.reports.bulletin(office(lf), "通报", "${nothing}", None, *NOVEMBER)


def test_only_offices_of_the_territory_and_admins_read_reports(seeded):
    lf, _ = seeded
    issued = monthly(lf)
    assert lf.reports.get(lf.auth.actor_for("admin"), issued["id"])["id"] == issued["id"]
    with pytest.raises(NotFound):
        lf.reports.get(office(lf, "331000"), issued["id"])  # 台州市
    assert lf.reports.list(office(lf, "331000"))["total"] == 0
    with pytest.raises(PermissionDenied):
        lf.reports.list(lf.auth.actor_for("zrzy.330702"))
    county = lf.reports.issue(office(lf, WUCHENG), "monthly", None, *NOVEMBER)
    assert county["title"] == "婺城区2026年11月月调度"
    assert {r["id"] for r in lf.reports.list(office(lf))["items"]} == {issued["id"], county["id"]}
    assert [r["id"] for r in lf.reports.list(office(lf, WUCHENG))["items"]] == [county["id"]]


def test_the_api_issues_lists_and_serves_the_files(seeded):
    lf, _ = seeded
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        city = sign_in(client, f"ldxz.{CITY}")
        made = client.post(
            "/api/v1/reports",
            headers=city,
            json={"kind": "monthly", "since": "2026-11-01", "until": "2026-11-30"},
        )
        assert made.status_code == 201, made.text
        report_id = made.json()["id"]
        got = client.get(f"/api/v1/reports/{report_id}", headers=city).json()
        assert got["figures"]["totals"]["on_time_rate"] == 0.7778
        listed = client.get("/api/v1/reports", headers=city, params={"kind": "monthly"}).json()
        assert [r["id"] for r in listed["items"]] == [report_id]
        pdf = client.get(f"/api/v1/reports/{report_id}/pdf", headers=city)
        assert pdf.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''" in pdf.headers["content-disposition"]
        clerk = sign_in(client, "zrzy.330702")
        assert client.get("/api/v1/reports", headers=clerk).status_code == 403
        taizhou = sign_in(client, "ldxz.331000")
        assert client.get(f"/api/v1/reports/{report_id}", headers=taizhou).status_code == 404
