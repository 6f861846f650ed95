"""Signing in through the sign-in page, as a browser does: fetch the form (which sets its CSRF
cookie), then post it with the token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def login_form_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200, page.text
    return TOKEN.search(page.text).group(1)


def page_sign_in(client: TestClient, username: str, password: str, **kwargs):
    """POST /login with the form's token; returns the response (303 to / when signed in)."""
    kwargs.setdefault("follow_redirects", False)
    data = {"username": username, "password": password, "csrf_token": login_form_token(client)}
    return client.post("/login", data=data, **kwargs)
