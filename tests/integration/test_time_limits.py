"""Time limits as data (processes/time_limits.csv → time_limit_rules): every step of the shipped
processes gets a committed clock, committed ≤ statutory, the most specific region wins, admins
change the rules over HTTP, and the law's refusals (行政许可法 §32 late 补正, §42 extensions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select

from engine.api.app import create_app
from engine.db.tables import HistoryEntry, HumanTask, LegalAcceptance, Region, SlaClock
from engine.domain.sla import exceeds, parse_limit
from engine.domain.time_limits import LimitRule
from engine.errors import Conflict, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.sla_clocks import of_task
from engine.services.time_limits import FROM_FILE
from tests.bpmn_builder import laned_process
from tests.conftest import VILLAGE
from tests.sign_in import page_sign_in
from tests.support import ApiUser

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MONDAY_NOV_2 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 Beijing
RULES_FILE = Path(__file__).resolve().parents[2] / "processes" / "time_limits.csv"


def deployed_user_tasks(lf) -> dict[tuple[str, str], dict[str, str]]:
    """(process id, task id) → diagram properties, for every user task of every deployed
    process, read from the deployed BPMN files."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for file_name in {v["file_name"] for v in lf.definitions.list_versions()}:
        root = etree.fromstring(lf.definitions.file_content(file_name).encode())
        for process in root.iter(f"{{{BPMN}}}process"):
            for task in process.iter(f"{{{BPMN}}}userTask", f"{{{BPMN}}}manualTask"):
                path = f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties/{{{SPIFF}}}property"
                props = {p.get("name"): p.get("value") for p in task.iterfind(path)}
                found[(process.get("id"), task.get("id"))] = props
    return found


class _RolledBack(Exception):
    pass


def test_every_user_task_of_every_shipped_process_gets_a_committed_clock(product_lf, clock):
    lf = product_lf
    clock.set(MONDAY_NOV_2)
    tasks = deployed_user_tasks(lf)
    assert {p for p, _ in tasks} >= {
        "joint_review_entry",
        "collective_decision",
        "pilot_plan_approval",
        "consolidation_project",
        "homestead_withdrawal",
    }
    demo = json.loads((RULES_FILE.parent / "demo" / "collective_decision.json").read_text("utf-8"))
    case = lf.instances.start(SYSTEM, "collective_decision", VILLAGE, None, demo["start_data"])
    started: dict[tuple[str, str], dict[str, dict]] = {}
    with pytest.raises(_RolledBack), lf.uow.write() as session:
        path = session.get(Region, VILLAGE).path
        for n, ((process_id, spec), props) in enumerate(sorted(tasks.items())):
            row = HumanTask(
                id=f"probe-{n}",
                instance_id=case["id"],
                process_id=process_id,
                task_spec=spec,
                title=spec,
                state="open",
                properties=props,
                region=VILLAGE,
                region_path=path,
                department="zrzy.330702",
                created_at=clock.now(),
            )
            session.add(row)
            session.flush()
            lf.sla.start_task_clocks(session, row, clock.now())  # the recorder's hook
            started[(process_id, spec)] = {c.kind: _plain(c) for c in of_task(session, row.id)}
        raise _RolledBack  # nothing of the probe is kept

    missing = sorted(key for key, clocks in started.items() if "committed" not in clocks)
    assert missing == []
    for key, clocks in started.items():
        committed = clocks["committed"]
        assert committed["basis"] and committed["due_at"] is not None, key
        if "statutory" in clocks:
            statutory = clocks["statutory"]
            assert committed["due_at"] <= statutory["due_at"], key
            assert not exceeds(committed["limit"], statutory["limit"]), key
    law = {
        ("joint_review_entry", "joint_review"): "5wd",  # 土地管理法实施条例 §40
        ("joint_review_entry", "register"): "30wd",  # 不动产登记暂行条例 §20
        ("joint_review_entry", "permit_land_use"): "20wd",  # 行政许可法 §42
        ("homestead_withdrawal", "accept_reclamation"): "60wd",  # 土地复垦条例 §29
        ("homestead_withdrawal", "cancel_registration"): "30wd",
        ("consolidation_project", "assess_plan"): "20d",  # 浙江省土地整治条例 §15
        ("consolidation_project", "government_decision"): "20d",  # §17
    }
    for key, limit in law.items():
        assert started[key]["statutory"]["limit"] == parse_limit(limit), key
    assert started[("joint_review_entry", "permit_land_use")]["statutory"]["max_extension"] == 10
    assert started[("joint_review_entry", "joint_review")]["statutory"]["max_extension"] == 0
    with lf.uow.read() as session:
        assert not session.scalars(select(HumanTask).where(HumanTask.id.like("probe-%"))).all()


