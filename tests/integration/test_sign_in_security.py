"""Sign-in hardening: throttling and lockout per username and per address, shared by server
processes through the database, alike for known and unknown users; CSRF on the sign-in form;
the password policy; sign-ins their owner or an administrator can end; security headers."""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.api.app import create_app
from engine.db.audit_tables import AuditEntry
from engine.errors import AuthenticationRequired, ValidationFailed
from engine.services.actor import SYSTEM
from engine.services.auth_throttle import SignInLocked
from engine.services.container import Landflow
from tests.conftest import make_settings
from tests.sign_in import login_form_token, page_sign_in
from tests.support import ApiUser

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str, password: str):
    return client.post(TOKEN_URL, json={"username": username, "password": password})


def audited(lf, action: str) -> list[AuditEntry]:
    with lf.uow.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ---- throttling and lockout -----------------------------------------------------------------
def test_five_failures_lock_the_username_for_fifteen_minutes(lf, wall_clock, client):
    for _ in range(5):
        assert sign_in(client, "alice", "wrong").json()["error"] == "authentication_required"
    locked = sign_in(client, "alice", "alice-pass")  # the right password, too late
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "900"
    assert locked.json()["error"] == "too_many_attempts"
    assert "15 分钟后再试" in locked.json()["message"]
    assert sign_in(client, "bob", "bob-pass").status_code == 200  # others are not affected
    wall_clock.advance(timedelta(minutes=14))
    assert sign_in(client, "alice", "alice-pass").json()["error"] == "too_many_attempts"
    wall_clock.advance(timedelta(minutes=1, seconds=1))
    assert sign_in(client, "alice", "alice-pass").status_code == 200
    [locked_entry] = audited(lf, "sign_in_locked")
    assert locked_entry.subject == "user:alice"


def test_failures_spread_beyond_the_window_do_not_lock(lf, wall_clock, client):
    for _ in range(4):
        sign_in(client, "alice", "wrong")
    wall_clock.advance(timedelta(minutes=16))
    for _ in range(4):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "alice-pass").status_code == 200


def test_a_right_password_clears_the_count(client):
    for _ in range(4):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "alice-pass").status_code == 200
    for _ in range(4):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "alice-pass").status_code == 200


def test_unknown_and_known_users_get_the_same_answers(client):
    answers = {}
    for username in ("alice", "nobody-at-all"):
        answers[username] = [
            (r.status_code, r.json()) for r in (sign_in(client, username, "x") for _ in range(7))
        ]
    assert answers["alice"] == answers["nobody-at-all"]
    assert answers["alice"][0][1]["message"] == "wrong username or password"
    assert answers["alice"][-1][1]["error"] == "too_many_attempts"


def test_an_address_is_locked_after_twenty_failures_whatever_the_username(lf):
    for n in range(20):
        with pytest.raises(AuthenticationRequired) as refused:
            lf.auth.issue_token(f"guess{n}", "x", address="203.0.113.9")
        assert not isinstance(refused.value, SignInLocked)
    with pytest.raises(SignInLocked):
        lf.auth.issue_token("alice", "alice-pass", address="203.0.113.9")
    assert lf.auth.issue_token("alice", "alice-pass", address="198.51.100.7")["access_token"]


def test_server_processes_share_the_counters(lf, database_url, clock, wall_clock):
    other = Landflow.build(make_settings(database_url), clock, wall_clock)
    try:
        for service in (lf.auth, other.auth, lf.auth, other.auth, lf.auth):
            with pytest.raises(AuthenticationRequired):
                service.issue_token("alice", "wrong")
        for service in (lf.auth, other.auth):
            with pytest.raises(SignInLocked):
                service.issue_token("alice", "alice-pass")
    finally:
        other.close()


