"""Organisation administration over HTTP: regions, departments, users, CSV import."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from tests.support import ApiUser


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser(client, "admin", "admin-pass")


def upload_csv(user: ApiUser, kind: str, text: str, expect: int = 200) -> dict:
    response = user.client.post(
        f"/api/v1/org/import/{kind}",
        headers=user.headers,
        files={"file": (f"{kind}.csv", text.encode(), "text/csv")},
    )
    assert response.status_code == expect, response.text
    return response.json()


def test_the_demo_tree_and_departments_are_listed(admin):
    regions = admin.get("/api/v1/org/regions", parent="330702")["items"]
    assert [r["name"] for r in regions] == ["白龙桥镇", "汤溪镇"]
    assert regions[0]["path"] == "330000/330700/330702/330702101/"
    departments = admin.get("/api/v1/org/departments", region="330702")["items"]
    assert len(departments) == 13
    zrzy = next(d for d in departments if d["dept_type"] == "zrzy")
    assert zrzy == {
        "code": "zrzy.330702",
        "dept_type": "zrzy",
        "type_name": "自然资源和规划局",
        "region": "330702",
        "name": "婺城区自然资源和规划局",
        "is_active": True,
    }


def test_csv_import_of_regions_departments_and_users(client, admin):
    result = upload_csv(
        admin,
        "regions",
        "code,name,level,parent\n"
        "330702103201,新村,village,330702103\n"
        "330702103,罗埠镇,township,330702\n",
    )
    assert result["regions"] == 2
    upload_csv(
        admin, "departments", "dept_type,region,name\nxz,330702103,\ncwh,330702103201,新村村委会\n"
    )
    upload_csv(
        admin,
        "users",
        "username,display_name,password,department,role\n"
        "luobu,罗埠镇经办,luobu-pass-1,xz.330702103,handler\n"
        "luobu,罗埠镇经办,luobu-pass-1,xz.330702103,approver\n",
    )
    users = {u["username"]: u for u in admin.get("/api/v1/org/users")["items"]}
    assert sorted(users["luobu"]["memberships"], key=lambda m: m["role"], reverse=True) == [
        {"department": "xz.330702103", "role": "handler"},
        {"department": "xz.330702103", "role": "approver"},
    ]
    luobu = ApiUser(client, "luobu", "luobu-pass-1")
    assert luobu.get("/api/v1/me")["username"] == "luobu"
    names = {d["code"]: d["name"] for d in admin.get("/api/v1/org/departments")["items"]}
    assert names["xz.330702103"] == "罗埠镇乡镇人民政府"
    assert names["cwh.330702103201"] == "新村村委会"


def test_bad_rows_are_refused_with_field_errors_and_nothing_is_kept(admin):
    body = upload_csv(
        admin,
        "regions",
        "code,name,level,parent\n330702104,好镇,township,330702\n330702105,坏镇,galaxy,330702\n",
        422,
    )
    assert body["errors"][0]["field"] == "level"
    codes = [r["code"] for r in admin.get("/api/v1/org/regions", parent="330702")["items"]]
    assert "330702104" not in codes
    body = upload_csv(admin, "departments", "dept_type,region\nspace,330702\n", 422)
    assert body["errors"][0]["field"] == "dept_type"
    upload_csv(admin, "planets", "a\n1\n", 400)


def test_creating_users_and_memberships(client, admin):
    admin.post(
        "/api/v1/org/users",
        {"username": "chen", "display_name": "陈", "password": "short"},
        expect=422,
    )
    admin.post(
        "/api/v1/org/users",
        {
            "username": "chen",
            "display_name": "陈",
            "password": "chen-pass-1",
            "memberships": [{"department": "zrzy.330702"}],
        },
        expect=201,
    )
    admin.post(
        "/api/v1/org/users",
        {"username": "chen", "display_name": "陈", "password": "chen-pass-1"},
        expect=409,
    )
    admin.post("/api/v1/org/users/chen/memberships", {"department": "nope.1"}, expect=422)
    admin.post(
        "/api/v1/org/users/chen/memberships",
        {"department": "sthj.330702", "role": "approver"},
        expect=201,
    )
    chen = ApiUser(client, "chen", "chen-pass-1")
    assert chen.get("/api/v1/tasks/counts")["queue"] == 0