def test_the_shipped_file_has_one_row_per_user_task(product_lf):
    lines = RULES_FILE.read_text(encoding="utf-8").splitlines()[1:]
    keys = [tuple(line.split(",")[:2]) for line in lines]
    assert sorted(keys) == sorted(deployed_user_tasks(product_lf))
    rules = product_lf.sla.time_limits.list(SYSTEM)
    assert {r["updated_by"] for r in rules} == {FROM_FILE}
    assert sum(r["kind"] == "committed" for r in rules) == len(keys)


def _plain(clock: SlaClock) -> dict:
    return {
        "limit": parse_limit(f"{clock.limit_days}{clock.unit}"),
        "due_at": clock.due_at,
        "basis": clock.basis,
        "max_extension": clock.max_extension,
    }


def deploy_review(lf, pid: str, **props: str) -> None:
    lf.definitions.deploy(
        {
            f"{pid}.bpmn": laned_process(
                pid, [("review", {"dept_type": "zrzy", "level": "county"}, props)]
            )
        },
        SYSTEM,
    )


def rule(kind: str, limit: str, region: str = "", task: str = "review", **more) -> LimitRule:
    return LimitRule("limits", task, region, kind, limit, **more)


def clocks_of(lf, case: dict) -> dict[str, dict]:
    task = next(t for t in case["tasks"] if t["state"] == "open")
    return {c["kind"]: c for c in lf.sla.task_clocks(SYSTEM, task["id"])["clocks"]}


def test_the_most_specific_region_rule_wins_over_the_default_and_the_diagram(lf, clock):
    clock.set(MONDAY_NOV_2)
    deploy_review(lf, "limits", sla_committed="7wd", sla_statutory="20wd")
    assert clocks_of(lf, lf.instances.start(SYSTEM, "limits", VILLAGE))["committed"]["limit"] == (
        "7wd"  # no rule yet: the diagram's property
    )
    rules = lf.sla.time_limits
    rules.put(SYSTEM, rule("committed", "5wd", basis="全省承诺"))
    rules.put(SYSTEM, rule("committed", "3wd", region="330702", basis="婺城区承诺"))
    rules.put(SYSTEM, rule("committed", "8wd", region="330782"))  # 义乌市: not this case
    rules.put(SYSTEM, rule("overall", "30wd", task="*", basis="办件总时限"))
    case = lf.instances.start(SYSTEM, "limits", VILLAGE)
    found = clocks_of(lf, case)
    assert found["committed"]["limit"] == "3wd" and found["committed"]["basis"] == "婺城区承诺"
    assert found["statutory"]["limit"] == "20wd"  # no statutory rule: still the diagram's
    elsewhere = clocks_of(lf, lf.instances.start(SYSTEM, "limits", "331003101201"))  # 黄岩区
    assert elsewhere["committed"]["limit"] == "5wd"
    overall = lf.sla.case_time_limits(SYSTEM, case["id"])
    assert [(c["kind"], c["limit"], c["basis"]) for c in overall["clocks"]] == [
        ("overall", "30wd", "办件总时限")
    ]
    assert overall["accepted_by_law"] is None
    # a change affects the clocks started afterwards only
    rules.put(SYSTEM, rule("committed", "4wd", region="3307"))  # 金华市: less specific
    rules.put(SYSTEM, rule("committed", "2wd", region="330702"))
    assert clocks_of(lf, lf.instances.get(SYSTEM, case["id"]))["committed"]["limit"] == "3wd"
    assert clocks_of(lf, lf.instances.start(SYSTEM, "limits", VILLAGE))["committed"]["limit"] == (
        "2wd"
    )


