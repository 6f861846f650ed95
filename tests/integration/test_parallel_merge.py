"""Parallel and inclusive joins keep every branch's writes: the data after the join is the data
at the split plus each branch's changes. Different values for one variable are a failed step
(an incident) unless the join declares a merge rule; never a silent overwrite."""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from engine.errors import DefinitionInvalid
from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER
from tests.support import assert_state_round_trips

REGION = "330702101201"
CLERK = "zrzy.330702"  # the lane below routes every task to 婺城区自然资源和规划局


def diagram(
    pid: str,
    join_rules: dict[str, str] | None = None,
    kind: str = "parallelGateway",
    loop_while: str | None = None,
) -> bytes:
    """start → split → 出具规划条件 (a) ∥ 提出产业准入要求 (b) → join → 汇总 (after) → end.
    `kind` is the gateway type of split and join (an inclusive split takes a branch when
    `take_a` / `take_b` is true); `loop_while` sends the case from 汇总 back to the split."""
    conditions = {"a": "take_a", "b": "take_b"} if kind == "inclusiveGateway" else {}

    def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
        body = (
            f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>"
            if condition
            else ""
        )
        ends = f'id="{fid}" sourceRef="{source}" targetRef="{target}"'
        return f"<bpmn:sequenceFlow {ends}>{body}</bpmn:sequenceFlow>"

    rules = ""
    if join_rules:
        rules = (
            "<bpmn:extensionElements><spiffworkflow:properties>"
            + "".join(
                f'<spiffworkflow:property name="{k}" value="{v}"/>' for k, v in join_rules.items()
            )
            + "</spiffworkflow:properties></bpmn:extensionElements>"
        )
    tasks = {"a": "出具规划条件", "b": "提出产业准入要求", "after": "汇总"}
    refs = "".join(f"<bpmn:flowNodeRef>{t}</bpmn:flowNodeRef>" for t in tasks)
    flows = [
        flow("f_start", "start", "split"),
        flow("f_a", "split", "a", conditions.get("a")),
        flow("f_b", "split", "b", conditions.get("b")),
        flow("f_a_join", "a", "join"),
        flow("f_b_join", "b", "join"),
        flow("f_join", "join", "after"),
    ]
    again = ""
    if loop_while:
        again = '<bpmn:exclusiveGateway id="again" default="f_done"/>'
        flows += [
            flow("f_after", "after", "again"),
            flow("f_again", "again", "split", loop_while),
            flow("f_done", "again", "end"),
        ]
    else:
        flows.append(flow("f_after", "after", "end"))
    return (
        HEADER.format(pid=pid)
        + f'<bpmn:process id="{pid}" isExecutable="true">'
        + '<bpmn:laneSet><bpmn:lane id="lane" name="审查"><bpmn:extensionElements>'
        + '<spiffworkflow:properties><spiffworkflow:property name="dept_type" value="zrzy"/>'
        + '<spiffworkflow:property name="level" value="county"/></spiffworkflow:properties>'
        + f"</bpmn:extensionElements>{refs}</bpmn:lane></bpmn:laneSet>"
        + '<bpmn:startEvent id="start"/>'
        + f'<bpmn:{kind} id="split"/>'
        + "".join(f'<bpmn:userTask id="{t}" name="{n}"/>' for t, n in tasks.items())
        + f'<bpmn:{kind} id="join" name="汇聚">{rules}</bpmn:{kind}>'
        + again
        + '<bpmn:endEvent id="end"/>'
        + "".join(flows)
        + "</bpmn:process></bpmn:definitions>"
    ).encode()


