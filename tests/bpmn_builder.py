"""Small BPMN documents for tests, written as text (the engine reads them like any upload)."""

from __future__ import annotations

from itertools import pairwise
from xml.sax.saxutils import escape

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'id="defs_{pid}" targetNamespace="http://landflow.test">\n'
)


def linear_process(pid: str, *elements: str, messages: str = "") -> bytes:
    """A process `start -> elements... -> end`; each element is XML with id="e<i>"."""
    ids = ["start"] + [f"e{i}" for i in range(len(elements))] + ["end"]
    flows = "\n".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(pairwise(ids))
    )
    body = "\n".join(e.replace("{id}", f"e{i}") for i, e in enumerate(elements))
    return (
        HEADER.format(pid=pid)
        + messages
        + f'<bpmn:process id="{pid}" isExecutable="true">\n<bpmn:startEvent id="start"/>\n'
        + body
        + '\n<bpmn:endEvent id="end"/>\n'
        + flows
        + "\n</bpmn:process>\n</bpmn:definitions>\n"
    ).encode()


def script(code: str) -> str:
    return (
        f'<bpmn:scriptTask id="{{id}}"><bpmn:script>{escape(code)}</bpmn:script></bpmn:scriptTask>'
    )


def user_task(name: str = "") -> str:
    return f'<bpmn:userTask id="{{id}}" name="{escape(name)}"/>'


def timer_catch(kind: str, expression: str) -> str:
    return (
        '<bpmn:intermediateCatchEvent id="{id}"><bpmn:timerEventDefinition>'
        f"<bpmn:{kind}>{escape(expression)}</bpmn:{kind}>"
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )


def gateway_process(pid: str, condition: str) -> bytes:
    """start -> exclusive gateway (condition -> yes task, default -> no task) -> end."""
    return (
        HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        '<bpmn:exclusiveGateway id="gw" default="f_no"/>'
        '<bpmn:userTask id="yes"/><bpmn:userTask id="no"/><bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
        '<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="yes">'
        f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>"
        "</bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="no"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="yes" targetRef="end"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="no" targetRef="end"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


def laned_process(
    pid: str,
    steps: list[tuple[str, dict[str, str], dict[str, str]]],
    multi: dict[str, str] | None = None,
) -> bytes:
    """Sequential user tasks, each in a lane of its own: (task id, lane properties, task
    properties). `multi` = {task id: collection variable} makes that task a parallel
    multi-instance over the collection (item variable `item`)."""
    multi = multi or {}

    def props(values: dict[str, str]) -> str:
        if not values:
            return ""
        inner = "".join(
            f'<spiffworkflow:property name="{k}" value="{escape(v)}"/>' for k, v in values.items()
        )
        return (
            "<bpmn:extensionElements><spiffworkflow:properties>"
            f"{inner}</spiffworkflow:properties></bpmn:extensionElements>"
        )

    lanes = "".join(
        f'<bpmn:lane id="lane_{task}" name="lane {task}">{props(lane)}'
        f"<bpmn:flowNodeRef>{task}</bpmn:flowNodeRef></bpmn:lane>"
        for task, lane, _ in steps
    )
    tasks = []
    for task, _, task_props in steps:
        loop = ""
        if task in multi:
            loop = (
                "<bpmn:multiInstanceLoopCharacteristics>"
                f"<bpmn:loopDataInputRef>{multi[task]}</bpmn:loopDataInputRef>"
                '<bpmn:inputDataItem id="item" name="item"/>'
                "</bpmn:multiInstanceLoopCharacteristics>"
            )
        tasks.append(
            f'<bpmn:userTask id="{task}" name="{task}">{props(task_props)}{loop}</bpmn:userTask>'
        )
    ids = ["start", *[t for t, _, _ in steps], "end"]
    flows = "".join(
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(pairwise(ids))
    )
    return (
        HEADER.format(pid=pid) + f'<bpmn:process id="{pid}" isExecutable="true">'
        f"<bpmn:laneSet>{lanes}</bpmn:laneSet>"
        '<bpmn:startEvent id="start"/>'
        + "".join(tasks)
        + '<bpmn:endEvent id="end"/>'
        + flows
        + "</bpmn:process></bpmn:definitions>"
    ).encode()