def test_admins_change_the_rules_over_http_and_committed_never_exceeds_statutory(lf):
    deploy_review(lf, "limits")
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        admin = ApiUser(client, "admin", "admin-pass")
        clerk = ApiUser(client, "zrzy.330702", "demo")
        body = {"process_id": "limits", "task_spec": "review", "kind": "statutory"}
        created = client.put(
            "/api/v1/time-limits", headers=admin.headers, json={**body, "limit": "20wd"}
        )
        assert created.status_code == 200, created.text
        assert created.json()["limit_text"] == "20个工作日"
        assert created.json()["updated_by"] == "admin"
        too_long = client.put(
            "/api/v1/time-limits",
            headers=admin.headers,
            json={**body, "kind": "committed", "limit": "25wd", "region_prefix": "330702"},
        )
        assert too_long.status_code == 422
        assert "承诺时限 25wd 超过法定时限 20wd" in too_long.json()["errors"][0]["message"]
        bad = client.put(
            "/api/v1/time-limits",
            headers=admin.headers,
            json={**body, "limit": "5 weeks", "yellow": "soon", "region_prefix": "33x"},
        )
        assert bad.status_code == 422
        fields = {e["field"] for e in bad.json()["errors"]}
        assert fields == {"limit", "yellow", "region_prefix"}
        assert all("应" in e["message"] for e in bad.json()["errors"])
        listed = admin.get("/api/v1/time-limits", process_id="limits")
        assert [(r["kind"], r["limit"]) for r in listed["items"]] == [("statutory", "20wd")]
        assert (
            client.put(
                "/api/v1/time-limits", headers=clerk.headers, json={**body, "limit": "1wd"}
            ).status_code
            == 403
        )
        assert client.get("/api/v1/time-limits", headers=clerk.headers).status_code == 403
        rule_id = created.json()["id"]
        assert client.delete(f"/api/v1/time-limits/{rule_id}", headers=admin.headers).json() == {
            "deleted": rule_id
        }
        gone = client.delete(f"/api/v1/time-limits/{rule_id}", headers=admin.headers)
        assert gone.status_code == 404


def test_seeding_is_idempotent_follows_the_file_and_keeps_admin_changes(lf, tmp_path):
    header = (
        "process_id,task_spec,task_name,region_prefix,committed,statutory,overall,"
        "yellow,max_extension,basis\n"
    )
    path = tmp_path / "time_limits.csv"
    path.write_text(
        header
        + "limits,review,审查,,5wd,20wd,,,,依据一\n"
        + "limits,check,核查,330000,3wd,,,,,浙江\n"
        + "limits,*,,,,,60wd,,,总时限\n",
        encoding="utf-8",
    )
    service = lf.sla.time_limits
    assert service.seed_from_file(path) == {"added": 4, "updated": 0, "kept": 0, "removed": 0}
    assert service.seed_from_file(path) == {"added": 0, "updated": 0, "kept": 0, "removed": 0}
    regions = {r["task_spec"]: r["region_prefix"] for r in service.list(SYSTEM)}
    assert regions["check"] == "33"  # 330000 stands for the province
    service.put(SYSTEM, rule("committed", "4wd", basis="管理员调整"))
    path.write_text(
        header + "limits,review,审查,,6wd,15wd,,,,依据二\n" + "limits,*,,,,,60wd,,,总时限\n",
        encoding="utf-8",
    )
    assert service.seed_from_file(path) == {"added": 0, "updated": 1, "kept": 1, "removed": 1}
    now = {(r["task_spec"], r["kind"]): r for r in service.list(SYSTEM)}
    assert now[("review", "committed")]["limit"] == "4wd"  # the admin's change stays
    assert now[("review", "statutory")]["limit"] == "15wd"  # the file's change applies
    assert ("check", "committed") not in now
    path.write_text(header + "limits,review,审查,,30wd,20wd,,,,x\nlimits,x,,,,,,,,\n", "utf-8")
    with pytest.raises(ValidationFailed) as refused:
        service.seed_from_file(path)
    messages = [e.message for e in refused.value.errors]
    assert any("第 3 行" in m and "没有任何时限" in m for m in messages)
    assert any("承诺时限 30wd 超过法定时限 20wd" in m for m in messages)


