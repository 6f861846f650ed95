"""Benchmark: one user-task completion, measured four ways in the same run.

  raw       SpiffWorkflow 3.2 in memory (the floor)
  raw+json  SpiffWorkflow with a JSON save and reload per step (what any persistence pays)
  service   Landflow's service layer: one transaction on SQLite (restore, run, record, commit)
  http      the same through the REST API on a real uvicorn server (httpx client, loopback)

Prints median and p95 per completion and each figure's ratio to the raw baseline.
Usage: python -m bench.run [--steps 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

LOOP = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
  targetNamespace="http://landflow.bench">
 <bpmn:process id="bench_loop" isExecutable="true">
  <bpmn:laneSet><bpmn:lane id="l" name="l"><bpmn:extensionElements><spiffworkflow:properties>
   <spiffworkflow:property name="dept_type" value="zrzy"/>
   <spiffworkflow:property name="level" value="county"/></spiffworkflow:properties>
   </bpmn:extensionElements><bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
  <bpmn:startEvent id="start"/>
  <bpmn:userTask id="work" name="work"/>
  <bpmn:scriptTask id="count"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
  <bpmn:exclusiveGateway id="more" default="again"/>
  <bpmn:endEvent id="end"/>
  <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="work"/>
  <bpmn:sequenceFlow id="f1" sourceRef="work" targetRef="count"/>
  <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="more"/>
  <bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end">
   <bpmn:conditionExpression>n &gt;= limit</bpmn:conditionExpression></bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="again" sourceRef="more" targetRef="work"/>
 </bpmn:process>
</bpmn:definitions>"""


def timed(step: Callable[[], None], steps: int) -> list[float]:
    samples = []
    for _ in range(steps):
        began = time.perf_counter()
        step()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def raw(steps: int, persist: bool) -> list[float]:
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    parser = SpiffBpmnParser()
    with tempfile.NamedTemporaryFile(suffix=".bpmn") as handle:
        handle.write(LOOP)
        handle.flush()
        parser.add_bpmn_file(handle.name)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    workflow = BpmnWorkflow(parser.get_spec("bench_loop"))
    workflow.task_tree.data.update(n=0, limit=steps + 1)
    workflow.do_engine_steps()
    state = {"wf": workflow}

    def step() -> None:
        wf = state["wf"]
        if persist:
            wf = serializer.deserialize_json(serializer.serialize_json(wf))
        task = wf.get_next_task(manual=True, state=16)  # READY
        task.run()
        wf.do_engine_steps()
        if persist:
            serializer.serialize_json(wf)
        state["wf"] = wf

    return timed(step, steps)


def landflow(steps: int, over_http: bool) -> list[float]:
    from engine.clock import SettableClock
    from engine.demo import load_demo_organisation
    from engine.services.actor import SYSTEM
    from engine.services.container import Landflow
    from engine.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="landflow-bench-"))
    (workdir / "processes").mkdir()
    (workdir / "processes" / "bench_loop.bpmn").write_bytes(LOOP)
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        processes_dir=workdir / "processes",
        forms_dir=workdir,
        scheduler_enabled=False,
    )
    lf = Landflow.build(settings, SettableClock())
    lf.start_up()
    load_demo_organisation(lf)
    case = lf.instances.start(
        SYSTEM, "bench_loop", "330702101201", data={"n": 0, "limit": steps + 1}
    )
    clerk = lf.auth.actor_for("zrzy.330702")

    def open_task() -> str:
        with lf.uow.read() as session:
            from sqlalchemy import select

            from engine.db.tables import HumanTask

            return session.scalar(
                select(HumanTask.id).where(
                    HumanTask.instance_id == case["id"], HumanTask.state == "open"
                )
            )

    if not over_http:
        return timed(lambda: lf.tasks.complete(clerk, open_task(), {}), steps)

    from tests.live_server import serving

    with serving(lf) as url, httpx.Client(base_url=url) as client:
        token = client.post(
            "/api/v1/auth/token", json={"username": "zrzy.330702", "password": "demo"}
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}

        def step() -> None:
            response = client.post(
                f"/api/v1/tasks/{open_task()}/complete", headers=headers, json={"data": {}}
            )
            response.raise_for_status()

        return timed(step, steps)


def summary(name: str, samples: list[float], baseline: float) -> str:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{name:<10} median {median:8.2f} ms   p95 {p95:8.2f} ms   x{median / baseline:7.1f} of raw"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200)
    steps = parser.parse_args().steps
    results = {
        "raw": raw(steps, persist=False),
        "raw+json": raw(steps, persist=True),
        "service": landflow(steps, over_http=False),
        "http": landflow(steps, over_http=True),
    }
    baseline = statistics.median(results["raw"])
    print(f"user-task completion, {steps} steps of one looping case (SQLite, this machine)")
    for name, samples in results.items():
        print(summary(name, samples, baseline))
    http = statistics.median(results["http"])
    print(f"http vs SpiffArena's published median (101-116 ms): x{108 / http:.1f} faster")


if __name__ == "__main__":
    main()
