"""The API contract gate: schemathesis generates requests from /openapi.json for every
operation and sends them to a real uvicorn server, signed in as an administrator and as a
clerk, on both databases. It fails on any 5xx and on any status code the operation does not
declare. Examples per operation are bounded (LANDFLOW_FUZZ_EXAMPLES, default 3) so the gate
stays within a couple of minutes; set it higher for a deeper run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from engine.api.app import create_app
from engine.services.container import Landflow
from tests.live_server import serving

EXAMPLES = int(os.environ.get("LANDFLOW_FUZZ_EXAMPLES", "3"))
USERS = {"admin": "admin-pass", "alice": "alice-pass"}  # an administrator and a clerk
# Operations that end the caller's own sign-in; the token is issued again after them.
SIGN_OUTS = {("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/auth/tokens/{token_id}")}


@pytest.fixture
def server(lf: Landflow) -> Iterator[str]:
    with serving(lf) as url:
        yield url


def fresh_token(lf: Landflow, username: str) -> str:
    return lf.auth.issue_token(username, USERS[username])["access_token"]


def operations(lf: Landflow):
    document = create_app(lf, start_scheduler=False).openapi()
    schema = schemathesis.openapi.from_dict(document)
    for result in schema.get_all_operations():
        yield result.ok()


def test_no_server_error_and_no_undeclared_status(lf, server):
    """Each generated request is sent once per user, so both share the generation cost."""
    failures: list[str] = []
    tokens = {username: fresh_token(lf, username) for username in USERS}
    with httpx.Client(base_url=server, timeout=30) as http:
        for operation in operations(lf):
            failures.extend(fuzz(operation, server, tokens))
            for username, token in tokens.items():
                signed_out = (operation.method.upper(), operation.path) in SIGN_OUTS
                if signed_out or http.get("/api/v1/me", headers=bearer(token)).status_code != 200:
                    tokens[username] = fresh_token(lf, username)
    assert not failures, "\n".join(failures[:40])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def fuzz(operation, server: str, tokens: dict[str, str]) -> list[str]:
    failures: list[str] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case) -> None:
        for username, token in tokens.items():
            try:
                response = case.call(base_url=server, headers=bearer(token), timeout=30)
            except requests.RequestException as exc:  # a hang is a failure too
                failures.append(f"{username}: {operation.method.upper()} {operation.path}: {exc}")
                continue
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, status_code_conformance]
                )
            except (AssertionError, BaseExceptionGroup) as exc:  # report every operation
                failures.append(
                    f"{username}: {operation.method.upper()} {operation.path} -> "
                    f"{response.status_code}: {response.text[:300]}  [{type(exc).__name__}]"
                )

    run()
    return failures