# ---- 行政许可法 §32: a 补正 within 5 working days, or the case is accepted by law -------------
def test_a_late_supplement_notice_is_refused_and_the_case_is_accepted_by_law(lf, clock):
    clock.set(MONDAY_NOV_2)
    deploy_review(lf, "apply", sla_statutory="20wd")
    in_time = lf.instances.start(SYSTEM, "apply", VILLAGE)
    late = lf.instances.start(SYSTEM, "apply", VILLAGE)
    clerk = lf.auth.actor_for("zrzy.330702")
    clock.set(datetime(2026, 11, 9, 9, 0, tzinfo=UTC))  # Mon 11-09: the 5th working day
    task = next(t for t in in_time["tasks"] if t["state"] == "open")
    assert lf.sla.suspend(clerk, task["id"], "补正", "缺材料", ["界址图"])["sla_state"] == "paused"

    clock.set(datetime(2026, 11, 10, 1, 0, tzinfo=UTC))  # Tue 11-10: too late
    task = next(t for t in late["tasks"] if t["state"] == "open")
    for _ in range(2):
        with pytest.raises(Conflict, match="行政许可法第三十二条") as refused:
            lf.sla.suspend(clerk, task["id"], "补正", "缺材料", ["界址图"])
    assert "2026-11-09" in refused.value.message and "视为受理" in refused.value.message
    assert lf.sla.task_clocks(SYSTEM, task["id"])["sla_state"] == "normal"  # not suspended
    accepted = lf.sla.case_time_limits(SYSTEM, late["id"])["accepted_by_law"]
    assert accepted["received_on"] == "2026-11-02"
    assert accepted["notice_deadline"] == "2026-11-09"
    assert lf.sla.task_clocks(SYSTEM, task["id"])["accepted_by_law"] == accepted
    history = [h for h in lf.instances.get(SYSTEM, late["id"])["history"]]
    entries = [h for h in history if h["action"] == "accepted_by_law"]
    assert len(entries) == 1 and entries[0]["details"]["basis"] == "行政许可法第三十二条"
    assert "sla_suspended" not in {h["action"] for h in history}
    # other suspensions (e.g. expert review, §45) are not limited by §32
    assert lf.sla.suspend(clerk, task["id"], "专家评审", "组织专家论证")["sla_state"] == "paused"
    with lf.uow.read() as session:
        assert session.get(LegalAcceptance, in_time["id"]) is None


