"""Kill test: real `landflow serve` and `landflow worker` processes on PostgreSQL are SIGKILLed
at random moments while clients complete tasks concurrently over HTTP, and restarted. Nothing is
lost or doubled: every acknowledged completion is in the history exactly once, no task is both
open and completed (checked after every kill), every timer fires exactly once, every case
finishes, and the audit chain verifies (`landflow audit verify`).

The short variant runs in CI; LANDFLOW_LONG_KILL_TEST=1 runs a longer one (more cases, clients
and kills). LANDFLOW_KILL_SEED replays a run's random choices (the seed is in every failure)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select

from engine.db.tables import HistoryEntry, HumanTask, Instance, Job
from engine.services.actor import SYSTEM
from tests.bpmn_builder import HEADER
from tests.live_server import free_port
from tests.processes_support import ROOT, landflow_env, spawn, wait_for

LONG = os.environ.get("LANDFLOW_LONG_KILL_TEST") == "1"
CASES = 60 if LONG else 20
CLIENTS = 6 if LONG else 4
KILL_ROUNDS = 25 if LONG else 4  # each kills the server, the worker or both, then restarts
KILL_EVERY = (0.3, 2.0)  # seconds of work between a restart and the next kill
PROCESS_ID = "kill_me"
STEPS = ("review", "sign")  # two user tasks with a one-second timer between them
DONE_STATES = ("completed", "done")


def kill_process_bpmn() -> bytes:
    lane = (
        "<bpmn:extensionElements><spiffworkflow:properties>"
        '<spiffworkflow:property name="dept_type" value="zrzy"/>'
        '<spiffworkflow:property name="level" value="county"/>'
        "</spiffworkflow:properties></bpmn:extensionElements>"
    )
    return (
        HEADER.format(pid=PROCESS_ID) + f'<bpmn:process id="{PROCESS_ID}" isExecutable="true">'
        f'<bpmn:laneSet><bpmn:lane id="lane_zrzy" name="自然资源">{lane}'
        "<bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>sign</bpmn:flowNodeRef>"
        "</bpmn:lane></bpmn:laneSet>"
        '<bpmn:startEvent id="start"/>'
        '<bpmn:userTask id="review" name="审查"/>'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        '<bpmn:timeDuration>"PT1S"</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
        '<bpmn:userTask id="sign" name="签发"/>'
        '<bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="wait"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="sign"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="sign" targetRef="end"/>'
        "</bpmn:process></bpmn:definitions>"
    ).encode()


class Cluster:
    """One `landflow serve` and one `landflow worker`, killable and restartable."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.kills: Counter[str] = Counter()
        self.up = threading.Event()

    def start_server(self) -> None:
        self.server = spawn(["serve", "--port", str(self.port)], self.env, self.logs / "server.log")

        def healthy() -> bool:
            assert self.server.poll() is None, (self.logs / "server.log").read_text()[-3000:]
            try:
                return httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, seconds=240, every=0.05)  # a loaded CI machine is slow
        self.up.set()

    def start_worker(self) -> None:
        self.worker = spawn(["worker"], self.env, self.logs / "worker.log")

    def kill(self, which: str) -> None:
        victim = self.server if which == "server" else self.worker
        if which == "server":
            self.up.clear()
        if victim is not None and victim.poll() is None:
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
            self.kills[which] += 1

    def stop(self) -> None:
        for process in (self.server, self.worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)


class Clients:
    """Clerks completing the open tasks of their share of the cases, retrying through outages.
    A completion counts as acknowledged only when the server answered 200."""

    def __init__(self, cluster: Cluster, token: str, cases: list[str]) -> None:
        self.cluster = cluster
        self.headers = {"Authorization": f"Bearer {token}"}
        self.cases = cases
        self.acknowledged: list[str] = []
        self.answers: Counter[int | str] = Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.unanswered: dict[str, dict] = {}  # case id: the task whose completion got no answer
        self.resent_after_loss: set[str] = set()
        self.refused_resends = 0

    def run(self, share: list[str]) -> None:
        pending = list(share)
        with httpx.Client(timeout=10) as http:
            while pending and not self.stop.is_set():
                for case_id in list(pending):
                    if self.stop.is_set():
                        return
                    try:
                        if self._step(http, case_id):
                            pending.remove(case_id)
                    except httpx.HTTPError as exc:  # the server was killed under us
                        with self.lock:
                            self.answers[type(exc).__name__] += 1
                        self.cluster.up.wait(timeout=5)
                    except Exception as exc:
                        self.errors.append(f"{case_id}: {exc!r}")
                        return

    def _step(self, http: httpx.Client, case_id: str) -> bool:
        """Complete one open task of the case; True when the case is finished. A completion
        whose answer was lost is first sent again as it was, as an impatient client would."""
        if case_id in self.unanswered:
            task = self.unanswered[case_id]
            self.resent_after_loss.add(task["id"])
            self._complete(http, case_id, task)
        case = http.get(f"{self.cluster.url}/api/v1/instances/{case_id}", headers=self.headers)
        if case.status_code != 200:
            with self.lock:
                self.answers[case.status_code] += 1
            return False
        body = case.json()
        if body["status"] == "completed":
            return True
        for task in [t for t in body["tasks"] if t["state"] == "open"]:
            self._complete(http, case_id, task)
        return False

    def _complete(self, http: httpx.Client, case_id: str, task: dict) -> None:
        self.unanswered[case_id] = task
        done = http.post(
            f"{self.cluster.url}/api/v1/tasks/{task['id']}/complete",
            headers=self.headers,
            json={"data": {f"{task['name']}_by": "alice"}},
        )
        del self.unanswered[case_id]
        with self.lock:
            self.answers[done.status_code] += 1
            if done.status_code == 200:
                self.acknowledged.append(task["id"])
            elif task["id"] in self.resent_after_loss:
                self.refused_resends += 1
        if done.status_code >= 500:
            raise AssertionError(f"server error {done.status_code}: {done.text[:500]}")


