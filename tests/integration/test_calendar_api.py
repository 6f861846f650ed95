"""Calendar administration and the test clock over HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.services.container import Landflow
from tests.conftest import make_settings
from tests.support import ApiUser


@pytest.fixture
def admin(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        yield ApiUser(client, "admin", "admin-pass")


def upload(user: ApiUser, name: str, text: str, expect: int = 200) -> dict:
    response = user.client.post(
        "/api/v1/calendar/import",
        headers=user.headers,
        files={"file": (name, text.encode(), "text/plain")},
        data={"source": "国务院办公厅关于2027年部分节假日安排的通知"},
    )
    assert response.status_code == expect, response.text
    return response.json()


def test_the_package_years_are_seeded_and_2027_is_not(admin):
    years = [y["year"] for y in admin.get("/api/v1/calendar")["years"]]
    assert years[0] == 2004 and years[-1] == 2026
    assert admin.get("/api/v1/calendar/2027")["covered"] is False
    october = [d for d in admin.get("/api/v1/calendar/2026")["days"] if d["day"] == "2026-10-10"]
    assert october == [{"day": "2026-10-10", "kind": "workday", "name": "National Day"}]


def test_importing_a_notice_as_csv_and_editing_a_day(admin):
    result = upload(
        admin, "2027.csv", "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,workday,春节调休\n"
    )
    assert result["year"] == 2027 and result["days"] == 2
    year = admin.get("/api/v1/calendar/2027")
    assert year["covered"] is True and year["source"].startswith("国务院办公厅")
    response = admin.client.put(
        "/api/v1/calendar/days/2027-05-03",
        headers=admin.headers,
        json={"kind": "holiday", "name": "劳动节"},
    )
    assert response.status_code == 200
    history = admin.get("/api/v1/calendar/history")["items"]
    assert [h["action"] for h in history[:2]] == ["edit", "import"]


def test_bad_notices_are_refused_with_field_errors(admin):
    body = upload(admin, "x.csv", "date,kind,name\n2027-01-01,party,元旦\n", 422)
    assert body["errors"][0]["field"] == "2027-01-01"
    body = upload(admin, "x.csv", "date,kind\n2027-01-01,holiday\n2028-01-01,holiday\n", 422)
    assert "一个年度" in body["errors"][0]["message"]
    upload(admin, "x.json", "{not json", 422)
    upload(admin, "x.txt", "x", 400)


def test_the_clock_endpoint_is_refused_unless_enabled(admin):
    response = admin.client.post(
        "/api/v1/admin/clock", headers=admin.headers, json={"now": "2026-10-16T09:00:00+08:00"}
    )
    assert response.status_code == 403
    assert "LANDFLOW_ALLOW_CLOCK_OVERRIDE" in response.json()["message"]


def test_the_clock_endpoint_moves_the_engine_clock_when_enabled(database_url, clock):
    lf = Landflow.build(make_settings(database_url, allow_clock_override=True), clock)
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        admin = ApiUser(client, "admin", "admin-pass")
        moved = admin.post("/api/v1/admin/clock", {"now": "2026-10-16T09:00:00+08:00"})
        assert moved["now"] == "2026-10-16T01:00:00+00:00"
        assert admin.get("/api/v1/health")["time"] == "2026-10-16T01:00:00+00:00"
        admin.post("/api/v1/admin/clock", {"now": "2026-10-16T09:00:00"}, expect=400)
        clerk = ApiUser(client, "zrzy.330702", "demo")
        clerk.post("/api/v1/admin/clock", {"now": "2026-10-16T09:00:00+08:00"}, expect=403)
    lf.close()


def test_a_year_without_a_notice_shows_the_estimate_the_deadlines_count_on(admin):
    year = admin.get("/api/v1/calendar/2027")
    assert year["covered"] is False and year["days"] == []
    assert {"2027-01-01", "2027-02-08", "2027-10-01"} <= set(year["provisional_holidays"])
    assert all(date.fromisoformat(d).weekday() < 5 for d in year["provisional_holidays"])
    upload(admin, "2027.csv", "date,kind,name\n2027-01-01,holiday,元旦\n")
    year = admin.get("/api/v1/calendar/2027")
    assert year["covered"] is True and "provisional_holidays" not in year
