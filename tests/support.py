"""Helpers for tests that drive Landflow through its HTTP API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from engine.db.tables import Instance
from engine.services.container import Landflow


class ApiUser:
    """A signed-in user talking to the app over HTTP."""

    def __init__(self, client: TestClient, username: str, password: str) -> None:
        self.client = client
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, expect: int = 200, **params: Any) -> Any:
        response = self.client.get(path, headers=self.headers, params=params)
        assert response.status_code == expect, response.text
        return response.json()

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.client.post(path, headers=self.headers, json=body)
        assert response.status_code == expect, response.text
        return response.json() if response.content else None

    def open_tasks(self, instance_id: str) -> list[dict[str, Any]]:
        instance = self.get(f"/api/v1/instances/{instance_id}")
        return [t for t in instance["tasks"] if t["state"] == "open"]

    def task(self, instance_id: str, name: str) -> dict[str, Any]:
        found = [t for t in self.open_tasks(instance_id) if t["name"] == name]
        assert len(found) == 1, f"expected one open '{name}', got {self.open_tasks(instance_id)}"
        return found[0]

    def complete(self, task_id: str, data: dict[str, Any], expect: int = 200) -> Any:
        return self.post(f"/api/v1/tasks/{task_id}/complete", {"data": data}, expect=expect)


def assert_state_round_trips(lf: Landflow, instance_id: str) -> None:
    """The stored state restores into a workflow that serializes back to the same state."""
    with lf.uow.read() as session:
        instance = session.get(Instance, instance_id)
        execution = lf.instances.restore(session, instance)
        assert execution.dump() == instance.state_json
        assert execution.status == instance.status
