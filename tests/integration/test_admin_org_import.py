"""CSV import with a preview, on SQLite and PostgreSQL: the plan row by row, nothing written
by the preview, application in slices skipping refused rows, and the all-or-nothing import of
the original route."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from engine.errors import PermissionDenied, ValidationFailed
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process
from tests.support import ApiUser

USERS = (
    "username,display_name,password,department,role\n"
    "wang.luobu,王经办,luobu-pass-1,zrzy.330702,handler\n"
    "wang.luobu,王经办,luobu-pass-1,sthj.330702,approver\n"
    "zrzy.330702,婺城区资规局（新名）,,zrzy.330702,handler\n"
    "zrzy.330702,婺城区资规局（新名）,,fgw.330702,supervisor\n"
    "sthj.330702,婺城区生态环境局,,sthj.330702,handler\n"
    "short,短密码,abc,zrzy.330702,handler\n"
    "bad dept,坏部门,long-enough-1,zrzy.330702,handler\n"
    "zhao,赵,zhao-pass-1,nope.1,handler\n"
    "zhao,赵,zhao-pass-1,zrzy.330702,boss\n"
)


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser(client, "admin", "admin-pass")


def test_the_preview_lists_each_rows_outcome_and_writes_nothing(lf, admin):
    plan = admin.post("/api/v1/org/import/users/preview", {"csv": USERS})
    assert plan["counts"] == {"add": 2, "change": 2, "same": 1, "refused": 4}
    rows = {r["line"]: r for r in plan["rows"]}
    assert rows[2]["action"] == "add" and rows[2]["changes"] == [
        "新建用户",
        "加入 婺城区自然资源和规划局（经办）",
    ]
    assert rows[3]["action"] == "add" and rows[3]["changes"] == ["加入 婺城区生态环境局（负责人）"]
    assert rows[4]["action"] == "change"
    assert rows[4]["changes"] == ["姓名：婺城区自然资源和规划局 → 婺城区资规局（新名）"]
    assert rows[5]["changes"] == ["加入 婺城区发展和改革委员会（督办）"]
    assert rows[6] == {
        "line": 6,
        "key": "sthj.330702",
        "label": "婺城区生态环境局",
        "action": "same",
        "changes": [],
        "problems": [],
    }
    assert rows[7]["problems"] == [{"field": "password", "message": "密码至少 10 位"}]
    assert rows[8]["problems"][0]["field"] == "username"
    assert rows[9]["problems"] == [{"field": "department", "message": "部门不存在：nope.1"}]
    assert rows[10]["problems"][0]["field"] == "role"
    assert [u["username"] for u in admin.get("/api/v1/org/users", q="wang")["items"]] == []
    clerk_refused = ApiUser(admin.client, "zrzy.330702", "demo")
    clerk_refused.post("/api/v1/org/import/users/preview", {"csv": USERS}, expect=403)


def test_applying_in_slices_skips_refused_rows(lf, client, admin):
    first = admin.post("/api/v1/org/import/users/apply", {"csv": USERS, "start": 0, "count": 4})
    assert (first["start"], first["next"], first["total"]) == (0, 4, 9)
    assert first["applied"] == 4 and first["refused"] == []
    rest = admin.post("/api/v1/org/import/users/apply", {"csv": USERS, "start": 4, "count": 50})
    assert rest["next"] is None and rest["unchanged"] == 1
    assert [r["line"] for r in rest["refused"]] == [7, 8, 9, 10]

    wang = ApiUser(client, "wang.luobu", "luobu-pass-1")
    assert wang.get("/api/v1/me")["display_name"] == "王经办"
    users = {u["username"]: u for u in admin.get("/api/v1/org/users")["items"]}
    assert {(m["department"], m["role"]) for m in users["wang.luobu"]["memberships"]} == {
        ("zrzy.330702", "handler"),
        ("sthj.330702", "approver"),
    }
    zrzy = users["zrzy.330702"]
    assert zrzy["display_name"] == "婺城区资规局（新名）"
    assert ("fgw.330702", "supervisor") in {
        (m["department"], m["role"]) for m in zrzy["memberships"]
    }
    assert ApiUser(client, "zrzy.330702", "demo")  # an empty password cell keeps the password
    assert "short" not in users and "zhao" not in users
    again = admin.post("/api/v1/org/import/users/preview", {"csv": USERS})
    assert again["counts"]["add"] == 0 and again["counts"]["refused"] == 4


def test_an_import_keeps_the_admin_flag_and_reactivates(lf, admin):
    lf.organisation.deactivate_user(SYSTEM, "fgw.330702")
    text = "username,display_name,password\nadmin,管理员,\nfgw.330702,婺城区发改委,\n"
    plan = lf.organisation.preview(SYSTEM, "users", text)
    assert plan["rows"][1]["changes"] == ["姓名：婺城区发展和改革委员会 → 婺城区发改委", "重新启用"]
    lf.organisation.apply_import(SYSTEM, "users", text)
    assert lf.auth.actor_for("admin").is_admin
    assert lf.auth.actor_for("fgw.330702").display_name == "婺城区发改委"


def test_regions_are_planned_parents_first_and_a_moved_parent_is_refused(lf):
    text = (
        "code,name,level,parent\n"
        "330702103201,新村,village,330702103\n"
        "330702103,罗埠镇,township,330702\n"
        "330702109201,孤村,village,330702109\n"
        "330702101,白龙桥镇,township,330782\n"
        "330702103,罗埠镇重复,township,330702\n"
    )
    plan = lf.organisation.preview(SYSTEM, "regions", text)
    rows = {r["line"]: r for r in plan["rows"]}
    assert rows[2]["action"] == "add"  # its parent comes later in the file
    assert rows[4]["problems"] == [{"field": "parent", "message": "上级区划不存在：330702109"}]
    assert rows[5]["problems"] == [{"field": "parent", "message": "已有下级区划的区划不能改变上级"}]
    assert rows[6]["problems"][0]["message"] == "文件中重复的区划代码：330702103"
    done = lf.organisation.apply_import(SYSTEM, "regions", text, start=0, count=1)
    assert done["next"] == 1 and done["applied"] == 1  # the township, parents first
    assert [r["code"] for r in lf.organisation.regions(SYSTEM, "330702103")] == []
    lf.organisation.apply_import(SYSTEM, "regions", text, start=1)
    assert [r["code"] for r in lf.organisation.regions(SYSTEM, "330702103")] == ["330702103201"]
    assert lf.organisation.regions(SYSTEM, "330702")[0]["parent"] == "330702"


def test_a_new_department_takes_over_waiting_tasks_as_previewed(lf):
    lane = {"dept_type": "sl", "level": "township"}
    lf.definitions.deploy({"w.bpmn": laned_process("w", [("check", lane, {})])}, SYSTEM)
    lf.instances.start(SYSTEM, "w", "330702101201")
    text = "dept_type,region,name\nsl,330702101,\nspace,330702,\nxz,330702101,\n"
    plan = lf.organisation.preview(SYSTEM, "departments", text)
    rows = {r["line"]: r for r in plan["rows"]}
    assert rows[2]["label"] == "白龙桥镇水利局"
    assert rows[2]["changes"] == ["接手 1 个等待派发的环节"]
    assert rows[3]["problems"] == [{"field": "dept_type", "message": "未知部门类型：space"}]
    assert rows[4]["action"] == "same"
    done = lf.organisation.apply_import(SYSTEM, "departments", text)
    assert done["rerouted_tasks"] == 1 and done["applied"] == 1


def test_the_original_import_stays_all_or_nothing(lf, admin):
    with pytest.raises(ValidationFailed) as refused:
        lf.organisation.import_csv(SYSTEM, "users", USERS)
    assert refused.value.errors[0].message == "第 7 行：密码至少 10 位"
    assert "wang.luobu" not in {u["username"] for u in lf.organisation.users(SYSTEM)}
    with pytest.raises(ValidationFailed) as empty:
        lf.organisation.preview(SYSTEM, "users", "username,display_name\n")
    assert empty.value.message == "CSV 没有数据行"
    with pytest.raises(ValidationFailed):
        lf.organisation.preview(SYSTEM, "regions", "code,name\n1,x\n")
    with pytest.raises(PermissionDenied):
        lf.organisation.preview(lf.auth.actor_for("zrzy.330702"), "users", USERS)
    admin.post("/api/v1/org/import/planets/preview", {"csv": "a\n1\n"}, expect=400)
