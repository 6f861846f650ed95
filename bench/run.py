"""Benchmark: user-task completions, every figure against a baseline measured in the same run.

  step     one completion of a looping case four ways: raw SpiffWorkflow in memory (the floor),
           raw SpiffWorkflow with a JSON save and reload per step (what any persistence pays),
           Landflow's service layer (one transaction: restore, run, record, commit) and the REST
           API on a real uvicorn server in this process; median/p95 and each × raw+json
  growth   the same runs cut at steps 1-10, 91-100 and 191-200: step cost at 100 and 200
           completed steps over step cost at 10
  http     completions/s and p50/p95/p99 latency at concurrency 1, 4 and 16 (one case per
           client) against `landflow serve --workers N` in its own processes, on SQLite or
           PostgreSQL; × the single-client rate of the same run

Usage: python -m bench.run [--steps 200] [--scenario step|http|all] [--postgresql]
                           [--servers 1 2] [--requests 400]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy import create_engine, text

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
CLERK = "zrzy.330702"
VILLAGE = "330702101201"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


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


def build(database_url: str, workdir: Path):
    from engine.clock import SettableClock
    from engine.demo import load_demo_organisation
    from engine.services.container import Landflow
    from engine.settings import Settings

    (workdir / "processes").mkdir(exist_ok=True)
    (workdir / "processes" / "bench_loop.bpmn").write_bytes(LOOP)
    settings = Settings(
        database_url=database_url,
        processes_dir=workdir / "processes",
        forms_dir=workdir,
        scheduler_enabled=False,
    )
    lf = Landflow.build(settings, SettableClock())
    lf.start_up()
    load_demo_organisation(lf)
    return lf


def start_cases(lf, count: int, limit: int) -> list[str]:
    from engine.services.actor import SYSTEM

    return [
        lf.instances.start(SYSTEM, "bench_loop", VILLAGE, data={"n": 0, "limit": limit})["id"]
        for _ in range(count)
    ]


class OpenTask:
    """The open task of a case, read straight from the database (not part of any timing)."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)

    def __call__(self, case_id: str) -> str:
        with self.engine.connect() as conn:
            return conn.execute(
                text("SELECT id FROM tasks WHERE instance_id = :c AND state = 'open'"),
                {"c": case_id},
            ).scalar_one()


def landflow(steps: int, over_http: bool) -> list[float]:
    workdir = Path(tempfile.mkdtemp(prefix="landflow-bench-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    lf = build(url, workdir)
    [case] = start_cases(lf, 1, steps + 1)
    clerk = lf.auth.actor_for(CLERK)
    open_task = OpenTask(url)
    try:
        if not over_http:
            return timed(lambda: lf.tasks.complete(clerk, open_task(case), {}), steps)

        from tests.live_server import serving

        with serving(lf) as base, httpx.Client(base_url=base) as client:
            headers = sign_in(client)

            def step() -> None:
                client.post(
                    f"/api/v1/tasks/{open_task(case)}/complete", headers=headers, json={"data": {}}
                ).raise_for_status()

            return timed(step, steps)
    finally:
        open_task.engine.dispose()
        lf.close()


def sign_in(client: httpx.Client) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", json={"username": CLERK, "password": "demo"})
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * p) - 1))]


def summary(name: str, samples: list[float], baseline: float) -> str:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    return (
        f"{name:<10} median {median:8.2f} ms   p95 {percentile(ordered, 0.95):8.2f} ms"
        f"   x{median / baseline:7.1f} of raw+json"
    )


def step_scenario(steps: int) -> dict[str, list[float]]:
    results = {
        "raw": raw(steps, persist=False),
        "raw+json": raw(steps, persist=True),
        "service": landflow(steps, over_http=False),
        "http": landflow(steps, over_http=True),
    }
    baseline = statistics.median(results["raw+json"])
    print(f"\n== step: one user-task completion, {steps} steps of one looping case (SQLite)")
    for name, samples in results.items():
        print(summary(name, samples, baseline))
    raw_floor = statistics.median(results["raw"])
    print(f"raw in memory: {raw_floor:.2f} ms (raw+json is x{baseline / raw_floor:.1f} of it)")
    print(f"\n== growth: step cost at N completed steps / at 10 (same runs, {steps} steps)")
    for name in ("raw+json", "service", "http"):
        samples = results[name]
        at10 = statistics.median(samples[:10])
        cells = [f"at 10 {at10:6.2f} ms"]
        for n in (100, 200):
            if len(samples) >= n:
                cost = statistics.median(samples[n - 10 : n])
                cells.append(f"at {n} {cost:6.2f} ms x{cost / at10:4.2f}")
        print(f"{name:<10} " + "   ".join(cells))
    return results


