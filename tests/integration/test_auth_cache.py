"""The signed-in user's actor is kept between requests, yet a revoked sign-in fails on the very
next request, an organisation change is seen at once, and a request reads one row to
authenticate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from engine.api.app import create_app
from engine.db.tables import Department
from engine.services.actor import SYSTEM
from tests.support import ApiUser


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


def statements_of(lf, call) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many):
        seen.append(statement)

    event.listen(lf.uow.engine, "before_cursor_execute", note)
    try:
        call()
    finally:
        event.remove(lf.uow.engine, "before_cursor_execute", note)
    return seen


def test_a_revoked_sign_in_fails_on_the_next_request(lf, client):
    alice = ApiUser(client, "alice", "alice-pass")
    assert alice.get("/api/v1/me")["username"] == "alice"  # the actor is now kept
    [mine] = [t for t in alice.get("/api/v1/auth/tokens") if t["current"]]
    other = ApiUser(client, "alice", "alice-pass")
    ended = client.delete(f"/api/v1/auth/tokens/{mine['id']}", headers=other.headers)
    assert ended.status_code == 204
    alice.get("/api/v1/me", expect=401)
    assert other.get("/api/v1/me")["username"] == "alice"


def test_sign_ins_ended_by_an_administrator_fail_at_once(lf, client):
    alice = ApiUser(client, "alice", "alice-pass")
    alice.get("/api/v1/me")
    admin = ApiUser(client, "admin", "admin-pass")
    ended = client.delete("/api/v1/admin/users/alice/tokens", headers=admin.headers)
    assert ended.status_code == 200 and ended.json()["revoked"] == 1
    alice.get("/api/v1/me", expect=401)


def test_an_organisation_change_is_seen_on_the_next_request(lf, client):
    alice = ApiUser(client, "alice", "alice-pass")
    token = alice.headers["Authorization"][7:]
    before = lf.auth.authenticate(token).departments
    with lf.uow.read() as session:
        other = session.scalars(
            select(Department.code).where(Department.code.not_in(before)).limit(1)
        ).one()
    assert lf.auth.authenticate(token).departments == before  # kept
    lf.organisation.add_membership(SYSTEM, "alice", other, "handler")
    assert other in lf.auth.authenticate(token).departments


def test_a_kept_actor_costs_one_statement_and_expires(lf, client, wall_clock):
    alice = ApiUser(client, "alice", "alice-pass")
    alice.get("/api/v1/me")
    token = alice.headers["Authorization"][7:]
    seen = [s for s in statements_of(lf, lambda: lf.auth.authenticate(token)) if s != "BEGIN"]
    assert len(seen) == 1 and "auth_tokens" in seen[0], seen
    wall_clock.advance(timedelta(seconds=31))  # another process's change shows within 30 s
    again = [s for s in statements_of(lf, lambda: lf.auth.authenticate(token)) if s != "BEGIN"]
    assert len(again) == 3, again
