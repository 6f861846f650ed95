"""Sign-in through a unified identity platform (OpenID Connect), against a real provider over
HTTP (tests/oidc_provider.py): the authorization-code flow with PKCE, state and nonce; ID tokens
with a bad signature, the wrong nonce, audience or issuer, or expired, are refused; unknown
users are refused unless provisioning is on; sign-out; local accounts unaffected."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from engine.api.app import create_app
from engine.db.audit_tables import AuditEntry
from engine.db.tables import AuthToken, User
from engine.settings import Settings
from tests.conftest import _landflow
from tests.live_server import free_port
from tests.oidc_provider import MISBEHAVIOURS, PlatformUser, Provider, running_provider
from tests.sign_in import page_sign_in

SECRET_VARIABLE = "LANDFLOW_TEST_OIDC_SECRET"
BUTTON = "使用统一身份认证登录"


@pytest.fixture
def provider(wall_clock, monkeypatch):
    monkeypatch.setenv(SECRET_VARIABLE, "s3cret-from-the-environment")
    platform = Provider("landflow", "s3cret-from-the-environment", wall_clock.now)
    platform.users = {
        "zrzy": PlatformUser("zlb-0001", "zrzy.330702", "婺城区自然资源和规划局 王科员"),
        "stranger": PlatformUser("zlb-9999", "wang.wu", "王五"),
    }
    with running_provider(platform):
        yield platform


def oidc_settings(provider: Provider, **overrides) -> dict:
    values = dict(
        oidc_issuer=provider.issuer,
        oidc_client_id="landflow",
        oidc_client_secret=f"env:{SECRET_VARIABLE}",
    )
    values.update(overrides)
    return values


@pytest.fixture
def make_client(database_url, clock, wall_clock, provider):
    opened = []

    def make(**overrides) -> tuple[TestClient, object]:
        gen = _landflow(database_url, clock, wall_clock, **oidc_settings(provider, **overrides))
        landflow = next(gen)
        client = TestClient(create_app(landflow, start_scheduler=False))
        client.__enter__()
        opened.append((client, gen))
        return client, landflow

    yield make
    for client, gen in opened:
        client.__exit__(None, None, None)
        next(gen, None)


@pytest.fixture
def site(make_client):
    return make_client()


def through_platform(client: TestClient, provider: Provider, login: str):
    """Follow the flow as a browser does: to the platform, sign in there, and back."""
    start = client.get("/login/oidc", follow_redirects=False)
    assert start.status_code == 303, start.text
    target = urlsplit(start.headers["location"])
    assert target.netloc == urlsplit(provider.url).netloc
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    page = httpx.get(start.headers["location"])
    assert page.status_code == 200 and "统一身份认证平台" in page.text
    back = httpx.post(f"{provider.url}/authorize", data={**query, "login": login})
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def tokens(lf) -> int:
    with lf.uow.read() as session:
        return session.scalar(select(func.count()).select_from(AuthToken))


def audited(lf, action: str) -> list[AuditEntry]:
    with lf.uow.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ---- the flow -----------------------------------------------------------------------------
def test_a_platform_user_signs_in_with_pkce_state_and_nonce(site, provider):
    client, lf = site
    landed = through_platform(client, provider, "zrzy")
    assert landed.status_code == 303 and landed.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "zrzy.330702" in home.text or "婺城区自然资源和规划局" in home.text
    [asked] = provider.authorize_requests
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["scope"] == "openid profile" and asked["state"] and asked["nonce"]
    assert asked["redirect_uri"] == "http://testserver/login/oidc/callback"
    [exchanged] = provider.token_requests
    assert len(exchanged["code_verifier"]) >= 43
    assert "client_secret" not in exchanged  # the secret went in the Basic header
    [entry] = audited(lf, "oidc_signed_in")
    assert entry.actor == "zrzy.330702"
    assert json.loads(entry.details)["sub"] == "zlb-0001"
    with lf.uow.read() as session:
        assert session.scalar(select(AuthToken.kind)) == "session"


def test_the_sign_in_page_offers_the_platform_only_when_configured(lf, make_client):
    configured, _ = make_client()
    assert BUTTON in configured.get("/login").text
    with TestClient(create_app(lf, start_scheduler=False)) as plain:
        page = plain.get("/login")
        assert page.status_code == 200 and BUTTON not in page.text
        assert plain.get("/login/oidc", follow_redirects=False).status_code == 404
        assert plain.get("/login/oidc/callback?code=x&state=y").status_code == 404


def test_local_accounts_still_sign_in_when_the_platform_is_configured(site):
    client, _ = site
    assert page_sign_in(client, "alice", "alice-pass").status_code == 303


@pytest.mark.parametrize("misbehaviour", MISBEHAVIOURS)
def test_a_bad_id_token_is_refused(site, provider, misbehaviour):
    client, lf = site
    provider.misbehave = misbehaviour
    refused = through_platform(client, provider, "zrzy")
    expected = {
        "bad_signature": "签名校验失败",
        "wrong_nonce": "nonce 不一致",
        "wrong_audience": "不是签发给本系统的",
        "expired": "身份令牌已过期",
        "wrong_issuer": "签发方不是配置的统一身份认证平台",
    }[misbehaviour]
    assert refused.status_code == 401
    assert expected in refused.text
    assert tokens(lf) == 0
    assert client.get("/", follow_redirects=False).status_code in (302, 303, 307)


def test_an_unknown_platform_user_is_refused_without_provisioning(site, provider):
    client, lf = site
    refused = through_platform(client, provider, "stranger")
    assert refused.status_code == 403
    assert "统一身份认证账号（wang.wu）尚未开通本系统账号" in refused.text
    assert tokens(lf) == 0
    with lf.uow.read() as session:
        assert session.scalar(select(User).where(User.username == "wang.wu")) is None
    [entry] = audited(lf, "oidc_sign_in_refused")
    assert entry.subject == "oidc:zlb-9999"


def test_provisioning_creates_an_unknown_user_when_allowed(make_client, provider):
    client, lf = make_client(oidc_auto_provision=True)
    assert through_platform(client, provider, "stranger").status_code == 303
    with lf.uow.read() as session:
        user = session.scalar(select(User).where(User.username == "wang.wu"))
    assert user.display_name == "王五" and not user.is_admin
    assert audited(lf, "user_provisioned")[0].subject == "user:wang.wu"


def test_a_user_map_links_platform_accounts_to_existing_users(make_client, provider, tmp_path):
    mapping = tmp_path / "oidc-users.json"
    mapping.write_text(json.dumps({"zlb-9999": "cwh.330702101201"}), encoding="utf-8")
    client, lf = make_client(oidc_username_claim="sub", oidc_user_map=mapping)
    assert through_platform(client, provider, "stranger").status_code == 303
    assert audited(lf, "oidc_signed_in")[0].actor == "cwh.330702101201"
    other, _ = make_client(oidc_username_claim="sub", oidc_user_map=mapping)
    refused = through_platform(other, provider, "zrzy")  # zlb-0001 is not in the map
    assert refused.status_code == 403 and "zlb-0001" in refused.text


# ---- the flow's own checks ------------------------------------------------------------------
def test_a_callback_with_another_state_or_without_the_flow_cookie_is_refused(site, provider):
    client, lf = site
    start = client.get("/login/oidc", follow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
    back = httpx.post(
        f"{provider.url}/authorize", data={**query, "state": "forged", "login": "zrzy"}
    )
    callback = urlsplit(back.headers["location"])
    forged = client.get(f"{callback.path}?{callback.query}")
    assert forged.status_code == 400 and "登录请求校验失败" in forged.text
    client.get("/login/oidc", follow_redirects=False)
    odd = client.get("/login/oidc/callback", params={"code": "c", "state": "状态"})
    assert odd.status_code == 400 and "登录请求校验失败" in odd.text  # never a server error
    nul = client.get("/login/oidc/callback", params={"code": "c\x00", "state": "s\x00"})
    assert nul.status_code in (400, 422)
    with TestClient(client.app) as fresh:  # another browser, without the flow cookie
        stray = fresh.get("/login/oidc/callback?code=abc&state=def")
        assert stray.status_code == 400 and "登录请求已过期" in stray.text
    assert tokens(lf) == 0 and provider.token_requests == []


def test_a_sign_in_left_at_the_platform_for_over_ten_minutes_expires(site, provider, wall_clock):
    client, lf = site
    start = client.get("/login/oidc", follow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
    back = httpx.post(f"{provider.url}/authorize", data={**query, "login": "zrzy"})
    wall_clock.advance(timedelta(minutes=11))
    callback = urlsplit(back.headers["location"])
    late = client.get(f"{callback.path}?{callback.query}")
    assert late.status_code == 400 and "登录请求已过期" in late.text
    assert tokens(lf) == 0 and provider.token_requests == []


def test_an_authorization_code_is_good_once(site, provider):
    client, lf = site
    start = client.get("/login/oidc", follow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
    back = httpx.post(f"{provider.url}/authorize", data={**query, "login": "zrzy"})
    callback = urlsplit(back.headers["location"])
    flow_cookie = client.cookies.get("landflow_session_oidc_flow")
    assert client.get(f"{callback.path}?{callback.query}", follow_redirects=False).is_redirect
    client.cookies.set("landflow_session_oidc_flow", flow_cookie, path="/login/oidc")
    replay = client.get(f"{callback.path}?{callback.query}")
    assert replay.status_code == 401 and "拒绝了授权码" in replay.text
    assert tokens(lf) == 1


def test_a_platform_error_and_an_unreachable_platform_answer_in_chinese(site, make_client):
    client, _ = site
    client.get("/login/oidc", follow_redirects=False)
    denied = client.get("/login/oidc/callback?error=access_denied&state=x")
    assert denied.status_code == 401 and "统一身份认证平台未完成登录" in denied.text
    unreachable, _ = make_client(oidc_issuer=f"http://127.0.0.1:{free_port()}")
    down = unreachable.get("/login/oidc", follow_redirects=False)
    assert down.status_code == 503 and "统一身份认证平台暂时无法访问" in down.text


def test_sign_out_ends_the_session_and_offers_the_platform_sign_out(site, provider):
    client, lf = site
    through_platform(client, provider, "zrzy")
    home = client.get("/")
    csrf = home.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login/oidc/signed-out"
    page = client.get(out.headers["location"])
    assert "已退出本系统" in page.text and f"{provider.url}/logout?client_id=landflow" in page.text
    assert tokens(lf) == 0
    assert client.get("/", follow_redirects=False).status_code in (302, 303, 307)


def test_the_client_secret_is_only_ever_named():
    with pytest.raises(ValidationError):
        Settings(oidc_client_secret="the-secret-itself")
    assert Settings(oidc_client_secret="env:ZLB_SECRET").oidc_client_secret == "env:ZLB_SECRET"