def test_the_refusal_and_acceptance_show_over_http(lf, clock):
    clock.set(MONDAY_NOV_2)
    deploy_review(lf, "apply", sla_statutory="20wd")
    case = lf.instances.start(SYSTEM, "apply", VILLAGE)
    task = next(t for t in case["tasks"] if t["state"] == "open")
    clock.set(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    with TestClient(create_app(lf, start_scheduler=False)) as client:
        clerk = ApiUser(client, "zrzy.330702", "demo")
        refused = client.post(
            f"/api/v1/tasks/{task['id']}/sla/suspend",
            headers=clerk.headers,
            json={"reason_type": "补正", "reason": "缺材料", "missing_items": ["界址图"]},
        )
        assert refused.status_code == 409
        assert refused.json()["accepted_by_law"] is True
        assert "行政许可法第三十二条" in refused.json()["message"]
        shown = clerk.get(f"/api/v1/instances/{case['id']}/sla")["accepted_by_law"]
        assert shown["received_on"] == "2026-11-02"
        client.cookies.clear()
        login = page_sign_in(client, "zrzy.330702", "demo")
        assert login.status_code in (200, 303)
        page = client.get(f"/cases/{case['id']}")
        assert "依法视为受理" in page.text and "2026-11-09" in page.text
        assert "依法视为受理" in client.get(f"/tasks/{task['id']}").text


# ---- 行政许可法 §42: one extension, at most the law's (or the rule's) maximum ------------------
def test_extensions_beyond_the_legal_maximum_are_refused(lf, clock):
    clock.set(MONDAY_NOV_2)
    deploy_review(lf, "permit", sla_statutory="20wd")
    deploy_review(lf, "joint", sla_statutory="45wd")
    lf.organisation.create_user(SYSTEM, "xiao", "小王", "xiao-pass-1", [("zrzy.330702", "handler")])
    clerk, head = lf.auth.actor_for("xiao"), lf.auth.actor_for("zrzy.330702")

    permit = next(t for t in lf.instances.start(SYSTEM, "permit", VILLAGE)["tasks"])
    with pytest.raises(ValidationFailed) as refused:
        lf.sla.request_extension(clerk, permit["id"], 16, "需现场踏勘")
    [error] = refused.value.errors
    assert error.field == "days"
    assert error.message == (
        "法定时限20个工作日最多可延长10个工作日（行政许可法第四十二条），不能延长16个工作日"
    )
    assert lf.sla.task_clocks(SYSTEM, permit["id"])["clocks"][0]["extension_state"] is None
    before = lf.sla.task_clocks(SYSTEM, permit["id"])["clocks"][0]["due_at"]
    lf.sla.request_extension(clerk, permit["id"], 10, "需现场踏勘")
    approved = lf.sla.decide_extension(head, permit["id"], True, "同意")["clocks"][0]
    assert approved["extension_days"] == 10 and approved["max_extension"] == 10
    assert before == "2026-11-30T15:59:59+00:00"  # 20 working days after 11-02
    assert approved["due_at"] == "2026-12-14T15:59:59+00:00"  # + 10 working days
    with pytest.raises(Conflict, match="只能延期一次"):
        lf.sla.request_extension(clerk, permit["id"], 1, "再延")

    joint = next(t for t in lf.instances.start(SYSTEM, "joint", VILLAGE)["tasks"])
    with pytest.raises(ValidationFailed, match="延期超过上限"):
        lf.sla.request_extension(clerk, joint["id"], 16, "联合办理")
    assert (
        lf.sla.request_extension(clerk, joint["id"], 15, "联合办理")["clocks"][0][
            "extension_request"
        ]["days"]
        == 15
    )


def test_a_rule_can_forbid_extensions(lf, clock):
    clock.set(MONDAY_NOV_2)
    deploy_review(lf, "limits")
    lf.sla.time_limits.put(SYSTEM, rule("statutory", "5wd", max_extension=0))
    task = next(t for t in lf.instances.start(SYSTEM, "limits", VILLAGE)["tasks"])
    with pytest.raises(ValidationFailed) as refused:
        lf.sla.request_extension(lf.auth.actor_for("zrzy.330702"), task["id"], 1, "x")
    assert "不得延期" in refused.value.errors[0].message
    with lf.uow.read() as session:
        assert not session.scalars(
            select(HistoryEntry).where(HistoryEntry.action == "sla_extension_requested")
        ).all()
    assert clock.now() - MONDAY_NOV_2 < timedelta(seconds=1)
