"""Authentication: every route but health and sign-in needs a user."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from tests.support import ApiUser

PUBLIC = {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/token")}


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


def api_routes(app):
    """Every API operation the app serves, from its OpenAPI document (so a new route is
    covered the moment it exists)."""
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            yield method.upper(), path


def test_every_route_but_health_and_sign_in_requires_a_user(client):
    routes = [r for r in api_routes(client.app) if r not in PUBLIC]
    assert len(routes) >= 12
    for method, path in routes:
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = client.request(method, concrete, headers=headers)
            assert response.status_code == 401, (method, path, response.text)


def test_health_is_public(client):
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok" and body["database"] in {"sqlite", "postgresql"}


def test_wrong_password_and_unknown_user_are_refused_alike(client):
    for username, password in (("alice", "wrong"), ("nobody", "x")):
        response = client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 401
        assert response.json()["message"] == "wrong username or password"


def test_tokens_expire_on_wall_time_and_can_be_revoked(lf, clock, wall_clock, client):
    from datetime import timedelta

    alice = ApiUser(client, "alice", "alice-pass")
    assert alice.get("/api/v1/me")["username"] == "alice"
    clock.advance(timedelta(days=30))  # the engine clock moves; the sign-in stays
    assert alice.get("/api/v1/me")["username"] == "alice"
    wall_clock.advance(timedelta(hours=lf.settings.token_ttl_hours, seconds=1))
    alice.get("/api/v1/me", expect=401)
    alice = ApiUser(client, "alice", "alice-pass")
    client.post("/api/v1/auth/logout", headers=alice.headers)
    alice.get("/api/v1/me", expect=401)


def test_passwords_are_stored_as_argon2_hashes(lf):
    from sqlalchemy import select

    from engine.db.tables import User

    with lf.uow.read() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("$argon2") and "alice-pass" not in stored
