"""A multi-instance task with `collect` = `by_item` collects its outputs per loop item: a dict
{department type → that department's output}, in the order of the input list whatever the order
the departments answer in. Wrong use of the property is refused at deploy with its place."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from engine.db.tables import Instance
from engine.errors import DefinitionInvalid
from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER
from tests.support import assert_state_round_trips

REGION = "330702101201"
DEPARTMENTS = ["zrzy", "fgw", "cz"]


def diagram(
    pid: str,
    collect: str | None = "by_item",
    output_item: str | None = "opinion",
    sequential: bool = False,
    loop: str | None = None,
) -> bytes:
    """start → 联审 (multi-instance over `reviewers`, output `opinions`) → 汇总 (again?) → end.
    `loop` replaces the loop characteristics; `again` true at the end sends the case back."""
    props = '<spiffworkflow:property name="dept_types_from" value="reviewers"/>'
    if collect is not None:
        props += f'<spiffworkflow:property name="collect" value="{escape(collect)}"/>'
    if loop is None:
        item = f'<bpmn:outputDataItem id="{output_item}" name="{output_item}"/>'
        loop = (
            f'<bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">'
            "<bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef>"
            "<bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>"
            '<bpmn:inputDataItem id="reviewer" name="reviewer"/>'
            + (item if output_item else "")
            + "</bpmn:multiInstanceLoopCharacteristics>"
        )
    return (
        HEADER.format(pid=pid)
        + f'<bpmn:process id="{pid}" isExecutable="true">'
        + '<bpmn:laneSet><bpmn:lane id="lane" name="联审"><bpmn:extensionElements>'
        + '<spiffworkflow:properties><spiffworkflow:property name="dept_type" value="zrzy"/>'
        + '<spiffworkflow:property name="level" value="county"/></spiffworkflow:properties>'
        + "</bpmn:extensionElements><bpmn:flowNodeRef>review</bpmn:flowNodeRef>"
        + "<bpmn:flowNodeRef>after</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
        + '<bpmn:startEvent id="start"/>'
        + '<bpmn:userTask id="review" name="联审">'
        + f"<bpmn:extensionElements><spiffworkflow:properties>{props}"
        + f"</spiffworkflow:properties></bpmn:extensionElements>{loop}</bpmn:userTask>"
        + '<bpmn:userTask id="after" name="汇总"/>'
        + '<bpmn:exclusiveGateway id="again" default="f_done"/>'
        + '<bpmn:endEvent id="end"/>'
        + '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="review"/>'
        + '<bpmn:sequenceFlow id="f_review" sourceRef="review" targetRef="after"/>'
        + '<bpmn:sequenceFlow id="f_after" sourceRef="after" targetRef="again"/>'
        + '<bpmn:sequenceFlow id="f_again" sourceRef="again" targetRef="review">'
        + "<bpmn:conditionExpression>again == True</bpmn:conditionExpression>"
        + "</bpmn:sequenceFlow>"
        + '<bpmn:sequenceFlow id="f_done" sourceRef="again" targetRef="end"/>'
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


class Case:
    def __init__(self, lf, content: bytes, pid: str, **data) -> None:
        self.lf = lf
        lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)
        self.view = lf.instances.start(SYSTEM, pid, REGION, data={"again": False, **data})
        self.id = self.view["id"]
        assert_state_round_trips(lf, self.id)

    def refresh(self) -> dict:
        self.view = self.lf.instances.get(SYSTEM, self.id)
        return self.view

    def engine_data(self) -> dict:
        """The case data as the engine holds it (the case view's copy on PostgreSQL is a JSONB
        document, which does not keep the order of keys)."""
        with self.lf.uow.read() as session:
            return self.lf.instances.restore(session, session.get(Instance, self.id)).data()

    def open_tasks(self) -> list[dict]:
        return [t for t in self.refresh()["tasks"] if t["state"] == "open"]

    def review_departments(self) -> list[str]:
        return sorted(t["department"] for t in self.open_tasks() if t["name"] == "review")

    def answer(self, dept_type: str, **data) -> None:
        """The department `dept_type` completes its own copy of 联审."""
        department = f"{dept_type}.330702"
        [task] = [t for t in self.open_tasks() if t["department"] == department]
        self.lf.tasks.complete(self.lf.auth.actor_for(department), task["id"], data)
        assert_state_round_trips(self.lf, self.id)

    def finish_round(self, **data) -> None:
        [task] = [t for t in self.open_tasks() if t["name"] == "after"]
        self.lf.tasks.complete(self.lf.auth.actor_for("zrzy.330702"), task["id"], data)
        assert_state_round_trips(self.lf, self.id)


def opinion(conclusion: str, comments: str = "") -> dict:
    return {"opinion": {"conclusion": conclusion, "comments": comments}}


def test_outputs_are_keyed_by_department_in_input_order_whatever_the_answer_order(lf):
    case = Case(lf, diagram("keyed"), "keyed", reviewers=DEPARTMENTS)
    assert case.review_departments() == ["cz.330702", "fgw.330702", "zrzy.330702"]
    case.answer("cz", **opinion("有修改意见", "补充资金平衡测算"))
    assert case.refresh()["data"]["opinions"] == {
        "cz": {"conclusion": "有修改意见", "comments": "补充资金平衡测算"}
    }
    case.answer("zrzy", **opinion("无修改意见"))
    case.answer("fgw", **opinion("有修改意见", "明确产业类型"))
    data = case.refresh()["data"]
    assert [t["name"] for t in case.open_tasks()] == ["after"]
    assert data["opinions"] == {
        "zrzy": {"conclusion": "无修改意见", "comments": ""},
        "fgw": {"conclusion": "有修改意见", "comments": "明确产业类型"},
        "cz": {"conclusion": "有修改意见", "comments": "补充资金平衡测算"},
    }
    assert list(case.engine_data()["opinions"]) == DEPARTMENTS
    assert "opinion" not in data and "reviewer" not in data
    case.finish_round()
    assert case.refresh()["status"] == "completed"
    assert list(case.engine_data()["opinions"]) == DEPARTMENTS


def test_without_an_output_item_each_value_is_what_the_department_submitted(lf):
    content = diagram("submitted", output_item=None)
    case = Case(lf, content, "submitted", reviewers=DEPARTMENTS, stage="联审中", note="")
    case.answer("fgw", decision="同意", doc_no="婺发改〔2026〕12号", note="已备案")
    case.answer("cz", decision="不同意", opinion="资金来源不明", stage="联审中")
    case.answer("zrzy", decision="同意", doc_no="婺自然资规〔2026〕3号")
    data = case.refresh()["data"]
    # unchanged case data (stage) and the loop variables are not part of a department's output
    assert data["opinions"] == {
        "zrzy": {"decision": "同意", "doc_no": "婺自然资规〔2026〕3号"},
        "fgw": {"decision": "同意", "doc_no": "婺发改〔2026〕12号", "note": "已备案"},
        "cz": {"decision": "不同意", "opinion": "资金来源不明"},
    }
    assert list(case.engine_data()["opinions"]) == DEPARTMENTS
    # what a department submitted stays in its entry and does not leak into the case data
    assert (data["note"], data["stage"]) == ("", "联审中")
    assert "decision" not in data


def test_a_sequential_multi_instance_collects_the_same_way(lf):
    case = Case(lf, diagram("one_by_one", sequential=True), "one_by_one", reviewers=DEPARTMENTS)
    for dept_type in DEPARTMENTS:
        assert case.review_departments() == [f"{dept_type}.330702"]
        case.answer(dept_type, **opinion("无修改意见", dept_type))
    opinions = case.refresh()["data"]["opinions"]
    assert opinions == {d: {"conclusion": "无修改意见", "comments": d} for d in DEPARTMENTS}


def test_each_run_of_the_task_starts_a_new_collection(lf):
    case = Case(lf, diagram("rounds"), "rounds", reviewers=DEPARTMENTS)
    for dept_type in DEPARTMENTS:
        case.answer(dept_type, **opinion("有修改意见", f"第一轮{dept_type}"))
    case.finish_round(again=True, reviewers=["fgw"])
    assert case.review_departments() == ["fgw.330702"]
    assert case.refresh()["data"]["opinions"] == {}
    case.answer("fgw", **opinion("无修改意见", "第二轮"))
    data = case.refresh()["data"]
    assert data["opinions"] == {"fgw": {"conclusion": "无修改意见", "comments": "第二轮"}}


@pytest.mark.parametrize(
    ("reviewers", "message"),
    [
        (["zrzy", "fgw", "zrzy"], "循环集合“reviewers”中“zrzy”重复出现"),
        (["zrzy", 3], "按项汇总的循环集合“reviewers”只能包含文字"),
        ({"zrzy": "自然资源"}, "按项汇总的循环集合“reviewers”必须是列表"),
    ],
)
def test_a_loop_input_that_cannot_key_the_collection_fails_the_step_until_corrected(
    lf, reviewers, message
):
    case = Case(lf, diagram("bad_items"), "bad_items", reviewers=reviewers)
    view = case.refresh()
    assert view["status"] == "error"
    assert case.open_tasks() == []
    [incident] = view["incidents"]
    assert incident["element_id"] == "review"
    assert message in incident["message"]
    admin = lf.auth.actor_for("admin")
    lf.incidents.retry(admin, incident["id"], {"reviewers": ["zrzy", "fgw"]})
    assert_state_round_trips(lf, case.id)
    assert case.refresh()["status"] == "running"
    assert case.review_departments() == ["fgw.330702", "zrzy.330702"]
    case.answer("fgw", **opinion("无修改意见"))
    case.answer("zrzy", **opinion("无修改意见"))
    assert list(case.engine_data()["opinions"]) == ["zrzy", "fgw"]


def test_an_instance_without_its_output_item_fails_the_task_once_all_have_answered(lf):
    case = Case(lf, diagram("no_output"), "no_output", reviewers=["zrzy", "fgw", "cz"])
    case.answer("fgw", conclusion="无修改意见")  # not inside `opinion`
    assert case.refresh()["status"] == "running"  # the others can still answer
    case.answer("zrzy", **opinion("无修改意见"))
    case.answer("cz", **opinion("有修改意见", "补充测算"))
    view = case.refresh()
    assert view["status"] == "error"
    assert [t["name"] for t in case.open_tasks()] == []
    [incident] = view["incidents"]
    assert incident["element_id"] == "review"
    assert "“fgw”未给出输出“opinion”" in incident["message"]
    corrected = {
        "zrzy": {"conclusion": "无修改意见"},
        "fgw": {"conclusion": "无修改意见"},
        "cz": {"conclusion": "有修改意见", "comments": "补充测算"},
    }
    admin = lf.auth.actor_for("admin")
    assert lf.incidents.retry(admin, incident["id"])["incident"]["status"] == "open"
    lf.incidents.retry(admin, incident["id"], {"opinions": corrected})
    assert_state_round_trips(lf, case.id)
    assert [t["name"] for t in case.open_tasks()] == ["after"]
    assert case.refresh()["data"]["opinions"] == corrected


CARDINALITY = (
    "<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>3</bpmn:loopCardinality>"
    "<bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>"
    "</bpmn:multiInstanceLoopCharacteristics>"
)
NO_OUTPUT = (
    "<bpmn:multiInstanceLoopCharacteristics>"
    "<bpmn:loopDataInputRef>reviewers</bpmn:loopDataInputRef>"
    '<bpmn:inputDataItem id="reviewer" name="reviewer"/>'
    "</bpmn:multiInstanceLoopCharacteristics>"
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (diagram("bad", collect="per_department"), "collect: unknown value 'per_department'"),
        (diagram("bad", loop=""), "collect: 'userTask' is not a multi-instance task"),
        (diagram("bad", loop=CARDINALITY), "needs a loop input (loopDataInputRef)"),
        (diagram("bad", loop=NO_OUTPUT), "needs an output (loopDataOutputRef)"),
    ],
)
def test_misused_collect_is_refused_at_deploy_with_its_place(lf, content, message):
    with pytest.raises(DefinitionInvalid) as refused:
        lf.definitions.deploy({"bad.bpmn": content}, SYSTEM)
    [problem] = refused.value.problems
    assert message in problem.message
    assert (problem.file, problem.element_id) == ("bad.bpmn", "review")
    assert problem.line == line_of(content, 'id="review"')


def line_of(content: bytes, text: str) -> int:
    return next(n for n, line in enumerate(content.decode().splitlines(), 1) if text in line)


def test_without_collect_the_engine_keeps_spiffworkflows_list(lf):
    case = Case(lf, diagram("plain", collect=None), "plain", reviewers=["zrzy", "fgw"])
    case.answer("fgw", **opinion("有修改意见", "产业"))
    case.answer("zrzy", **opinion("无修改意见"))
    assert case.refresh()["data"]["opinions"] == [
        {"conclusion": "有修改意见", "comments": "产业"},
        {"conclusion": "无修改意见", "comments": ""},
    ]
