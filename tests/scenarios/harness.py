"""Scenario harness: walk a process through the service layer, task by task, as the right users.

`complete(name, data, by="zrzy@county")` checks that the task is routed to the department of
that type at that level above the case's region (e.g. `zrzy.330702` for a 婺城区 village), then
completes it as that department's demo user (usernames are department codes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.db.tables import ProcessVersion, Region
from engine.services.actor import SYSTEM
from engine.services.attachment_samples import attach_samples
from engine.services.container import Landflow
from tests.support import assert_state_round_trips


class Scenario:
    def __init__(
        self,
        lf: Landflow,
        process_id: str,
        region: str,
        business_key: str | None = None,
        data: dict[str, Any] | None = None,
        by: str = "admin",
    ) -> None:
        self.lf = lf
        self.case = lf.instances.start(self.actor(by), process_id, region, business_key, data or {})
        self.id = self.case["id"]
        self.round_trip()

    # ---- who -------------------------------------------------------------------------------
    def actor(self, username: str):
        return self.lf.auth.actor_for(username)

    def routing_of(self, task: dict[str, Any]) -> tuple[str | None, str | None]:
        with self.lf.uow.read() as session:
            version = session.scalar(
                select(ProcessVersion).where(
                    ProcessVersion.process_id == self.case["process_id"],
                    ProcessVersion.version == self.case["version"],
                )
            )
            lanes = version.metadata_json["lanes"].get(task["process_id"], {})
        props = lanes.get(task["lane"] or "", {}).get("properties", {})
        return props.get("dept_type"), props.get("level")

    def department_for(self, dept_type: str, level: str) -> str:
        """The department code a task for dept_type@level of this case must be routed to."""
        with self.lf.uow.read() as session:
            path = session.get(Region, self.case["region"]).path
            codes = path.strip("/").split("/")
            levels = dict(
                session.execute(
                    select(Region.code, Region.level).where(Region.code.in_(codes))
                ).all()
            )
        region = next(code for code in codes if levels[code] == level)
        return f"{dept_type}.{region}"

    def expected_department(self, task: dict[str, Any]) -> str:
        """The department a task must be routed to: its lane's type at the lane's level, or,
        for a multi-instance task looping over department types, its loop item's type."""
        dept_type, level = self.routing_of(task)
        if task["properties"].get("dept_types_from"):
            dept_type = task["properties"].get("item")
        assert dept_type and level, f"'{task['name']}' has no department type or level"
        return self.department_for(dept_type, level)

    def expect_routed(self, task: dict[str, Any]) -> None:
        expected = self.expected_department(task)
        assert task["department"] == expected, (
            f"'{task['name']}' went to {task['department'] or 'nobody'} "
            f"({task['unroutable'] or 'routed'}), expected {expected}"
        )

    # ---- reading ---------------------------------------------------------------------------
    def refresh(self) -> dict[str, Any]:
        self.case = self.lf.instances.get(SYSTEM, self.id)
        return self.case

    @property
    def status(self) -> str:
        return self.refresh()["status"]

    @property
    def data(self) -> dict[str, Any]:
        return self.refresh()["data"]

    def open_tasks(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            t
            for t in self.refresh()["tasks"]
            if t["state"] == "open" and (name is None or t["name"] == name)
        ]

    def open_names(self) -> list[str]:
        return sorted(t["name"] for t in self.open_tasks())

    def task(self, name: str) -> dict[str, Any]:
        found = self.open_tasks(name)
        assert len(found) == 1, f"expected one open '{name}', open: {self.open_names()}"
        return found[0]

    # ---- acting ----------------------------------------------------------------------------
    def complete(
        self, name: str, data: dict[str, Any], by: str, task: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        task = task or self.task(name)
        dept_type, level = by.split("@")
        expected = self.department_for(dept_type, level)
        assert task["department"] == expected, (
            f"'{name}' went to {task['department'] or 'nobody'} "
            f"({task['unroutable'] or 'routed'}), expected {expected}"
        )
        actor = self.actor(expected)
        attach_samples(self.lf.attachments, actor, task["id"])  # the step's required materials
        result = self.lf.tasks.complete(actor, task["id"], data)
        self.round_trip()
        return result

    def complete_each(
        self, name: str, data_by_item: dict[str, dict[str, Any]], by_level: str
    ) -> None:
        """Complete every open instance of a multi-instance task whose item is a dept type."""
        for task in self.open_tasks(name):
            item = task["properties"].get("item")
            self.complete(name, data_by_item[item], by=f"{item}@{by_level}", task=task)

    def message(self, name: str, payload: Any = None) -> dict[str, Any]:
        result = self.lf.messages.correlate(SYSTEM, name, instance_id=self.id, payload=payload)
        self.round_trip()
        return result

    def advance(self, **delta: float) -> int:
        self.lf.clock.advance(timedelta(**delta))
        ran = self.lf.jobs.run_due()
        self.round_trip()
        return ran

    def round_trip(self) -> None:
        assert_state_round_trips(self.lf, self.id)

    def history_actions(self) -> list[str]:
        return [h["action"] for h in self.refresh()["history"]]
