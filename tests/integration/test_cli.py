"""The `landflow` command line, run as a real process against an SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import FIXTURES, ROOT_DIR
from tests.processes_support import landflow_env


def run(env: dict[str, str], *args: str, expect: int = 0) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        env=env,
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == expect, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_deploy_start_list_and_complete_from_the_command_line(tmp_path):
    env = landflow_env(
        f"sqlite:///{tmp_path / 'cli.db'}",
        processes_dir=str(tmp_path),
        forms_dir=str(FIXTURES / "forms"),
    )
    assert "newest schema" in run(env, "db", "upgrade")
    sample = FIXTURES / "processes"
    deployed = _json_tail(
        run(
            env,
            "deploy",
            str(sample / "sample_payment.bpmn"),
            str(sample / "sample_review.bpmn"),
            str(sample / "sample_fee.dmn"),
        )
    )
    assert {v["process_id"] for v in deployed["created"]} == {"sample_review", "sample_payment"}
    run(env, "demo")
    case = _json_tail(
        run(
            env,
            "start",
            "sample_review",
            "--region",
            "330702101201",
            "--business-key",
            "CLI-1",
            "--user",
            "applicant.330702101201",
        )
    )
    assert case["status"] == "running" and case["started_by"] == "applicant.330702101201"
    listing = run(env, "tasks", "--user", "applicant.330702101201", "--scope", "queue")
    task_id = listing.split()[0]
    assert "提交申请" in listing and "(1 task(s))" in listing
    done = _json_tail(
        run(
            env,
            "complete",
            task_id,
            "--user",
            "applicant.330702101201",
            "--data",
            json.dumps({"parcel_area": 12, "use": "商业", "reviewers": ["fgw"]}),
        )
    )
    assert done["task"]["state"] == "done"
    refused = run(env, "complete", task_id, "--user", "applicant.330702101201", expect=2)
    assert "error:" in refused
    assert '"ran": 0' in run(env, "worker", "--once")


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path):
    env = landflow_env(f"sqlite:///{tmp_path / 'cli.db'}", processes_dir=str(tmp_path))
    out = run(env, "deploy", str(FIXTURES / "processes" / "invalid" / "broken_flow.bpmn"), expect=2)
    assert "flow_to_nowhere" in out and "Traceback" not in out
    out = run(env, "start", "nope", "--region", "330702101201", "--user", "nobody", expect=2)
    assert "error:" in out and "Traceback" not in out


def _json_tail(output: str) -> dict:
    """The JSON object a command printed after its log lines."""
    start = output.index("{\n")
    return json.loads(output[start : output.rindex("}") + 1])
