"""`landflow backup` / `restore` for the SQLite database (online backup API), and `landflow audit
verify`, as real processes; PostgreSQL is pointed to pg_dump."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, update

from engine.db.audit_tables import AuditEntry
from engine.db.tables import Instance
from engine.errors import BadRequest
from engine.services import backup as backups
from engine.services.actor import SYSTEM
from engine.services.container import Landflow
from tests.bpmn_builder import laned_process
from tests.conftest import ROOT_DIR, make_settings
from tests.processes_support import landflow_env

REGION = "330702101201"


def run(url: str, *args: str, expect: int = 0) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        env=landflow_env(url, deploy_on_startup="false"),
        cwd=ROOT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == expect, done.stdout + done.stderr
    return json.loads(done.stdout[done.stdout.index("{") :]) if "{" in done.stdout else {}


def deploy(lf) -> None:
    lf.definitions.deploy(
        {"parcel.bpmn": laned_process("parcel", [("check", {"dept_type": "zrzy"}, {})])}, SYSTEM
    )


def case_keys(url: str) -> set[str]:
    lf = Landflow.build(make_settings(url))
    try:
        with lf.uow.read() as session:
            return set(session.scalars(select(Instance.business_key)))
    finally:
        lf.close()


@pytest.fixture
def sqlite_lf(sqlite_template, tmp_path, clock, wall_clock):
    path = tmp_path / "live" / "landflow.db"
    path.parent.mkdir()
    shutil.copy(sqlite_template, path)
    landflow = Landflow.build(make_settings(f"sqlite:///{path}"), clock, wall_clock)
    landflow.start_up()
    yield landflow
    landflow.close()


def test_postgresql_is_pointed_to_pg_dump(pg_lf, tmp_path):
    with pytest.raises(BadRequest, match="pg_dump"):
        backups.backup(pg_lf.settings.database_url, tmp_path / "x.db")
    with pytest.raises(BadRequest, match="pg_restore"):
        backups.restore(pg_lf.settings.database_url, tmp_path / "x.db")


def test_backup_then_change_then_restore_gives_back_the_backup(sqlite_lf, tmp_path):
    lf = sqlite_lf
    url = lf.settings.database_url
    deploy(lf)
    lf.instances.start(SYSTEM, "parcel", REGION, "KEPT-1")
    copy = tmp_path / "backups" / "landflow-backup.db"
    copy.parent.mkdir()
    made = run(url, "backup", str(copy))
    assert made["audit_head"]["seq"] > 0 and made["schema_revision"]
    lf.instances.start(SYSTEM, "parcel", REGION, "LOST-2")
    assert case_keys(url) == {"KEPT-1", "LOST-2"}
    lf.close()
    restored = run(url, "restore", str(copy))
    assert restored["audit"]["ok"] and restored["audit"]["head"] == made["audit_head"]
    assert Path(restored["previous_kept_at"]).exists()
    assert case_keys(url) == {"KEPT-1"}
    assert case_keys(f"sqlite:///{restored['previous_kept_at']}") == {"KEPT-1", "LOST-2"}
    assert run(url, "audit", "verify")["ok"]


def test_audit_verify_exits_nonzero_and_names_the_broken_entry(lf):
    deploy(lf)
    lf.instances.start(SYSTEM, "parcel", REGION, "A-1")
    url = lf.settings.database_url
    assert run(url, "audit", "verify")["first_broken"] is None
    with lf.uow.engine.begin() as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory"))
    broken = run(url, "audit", "verify", expect=1)
    assert broken["first_broken"]["seq"] == 2 and broken["first_broken"]["problem"] == "content"


def test_a_backup_taken_while_cases_start_is_consistent(sqlite_lf, tmp_path):
    lf = sqlite_lf
    deploy(lf)
    stop = threading.Event()
    started: list[int] = []

    def keep_starting() -> None:
        n = 0
        while not stop.is_set():
            lf.instances.start(SYSTEM, "parcel", REGION, f"BUSY-{n}")
            n += 1
            started.append(n)

    writer = threading.Thread(target=keep_starting)
    writer.start()
    try:
        copies = []
        while len(copies) < 3:
            if len(started) > len(copies) * 3:
                target = tmp_path / f"copy{len(copies)}.db"
                backups.backup(lf.settings.database_url, target)
                copies.append(target)
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        copied = Landflow.build(make_settings(f"sqlite:///{copy}"))
        try:
            outcome = copied.audit.verify(SYSTEM)
            assert outcome["ok"], outcome
            assert outcome["entries"] > 0
        finally:
            copied.close()


def test_restore_refuses_a_file_that_is_not_a_landflow_database(sqlite_lf, tmp_path):
    lf = sqlite_lf
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BadRequest):
        backups.restore(lf.settings.database_url, junk)
    assert lf.audit.verify(SYSTEM)["ok"]