class Case:
    def __init__(self, lf, content: bytes, pid: str, **data) -> None:
        self.lf = lf
        lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)
        self.view = lf.instances.start(SYSTEM, pid, REGION, data=data)
        self.id = self.view["id"]
        assert_state_round_trips(lf, self.id)

    def refresh(self) -> dict:
        self.view = self.lf.instances.get(SYSTEM, self.id)
        return self.view

    def open_names(self) -> list[str]:
        return sorted(t["name"] for t in self.refresh()["tasks"] if t["state"] == "open")

    def complete(self, name: str, **data) -> None:
        [task] = [t for t in self.refresh()["tasks"] if t["state"] == "open" and t["name"] == name]
        self.lf.tasks.complete(self.lf.auth.actor_for(CLERK), task["id"], data)
        assert_state_round_trips(self.lf, self.id)


def test_each_branch_keeps_its_writes_even_when_the_other_arrives_later_with_old_data(lf):
    case = Case(lf, diagram("conditions"), "conditions", stage="待出具条件", reviewed_by=[])
    case.complete("a", stage="规划条件已出具", plot_ratio_max=2.0)
    assert case.open_names() == ["b"]
    # b still carries stage="待出具条件" from the split; it must not undo a's change
    case.complete("b", industry="智能装备制造")
    assert case.open_names() == ["after"]
    data = case.refresh()["data"]
    assert data["stage"] == "规划条件已出具"
    assert data["plot_ratio_max"] == 2.0 and data["industry"] == "智能装备制造"
    assert data["reviewed_by"] == []


def test_the_same_value_from_both_branches_is_no_conflict(lf):
    case = Case(lf, diagram("agree"), "agree", opinion="")
    case.complete("a", opinion="同意")
    case.complete("b", opinion="同意", b_done=True)
    assert case.open_names() == ["after"]
    assert case.refresh()["data"]["opinion"] == "同意"


def test_different_values_without_a_rule_fail_the_join_and_a_retry_decides(lf):
    case = Case(lf, diagram("disagree"), "disagree", opinion="")
    case.complete("a", opinion="同意", a_done=True)
    case.complete("b", opinion="不同意", b_done=True)
    view = case.refresh()
    assert view["status"] == "error"
    assert case.open_names() == []  # nothing after the join ran on either value
    [incident] = view["incidents"]
    assert incident["kind"] == "merge" and incident["element_id"] == "join"
    assert (
        "并行分支对变量 opinion 写入了不同的值（分支 出具规划条件、分支 提出产业准入要求），"
        "请在汇聚网关声明合并规则" in incident["message"]
    )
    # retrying as it is fails again; retrying with the variable decided goes on with it
    admin = lf.auth.actor_for("admin")
    assert lf.incidents.retry(admin, incident["id"])["incident"]["status"] == "open"
    lf.incidents.retry(admin, incident["id"], {"opinion": "不同意", "remark": "经协调"})
    assert_state_round_trips(lf, case.id)
    assert case.open_names() == ["after"]
    data = case.refresh()["data"]
    assert (data["opinion"], data["remark"]) == ("不同意", "经协调")
    assert data["a_done"] is True and data["b_done"] is True


def test_a_list_rule_collects_both_values_in_arrival_order(lf):
    case = Case(lf, diagram("opinions", {"merge:opinion": "list"}), "opinions")
    case.complete("b", opinion={"dept": "fgw", "conclusion": "同意"})
    case.complete("a", opinion={"dept": "zrzy", "conclusion": "有修改意见"})
    assert case.open_names() == ["after"]
    assert case.refresh()["data"]["opinion"] == [
        {"dept": "fgw", "conclusion": "同意"},
        {"dept": "zrzy", "conclusion": "有修改意见"},
    ]


def test_sum_and_last_rules(lf):
    rules = {"merge": "last", "merge:reply_count": "sum"}
    case = Case(lf, diagram("counted", rules), "counted", reply_count=1, note="")
    case.complete("a", reply_count=2, note="规划意见")
    case.complete("b", reply_count=2, note="产业意见")
    data = case.refresh()["data"]
    assert data["reply_count"] == 3  # 1 at the split, +1 in each branch
    assert data["note"] == "产业意见"  # the branch that arrived last