# ---- HTTP throughput against real server processes -------------------------------------
def prepare_database(postgresql: bool, workdir: Path, cases: int, limit: int) -> tuple[str, list]:
    if postgresql:
        name = f"landflow_bench_{int(time.time())}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite:///{workdir / 'http.db'}"
    lf = build(url, workdir)
    ids = start_cases(lf, cases, limit)
    lf.close()
    return url, ids


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def load(base: str, cases: list[str], requests: int, open_task: OpenTask) -> dict[str, float]:
    """Each client completes the steps of its own case; returns throughput and latencies."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    per_client = max(1, requests // len(cases))

    def client_loop(case: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            headers = sign_in(client)
            for _ in range(per_client):
                task = open_task(case)
                began = time.perf_counter()
                response = client.post(
                    f"/api/v1/tasks/{task}/complete", headers=headers, json={"data": {}}
                )
                took = (time.perf_counter() - began) * 1000
                with lock:
                    if response.status_code == 200:
                        latencies.append(took)
                    else:
                        errors[0] += 1

    threads = [threading.Thread(target=client_loop, args=(c,)) for c in cases]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies) or [0.0]
    return {
        "rate": len(latencies) / wall,
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "p99": percentile(ordered, 0.99),
        "errors": errors[0],
    }


def http_scenario(postgresql: bool, servers: list[int], requests: int) -> None:
    from tests.processes_support import landflow_env, spawn

    label = "PostgreSQL" if postgresql else "SQLite"
    concurrencies = (1, 4, 16)
    print(f"\n== http: completions over HTTP, {label}, `landflow serve --workers N`")
    for workers in servers:
        workdir = Path(tempfile.mkdtemp(prefix="landflow-bench-http-"))
        url, cases = prepare_database(postgresql, workdir, sum(concurrencies), 100_000)
        env = landflow_env(url, scheduler_enabled="false", processes_dir=str(workdir / "processes"))
        from tests.live_server import free_port

        port = free_port()
        log = workdir / "serve.log"
        server = spawn(["serve", "--port", str(port), "--workers", str(workers)], env, log)
        base = f"http://127.0.0.1:{port}"
        open_task = OpenTask(url)
        try:
            wait_healthy(base, server, log)
            rows, taken, single = [], 0, None
            for concurrency in concurrencies:
                mine = cases[taken : taken + concurrency]
                taken += concurrency
                figures = load(base, mine, requests, open_task)
                single = single or figures["rate"]
                rows.append((concurrency, figures))
            for concurrency, f in rows:
                print(
                    f"workers {workers}  concurrency {concurrency:>2}  {f['rate']:7.1f}/s "
                    f"(x{f['rate'] / single:4.2f} of concurrency 1)  p50 {f['p50']:7.1f} ms  "
                    f"p95 {f['p95']:7.1f} ms  p99 {f['p99']:7.1f} ms  errors {f['errors']}"
                )
        finally:
            open_task.engine.dispose()
            server.terminate()
            server.wait(timeout=30)
            drop_database(url)


def wait_healthy(base: str, server, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    raise RuntimeError(f"the server did not start:\n{log.read_text()[-3000:]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--scenario", choices=["step", "http", "all"], default="all")
    parser.add_argument("--postgresql", action="store_true", help="http on PostgreSQL")
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--requests", type=int, default=400, help="per concurrency level")
    args = parser.parse_args(argv)
    if args.scenario in ("step", "all"):
        step_scenario(args.steps)
    if args.scenario in ("http", "all"):
        http_scenario(args.postgresql, args.servers, args.requests)


if __name__ == "__main__":
    main()
