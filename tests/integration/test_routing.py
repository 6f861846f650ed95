"""Routing: each level, explicit routing by data, multi-instance over department types, the
unroutable queue and re-routing once the department exists."""

from __future__ import annotations

from engine.services.actor import SYSTEM
from engine.services.inbox import TaskFilter
from engine.services.organisation import DepartmentSpec
from tests.bpmn_builder import laned_process

VILLAGE = "330702101201"  # 古方村 → 白龙桥镇 330702101 → 婺城区 330702 → 金华市 → 浙江省


def lane(dept_type: str, level: str) -> dict[str, str]:
    return {"dept_type": dept_type, "level": level}


def deploy(lf, pid: str, content: bytes) -> None:
    lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)


def open_tasks(lf, case_id: str) -> list[dict]:
    return [t for t in lf.instances.get(SYSTEM, case_id)["tasks"] if t["state"] == "open"]


def walk(lf, case_id: str) -> list[str]:
    """Complete the open tasks one by one as their department's user; the departments seen."""
    seen = []
    while tasks := open_tasks(lf, case_id):
        task = tasks[0]
        seen.append(task["department"])
        lf.tasks.complete(lf.auth.actor_for(task["department"]), task["id"], {})
    return seen


def test_each_level_routes_to_the_ancestor_of_the_case_region(lf):
    deploy(
        lf,
        "levels",
        laned_process(
            "levels",
            [
                ("p", lane("fgw", "province"), {}),
                ("c", lane("zrzy", "city"), {}),
                ("k", lane("zrzy", "county"), {}),
                ("t", lane("xz", "township"), {}),
                ("v", lane("cwh", "village"), {}),
            ],
        ),
    )
    case = lf.instances.start(SYSTEM, "levels", VILLAGE)
    assert walk(lf, case["id"]) == [
        "fgw.330000",
        "zrzy.330700",
        "zrzy.330702",
        "xz.330702101",
        "cwh.330702101201",
    ]
    assert lf.instances.get(SYSTEM, case["id"])["status"] == "completed"


def test_the_same_diagram_routes_by_the_case_region(lf):
    deploy(lf, "county_only", laned_process("county_only", [("k", lane("zrzy", "county"), {})]))
    wucheng = lf.instances.start(SYSTEM, "county_only", VILLAGE)
    yiwu = lf.instances.start(SYSTEM, "county_only", "330782101201")
    assert open_tasks(lf, wucheng["id"])[0]["department"] == "zrzy.330702"
    assert open_tasks(lf, yiwu["id"])[0]["department"] == "zrzy.330782"


def test_explicit_routing_by_a_variable_and_by_department_codes(lf):
    deploy(
        lf,
        "explicit",
        laned_process(
            "explicit",
            [
                ("lead_picks", lane("zrzy", "county"), {"dept_type_from": "chosen"}),
                ("named", lane("zrzy", "county"), {"department_from": "named_department"}),
            ],
        ),
    )
    case = lf.instances.start(
        SYSTEM, "explicit", VILLAGE, data={"chosen": "sthj", "named_department": "nync.330700"}
    )
    assert walk(lf, case["id"]) == ["sthj.330702", "nync.330700"]


def test_multi_instance_over_department_types_creates_one_task_per_department(lf):
    deploy(
        lf,
        "joint",
        laned_process(
            "joint",
            [("review", lane("zrzy", "county"), {"dept_types_from": "reviewers"})],
            multi={"review": "reviewers"},
        ),
    )
    case = lf.instances.start(SYSTEM, "joint", VILLAGE, data={"reviewers": ["fgw", "sthj", "zj"]})
    departments = sorted(t["department"] for t in open_tasks(lf, case["id"]))
    assert departments == ["fgw.330702", "sthj.330702", "zj.330702"]
    # each department sees only its own copy
    fgw = lf.inbox.list(lf.auth.actor_for("fgw.330702"), TaskFilter(scope="queue"))
    assert [t["department"] for t in fgw["items"]] == ["fgw.330702"]


def test_unroutable_tasks_wait_visibly_and_are_rerouted_when_the_department_exists(lf):
    deploy(lf, "water", laned_process("water", [("w", lane("sl", "township"), {})]))
    case = lf.instances.start(SYSTEM, "water", VILLAGE)
    assert case["status"] == "running"
    [task] = open_tasks(lf, case["id"])
    assert task["department"] is None
    assert "sl" in task["unroutable"] and "330702101" in task["unroutable"]
    for viewer in ("admin", "ldxz.330700", "ldxz.330702"):
        queue = lf.inbox.list(lf.auth.actor_for(viewer), TaskFilter(scope="unroutable"))
        assert [t["id"] for t in queue["items"]] == [task["id"]], viewer
    for outsider in ("ldxz.331000", "zrzy.330702", "xz.330702101"):
        queue = lf.inbox.list(lf.auth.actor_for(outsider), TaskFilter(scope="unroutable"))
        assert queue["total"] == 0, outsider

    created = lf.organisation.create_department(SYSTEM, DepartmentSpec("sl", "330702101"))
    assert created["rerouted_tasks"] == [task["id"]]
    [task] = open_tasks(lf, case["id"])
    assert task["department"] == "sl.330702101" and task["unroutable"] is None
    history = lf.instances.get(SYSTEM, case["id"])["history"]
    assert history[-1]["action"] == "task_rerouted"


def test_a_lane_below_the_case_level_is_unroutable_not_an_error(lf):
    deploy(lf, "too_low", laned_process("too_low", [("v", lane("cwh", "village"), {})]))
    case = lf.instances.start(SYSTEM, "too_low", "330702")
    [task] = open_tasks(lf, case["id"])
    assert task["department"] is None and "村" in task["unroutable"]
    assert case["status"] == "running"