def open_and_completed(lf) -> list[str]:
    """Tasks whose completion is in the history while the task is still open."""
    with lf.uow.read() as session:
        completed = select(HistoryEntry.task_id).where(HistoryEntry.action == "task_completed")
        return list(
            session.scalars(
                select(HumanTask.id).where(HumanTask.state == "open", HumanTask.id.in_(completed))
            )
        )


def test_sigkill_of_server_and_worker_loses_and_doubles_nothing(pg_lf, tmp_path):
    lf = pg_lf
    seed = int(os.environ.get("LANDFLOW_KILL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    context = f"(seed {seed}; replay with LANDFLOW_KILL_SEED={seed})"
    lf.definitions.deploy({f"{PROCESS_ID}.bpmn": kill_process_bpmn()}, SYSTEM)
    cases = [
        lf.instances.start(SYSTEM, PROCESS_ID, "330702101201", f"K-{n}")["id"] for n in range(CASES)
    ]
    processes = tmp_path / "processes"
    processes.mkdir()
    env = landflow_env(
        lf.settings.database_url,
        processes_dir=str(processes),
        deploy_on_startup="false",
        scheduler_interval_seconds="0.1",
        job_batch_size="4",
    )
    cluster = Cluster(env, tmp_path)
    cluster.start_server()
    cluster.start_worker()
    token = httpx.post(
        f"{cluster.url}/api/v1/auth/token", json={"username": "alice", "password": "alice-pass"}
    ).json()["access_token"]
    clients = Clients(cluster, token, cases)
    shares = [cases[i::CLIENTS] for i in range(CLIENTS)]
    threads = [threading.Thread(target=clients.run, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    timeline: list[str] = []
    try:
        for _ in range(KILL_ROUNDS):
            if not any(t.is_alive() for t in threads):
                break
            clients.stop.wait(rng.uniform(*KILL_EVERY))  # let completions and timers run
            victims = rng.choice((("server",), ("worker",), ("server", "worker")))
            for victim in victims:
                cluster.kill(victim)
            timeline.append(
                f"{time.monotonic() - began:6.1f}s kill {'+'.join(victims)} "
                f"({len(clients.acknowledged)} acknowledged)"
            )
            doubled = open_and_completed(lf)
            assert doubled == [], f"open and completed after killing {victims}: {doubled} {context}"
            if "worker" in victims:
                cluster.start_worker()
            if "server" in victims:
                cluster.start_server()
            timeline.append(f"{time.monotonic() - began:6.1f}s up again")
        for thread in threads:  # the last restart stays up: every case must now finish
            thread.join(timeout=240)
        assert not any(t.is_alive() for t in threads), f"cases did not finish {context}"
    finally:
        clients.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        cluster.stop()
    assert clients.errors == [], f"{clients.errors} {context}"
    assert cluster.kills["server"] >= 1 and cluster.kills["worker"] >= 1, cluster.kills

    with lf.uow.read() as session:
        statuses = Counter(
            session.scalars(select(Instance.status).where(Instance.id.in_(cases))).all()
        )
        completions = Counter(
            session.scalars(
                select(HistoryEntry.task_id).where(HistoryEntry.action == "task_completed")
            ).all()
        )
        timers = Counter(
            session.scalars(
                select(HistoryEntry.instance_id).where(HistoryEntry.action == "timer_fired")
            ).all()
        )
        tasks = session.execute(select(HumanTask.instance_id, HumanTask.task_spec, HumanTask.state))
        per_step = Counter((row.instance_id, row.task_spec) for row in tasks)
        states = Counter(session.scalars(select(HumanTask.state)).all())
        jobs_left = session.scalar(
            select(func.count()).select_from(Job).where(Job.instance_id.in_(cases))
        )
    assert statuses == {"completed": CASES}, f"{statuses} {context}"
    acknowledged = Counter(clients.acknowledged)
    assert acknowledged, f"nothing was acknowledged {context}"
    assert max(acknowledged.values()) == 1, f"a task acknowledged twice {context}"
    assert all(completions[task] == 1 for task in acknowledged), f"lost or doubled {context}"
    assert len(completions) == CASES * len(STEPS), f"{len(completions)} completions {context}"
    assert set(completions.values()) == {1}, f"a completion recorded twice {context}"
    assert timers == dict.fromkeys(cases, 1), f"timer fired {timers} {context}"
    assert per_step == {(c, s): 1 for c in cases for s in STEPS}, f"duplicate tasks {context}"
    assert set(states) <= set(DONE_STATES), f"task states {states} {context}"
    assert jobs_left == 0, f"{jobs_left} jobs left {context}"
    verified = subprocess.run(
        [sys.executable, "-m", "engine.cli", "audit", "verify"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(
        f"kill test {context}: {CASES} cases, {len(acknowledged)} acknowledged of "
        f"{len(completions)} completions, kills {dict(cluster.kills)}, answers "
        f"{dict(clients.answers)}, {len(clients.resent_after_loss)} completions sent again "
        f"after a lost answer ({clients.refused_resends} refused as already done)\n"
        + "\n".join(timeline)
    )
