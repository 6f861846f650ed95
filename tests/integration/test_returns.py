"""Return (退回) is an engine action: only to the earlier steps the diagram allows, recorded
with who, why and where to, reopening the target with what was submitted there before."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, ValidationFailed
from engine.services.actor import SYSTEM
from tests.bpmn_builder import laned_process
from tests.support import assert_state_round_trips

VILLAGE = "330702101201"


def lane(dept_type: str) -> dict[str, str]:
    return {"dept_type": dept_type, "level": "county"}


@pytest.fixture
def case_id(lf):
    lf.definitions.deploy(
        {
            "ret.bpmn": laned_process(
                "ret",
                [
                    ("draft", lane("zrzy"), {}),
                    ("review", lane("fgw"), {"return_to": "draft"}),
                    ("sign", lane("cz"), {"return_to": "draft, review"}),
                    ("late", lane("zrzy"), {"return_to": "final"}),
                    ("final", lane("zrzy"), {}),
                ],
            )
        },
        SYSTEM,
    )
    return lf.instances.start(lf.auth.actor_for("alice"), "ret", VILLAGE)["id"]


def view(lf, case_id):
    assert_state_round_trips(lf, case_id)
    return lf.instances.get(SYSTEM, case_id)


def only_open(lf, case_id):
    [task] = [t for t in view(lf, case_id)["tasks"] if t["state"] == "open"]
    return task


def test_return_reopens_the_target_with_its_earlier_data_and_records_why(lf, case_id):
    alice, bob = lf.auth.actor_for("alice"), lf.auth.actor_for("bob")
    draft = only_open(lf, case_id)
    assert draft["return_targets"] == []
    lf.tasks.complete(alice, draft["id"], {"area": 12.5})
    review = only_open(lf, case_id)
    assert review["return_targets"] == [{"id": "draft", "name": "draft"}]

    result = lf.tasks.return_task(bob, review["id"], "  面积与测绘成果不一致  ")
    reopened = result["reopened"]
    assert result["task"]["state"] == "returned"
    assert reopened["name"] == "draft" and reopened["id"] != draft["id"]
    assert reopened["department"] == "zrzy.330702"
    assert reopened["draft"] == {"area": 12.5}  # what was submitted there before
    assert reopened["assignee"] == "alice"  # back to whoever handled it
    assert reopened["returned"]["reason"] == "面积与测绘成果不一致"
    assert reopened["returned"]["from_task"] == "review" and reopened["returned"]["by"] == "bob"
    assert only_open(lf, case_id)["id"] == reopened["id"]
    entry = [h for h in view(lf, case_id)["history"] if h["action"] == "task_returned"][-1]
    assert entry["actor"] == "bob" and entry["task_id"] == review["id"]
    assert entry["details"]["to"] == "draft" and entry["details"]["reason"].startswith("面积")

    # the case runs on from the reopened step with the corrected data
    lf.tasks.complete(alice, reopened["id"], {"area": 12.0})
    review_again = only_open(lf, case_id)
    assert review_again["name"] == "review" and review_again["id"] != review["id"]
    lf.tasks.complete(bob, review_again["id"], {"opinion": "同意"})
    sign = only_open(lf, case_id)
    assert [t["id"] for t in sign["return_targets"]] == ["draft", "review"]
    with pytest.raises(ValidationFailed) as unchosen:
        lf.tasks.return_task(bob, sign["id"], "需要复核")  # two targets: say which
    assert unchosen.value.errors[0].field == "target"
    lf.tasks.return_task(bob, sign["id"], "需要复核", target="review")
    review_third = only_open(lf, case_id)
    assert review_third["name"] == "review" and review_third["draft"] == {"opinion": "同意"}
    lf.tasks.complete(bob, review_third["id"], {"opinion": "同意"})
    lf.tasks.complete(bob, only_open(lf, case_id)["id"], {})
    late = only_open(lf, case_id)
    assert late["name"] == "late" and late["return_targets"] == []  # "final" is not passed yet
    with pytest.raises(Conflict):
        lf.tasks.return_task(alice, late["id"], "退回")
    lf.tasks.complete(alice, late["id"], {})
    lf.tasks.complete(alice, only_open(lf, case_id)["id"], {})
    done = view(lf, case_id)
    assert done["status"] == "completed" and done["data"]["area"] == 12.0


def test_return_is_refused_without_a_reason_or_to_a_step_not_allowed(lf, case_id):
    alice = lf.auth.actor_for("alice")
    lf.tasks.complete(alice, only_open(lf, case_id)["id"], {"area": 1})
    review = only_open(lf, case_id)
    with pytest.raises(ValidationFailed):
        lf.tasks.return_task(alice, review["id"], "   ")
    with pytest.raises(ValidationFailed) as refused:
        lf.tasks.return_task(alice, review["id"], "退回", target="sign")
    assert refused.value.errors[0].field == "target"
    assert only_open(lf, case_id)["id"] == review["id"]  # nothing changed


def test_a_stale_return_is_a_conflict(lf, case_id):
    alice = lf.auth.actor_for("alice")
    lf.tasks.complete(alice, only_open(lf, case_id)["id"], {"area": 1})
    review = only_open(lf, case_id)
    lf.tasks.return_task(alice, review["id"], "退回一次")
    with pytest.raises(Conflict):
        lf.tasks.return_task(alice, review["id"], "再次退回")
    with pytest.raises(Conflict):
        lf.tasks.complete(alice, review["id"], {})


def test_a_return_target_that_is_no_user_task_is_a_located_deploy_error(lf):
    from engine.errors import DefinitionInvalid

    lane_props = {"dept_type": "zrzy", "level": "county"}
    with pytest.raises(DefinitionInvalid) as refused:
        lf.definitions.deploy(
            {
                "bad_ret.bpmn": laned_process(
                    "bad_ret",
                    [("a", lane_props, {}), ("b", lane_props, {"return_to": "a, ghost"})],
                )
            },
            SYSTEM,
        )
    [problem] = refused.value.problems
    assert problem.element_id == "b" and "ghost" in problem.message and problem.line


def _called_process() -> bytes:
    from tests.bpmn_builder import HEADER

    props = (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        '<spiffworkflow:property name="return_to" value="{target}"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )
    return (
        HEADER.format(pid="outer")
        + '<bpmn:process id="outer" isExecutable="true"><bpmn:startEvent id="os"/>'
        '<bpmn:userTask id="prepare" name="准备"/>'
        '<bpmn:callActivity id="call" name="民主决策" calledElement="inner"/>'
        '<bpmn:userTask id="after" name="后续"/><bpmn:endEvent id="oe"/>'
        '<bpmn:sequenceFlow id="o1" sourceRef="os" targetRef="prepare"/>'
        '<bpmn:sequenceFlow id="o2" sourceRef="prepare" targetRef="call"/>'
        '<bpmn:sequenceFlow id="o3" sourceRef="call" targetRef="after"/>'
        '<bpmn:sequenceFlow id="o4" sourceRef="after" targetRef="oe"/></bpmn:process>'
        '<bpmn:process id="inner" isExecutable="true"><bpmn:startEvent id="is"/>'
        '<bpmn:userTask id="propose" name="提议"/>'
        f'<bpmn:userTask id="consult" name="商议">{props.format(target="propose")}</bpmn:userTask>'
        f'<bpmn:userTask id="review" name="审议">{props.format(target="propose")}</bpmn:userTask>'
        '<bpmn:endEvent id="ie"/>'
        '<bpmn:sequenceFlow id="i1" sourceRef="is" targetRef="propose"/>'
        '<bpmn:sequenceFlow id="i2" sourceRef="propose" targetRef="consult"/>'
        '<bpmn:sequenceFlow id="i3" sourceRef="consult" targetRef="review"/>'
        '<bpmn:sequenceFlow id="i4" sourceRef="review" targetRef="ie"/></bpmn:process>'
        "</bpmn:definitions>"
    ).encode()


def test_return_two_steps_back_inside_a_called_process_restores_cleanly(lf):
    lf.definitions.deploy({"outer.bpmn": _called_process()}, SYSTEM)
    admin = lf.auth.actor_for("admin")
    case_id = lf.instances.start(admin, "outer", VILLAGE)["id"]
    for name in ("prepare", "propose", "consult"):
        task = only_open(lf, case_id)
        assert task["name"] == name
        lf.tasks.complete(admin, task["id"], {name: True})
    review = only_open(lf, case_id)
    assert review["return_targets"] == [{"id": "propose", "name": "提议"}]
    lf.tasks.return_task(admin, review["id"], "表决材料缺页")
    propose = only_open(lf, case_id)  # view() round-trips the stored state
    assert propose["name"] == "propose" and propose["draft"] == {"propose": True}
    for name in ("propose", "consult", "review", "after"):
        task = only_open(lf, case_id)
        assert task["name"] == name
        lf.tasks.complete(admin, task["id"], {})
    assert view(lf, case_id)["status"] == "completed"
