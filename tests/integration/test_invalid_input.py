"""No 500 for anything a user or administrator can send: text no database can store (NUL and
other control characters, lone surrogates, bytes that are not UTF-8) in a JSON body, a form, a
query or a path is a 422 with a Chinese message, on both databases and before sign-in; path
and query numbers out of range are 422; a locked sign-in answers 429 with Retry-After."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from engine.api.app import create_app
from tests.support import ApiUser

TOKEN_URL = "/api/v1/auth/token"


@pytest.fixture
def client(lf):
    with TestClient(create_app(lf, start_scheduler=False)) as test_client:
        yield test_client


@pytest.fixture
def admin(client) -> ApiUser:
    return ApiUser(client, "admin", "admin-pass")


def refused_as_unstorable(response) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_failed"
    assert "无法保存的字符" in body["message"]


@pytest.mark.parametrize("username", ["a\u0000b", "a\u0001b", "a\u001fb"])
def test_unstorable_text_in_the_unauthenticated_sign_in_is_422(client, username):
    refused_as_unstorable(client.post(TOKEN_URL, json={"username": username, "password": "x"}))


def test_a_raw_escape_for_nul_or_a_lone_surrogate_in_json_is_422(client):
    for text in (b'"a\\u0000b"', b'"\\udc00"'):
        response = client.post(
            TOKEN_URL,
            content=b'{"username": ' + text + b', "password": "x"}',
            headers={"content-type": "application/json"},
        )
        refused_as_unstorable(response)
        assert response.json()["errors"][0]["field"] == "username"


def test_nul_deep_in_case_data_is_422_and_nothing_is_started(client, admin, lf):
    body = {"process_id": "parcel", "region": "330702101201", "data": {"a": [{"b": "x\x00"}]}}
    response = client.post("/api/v1/instances", json=body, headers=admin.headers)
    refused_as_unstorable(response)
    assert response.json()["errors"][0]["field"] == "data.a.0.b"
    assert admin.get("/api/v1/instances")["total"] == 0


def test_a_nul_in_a_key_is_422(client, admin):
    body = {"process_id": "parcel", "region": "330702101201", "data": {"a\x00": 1}}
    refused_as_unstorable(client.post("/api/v1/instances", json=body, headers=admin.headers))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/instances?process_id=a%00b",
        "/api/v1/instances?process_id=%ff%fe",
        "/api/v1/instances/a%00b",
        "/api/v1/org/users/%ed%a0%80",
        "/api/v1/tasks/x%01y",
    ],
)
def test_unstorable_text_in_a_query_or_path_is_422(client, admin, url):
    refused_as_unstorable(client.get(url, headers=admin.headers))


def test_unstorable_text_in_a_page_form_is_refused_without_a_server_error(client):
    response = client.post(
        "/login",
        content=b"username=a%00b&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "无法保存的字符" in response.text


def test_deeply_nested_json_is_422_not_a_recursion_error(client, admin):
    deep = b"[" * 100_000 + b"]" * 100_000
    response = client.post(
        "/api/v1/instances",
        content=b'{"process_id": "parcel", "region": "330702101201", "data": {"x": ' + deep + b"}}",
        headers={**admin.headers, "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text[:300]
    assert "嵌套" in response.json()["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/calendar/0",
        "/api/v1/calendar/-5780",
        "/api/v1/calendar/191150739",
        "/api/v1/incidents/0",
        "/api/v1/incidents/99999999999999999999",
        "/api/v1/admin/jobs?page=0",
        "/api/v1/admin/jobs?page=99999999999999999999",
        "/api/v1/instances?limit=97362773275648327680",
        "/api/v1/instances?offset=-1",
        "/api/v1/instances?limit=0",
        "/api/v1/org/users?page=99999999999999999",
    ],
)
def test_out_of_range_numbers_in_paths_and_queries_are_422(client, admin, url):
    response = client.get(url, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_failed"
    assert response.json()["message"] == "请求格式无效"


def test_field_messages_are_chinese(client, admin):
    response = client.post("/api/v1/instances", json={"region": "x" * 30}, headers=admin.headers)
    assert response.status_code == 422
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages == {"process_id": "必填", "region": "最多 20 个字符"}


def test_a_calendar_year_in_range_is_answered(admin):
    assert admin.get("/api/v1/calendar/2027")["year"] == 2027


def test_control_characters_in_a_bulletin_title_are_422_not_a_broken_workbook(client, admin):
    response = client.post(
        "/api/v1/reports/bulletins", json={"title": "月报\x0b"}, headers=admin.headers
    )
    refused_as_unstorable(response)


# ---- sign-in lockout: 429 with Retry-After, alike for known and unknown users ---------------
def test_a_locked_sign_in_answers_429_with_retry_after(client, wall_clock):
    answers = {}
    for username in ("alice", "nobody-at-all"):
        for _ in range(5):
            assert (
                client.post(TOKEN_URL, json={"username": username, "password": "wrong"}).status_code
                == 401
            )
        locked = client.post(TOKEN_URL, json={"username": username, "password": "alice-pass"})
        answers[username] = (locked.status_code, locked.json(), locked.headers["retry-after"])
    assert answers["alice"] == answers["nobody-at-all"]
    status, body, retry_after = answers["alice"]
    assert status == 429
    assert body["error"] == "too_many_attempts"
    assert "15 分钟后再试" in body["message"]
    assert int(retry_after) == body["retry_after_seconds"] == 15 * 60
    wall_clock.advance(timedelta(minutes=10))
    later = client.post(TOKEN_URL, json={"username": "alice", "password": "alice-pass"})
    assert later.status_code == 429
    assert int(later.headers["retry-after"]) == 5 * 60