def test_an_inclusive_join_merges_the_branches_taken(lf):
    content = diagram("inclusive", kind="inclusiveGateway")
    both = Case(lf, content, "inclusive", take_a=True, take_b=True, stage="待定")
    both.complete("a", stage="规划条件已出具")
    assert both.open_names() == ["b"]
    both.complete("b", industry="智能装备制造")
    data = both.refresh()["data"]
    assert (data["stage"], data["industry"]) == ("规划条件已出具", "智能装备制造")
    only_b = Case(lf, content, "inclusive", take_a=False, take_b=True, stage="待定")
    assert only_b.open_names() == ["b"]
    only_b.complete("b", stage="仅产业")
    assert only_b.open_names() == ["after"]
    assert only_b.refresh()["data"]["stage"] == "仅产业"


@pytest.mark.parametrize("kind", ["parallelGateway", "inclusiveGateway"])
def test_in_a_loop_the_join_waits_for_this_rounds_branches(lf, kind):
    content = diagram(f"loop_{kind}", kind=kind, loop_while="rounds < 2")
    case = Case(lf, content, f"loop_{kind}", rounds=1, take_a=True, take_b=True)
    case.complete("a", a_note="第一轮规划")
    case.complete("b", b_note="第一轮产业")
    case.complete("after")  # rounds < 2: once more
    assert case.open_names() == ["a", "b"]
    case.complete("b", b_note="第二轮产业")
    assert case.open_names() == ["a"]  # the first round's arrival of a does not count again
    case.complete("a", a_note="第二轮规划", rounds=2)
    assert case.open_names() == ["after"]
    data = case.refresh()["data"]
    assert (data["a_note"], data["b_note"], data["rounds"]) == ("第二轮规划", "第二轮产业", 2)
    case.complete("after")
    assert case.refresh()["status"] == "completed"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"merge": "sum"}, "merge: unknown rule 'sum'"),
        ({"merge:opinion": "append"}, "merge:opinion: unknown rule 'append'"),
        ({"merge:bad-name": "list"}, "'bad-name' is not a variable name"),
    ],
)
def test_unknown_merge_rules_are_refused_at_deploy_with_their_place(lf, rules, message):
    content = diagram("bad_rules", rules)
    with pytest.raises(DefinitionInvalid) as refused:
        lf.definitions.deploy({"bad_rules.bpmn": content}, SYSTEM)
    [problem] = refused.value.problems
    assert message in problem.message
    assert problem.element_id == "join"
    assert problem.line == line_of(content, 'id="join"')


def line_of(content: bytes, text: str) -> int:
    return next(n for n, line in enumerate(content.decode().splitlines(), 1) if text in line)


def test_merge_rules_only_on_a_joining_gateway(lf):
    on_split = diagram("on_split").replace(
        b'<bpmn:parallelGateway id="split"/>',
        b'<bpmn:parallelGateway id="split"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="merge" value="last"/></spiffworkflow:properties>'
        b"</bpmn:extensionElements></bpmn:parallelGateway>",
    )
    on_task = diagram("on_task").replace(
        b'<bpmn:userTask id="after" name="\xe6\xb1\x87\xe6\x80\xbb"/>',
        b'<bpmn:userTask id="after"><bpmn:extensionElements><spiffworkflow:properties>'
        b'<spiffworkflow:property name="merge:x" value="list"/></spiffworkflow:properties>'
        b"</bpmn:extensionElements></bpmn:userTask>",
    )
    for pid, content, element, message in (
        ("on_split", on_split, "split", "two or more incoming flows"),
        ("on_task", on_task, "after", "parallel or inclusive gateway"),
    ):
        with pytest.raises(DefinitionInvalid) as refused:
            lf.definitions.deploy({f"{pid}.bpmn": content}, SYSTEM)
        [problem] = refused.value.problems
        assert problem.element_id == element and message in problem.message