def test_unknown_users_take_as_long_as_wrong_passwords(lf):
    def timed(username: str) -> float:
        began = time.perf_counter()
        with pytest.raises(AuthenticationRequired):
            lf.auth.issue_token(username, "not-the-password")
        return time.perf_counter() - began

    known, unknown = [], []
    for round_ in range(4):  # four users, once each per round: no lockout
        for username in ("alice", "bob", "admin", "zrzy.330702"):
            known.append(timed(username))
            unknown.append(timed(f"{username}-x{round_}"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, (statistics.median(known), statistics.median(unknown))


def test_a_nul_byte_is_refused_as_invalid_text_not_a_server_error(client):
    response = sign_in(client, "a\u0000b", "x")
    assert response.status_code == 422  # engine/api/text_guard.py, before any service


# ---- the sign-in form ---------------------------------------------------------------------
def test_the_sign_in_form_needs_its_own_token(lf, client):
    forged = client.post(
        "/login", data={"username": "alice", "password": "alice-pass"}, follow_redirects=False
    )
    assert forged.status_code == 400 and "登录页面已过期" in forged.text
    assert lf.settings.session_cookie not in forged.cookies
    token = login_form_token(client)
    client.cookies.set(lf.settings.session_cookie + "_login", "another-sites-token-" + "x" * 20)
    mismatched = client.post(
        "/login",
        data={"username": "alice", "password": "alice-pass", "csrf_token": token},
        follow_redirects=False,
    )
    assert mismatched.status_code == 400
    client.cookies.clear()
    signed_in = page_sign_in(client, "alice", "alice-pass")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
    assert signed_in.cookies.get(lf.settings.session_cookie)


def test_the_sign_in_page_says_when_it_is_locked(client):
    for _ in range(5):
        assert page_sign_in(client, "alice", "wrong").status_code == 401
    locked = page_sign_in(client, "alice", "alice-pass")
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text


# ---- the password policy ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "current", "password", "message"),
    [
        ("alice", "alice-pass", "short-1", "至少 10 位"),
        ("alice", "alice-pass", "1234567890123", "不能全是数字"),
        ("zrzy.330702", "demo", "ZRZY.330702", "不能与用户名相同"),
    ],
)
def test_the_policy_refuses_weak_new_passwords(client, username, current, password, message):
    user = ApiUser(client, username, current)
    response = client.post(
        "/api/v1/auth/password",
        headers=user.headers,
        json={"current_password": current, "new_password": password},
    )
    assert response.status_code == 422
    assert any(message in e["message"] for e in response.json()["errors"])
    assert all(e["field"] == "new_password" for e in response.json()["errors"])


def test_creating_a_user_applies_the_policy(lf):
    with pytest.raises(ValidationFailed):
        lf.auth.create_user(SYSTEM, "carol", "1234567890")
    assert lf.auth.create_user(SYSTEM, "carol", "long enough phrase")["username"] == "carol"


def test_the_demo_password_keeps_working(client):
    assert sign_in(client, "zrzy.330702", "demo").status_code == 200


def test_changing_the_password_ends_the_other_sign_ins(lf, client):
    laptop = ApiUser(client, "alice", "alice-pass")
    phone = ApiUser(client, "alice", "alice-pass")
    wrong = client.post(
        "/api/v1/auth/password",
        headers=laptop.headers,
        json={"current_password": "not-it", "new_password": "a much better phrase"},
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "current_password"
    changed = laptop.post(
        "/api/v1/auth/password",
        {"current_password": "alice-pass", "new_password": "a much better phrase"},
    )
    assert changed == {"username": "alice", "ended_sign_ins": 1}
    laptop.get("/api/v1/me")
    phone.get("/api/v1/me", expect=401)
    assert sign_in(client, "alice", "alice-pass").status_code == 401
    assert sign_in(client, "alice", "a much better phrase").status_code == 200
    assert [e.subject for e in audited(lf, "password_changed")] == ["user:alice"]


# ---- sign-ins one can see and end ---------------------------------------------------------
def test_users_list_and_end_their_own_sign_ins(client):
    first = ApiUser(client, "alice", "alice-pass")
    second = ApiUser(client, "alice", "alice-pass")
    listed = first.get("/api/v1/auth/tokens")
    assert len(listed) == 2 and [t["current"] for t in listed].count(True) == 1
    other = next(t for t in listed if not t["current"])
    bob = ApiUser(client, "bob", "bob-pass")
    assert (
        client.delete(f"/api/v1/auth/tokens/{other['id']}", headers=bob.headers).status_code == 404
    )
    second.get("/api/v1/me")
    assert (
        client.delete(f"/api/v1/auth/tokens/{other['id']}", headers=first.headers).status_code
        == 204
    )
    second.get("/api/v1/me", expect=401)
    first.get("/api/v1/me")


def test_an_administrator_ends_every_sign_in_of_a_user(lf, client):
    alice = ApiUser(client, "alice", "alice-pass")
    ApiUser(client, "alice", "alice-pass")
    admin = ApiUser(client, "admin", "admin-pass")
    bob = ApiUser(client, "bob", "bob-pass")
    assert len(admin.get("/api/v1/admin/users/alice/tokens")) == 2
    bob.get("/api/v1/admin/users/alice/tokens", expect=403)
    assert client.delete("/api/v1/admin/users/alice/tokens", headers=bob.headers).status_code == 403
    response = client.delete("/api/v1/admin/users/alice/tokens", headers=admin.headers)
    assert response.json() == {"username": "alice", "revoked": 2}
    alice.get("/api/v1/me", expect=401)
    admin.get("/api/v1/admin/users/nobody/tokens", expect=404)
    [entry] = audited(lf, "sign_ins_revoked")
    assert (entry.actor, entry.subject) == ("admin", "user:alice")


def test_sign_ins_are_audited(lf, client):
    ApiUser(client, "alice", "alice-pass")
    [entry] = audited(lf, "signed_in")
    assert (entry.actor, entry.subject) == ("alice", "user:alice")


def test_the_account_page_ends_a_sign_in_and_changes_the_password(lf, client):
    api = ApiUser(client, "alice", "alice-pass")
    assert page_sign_in(client, "alice", "alice-pass").status_code == 303
    page = client.get("/account")
    assert page.status_code == 200 and "本次登录" in page.text and "接口令牌" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    [api_token] = [t for t in lf.auth.tokens(lf.auth.actor_for("alice")) if t["kind"] == "bearer"]
    ended = client.post(
        f"/account/sign-ins/{api_token['id']}/end",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    api.get("/api/v1/me", expect=401)
    mismatch = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "alice-pass",
            "new_password": "a new pass phrase",
            "new_password_again": "something else",
        },
    )
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    weak = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "alice-pass",
            "new_password": "123",
            "new_password_again": "123",
        },
    )
    assert weak.status_code == 422 and "密码至少 10 位" in weak.text
    done = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "alice-pass",
            "new_password": "a new pass phrase",
            "new_password_again": "a new pass phrase",
        },
    )
    assert done.status_code == 200 and "密码已修改" in done.text


# ---- security headers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/login", "/api/v1/health", "/static/app.css", "/no-such-page", "/api/v1/me"]
)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
