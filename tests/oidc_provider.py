"""A small but real OpenID Connect provider for tests, standing in for a province's unified
identity platform: discovery, JWKS, an authorization page, a token endpoint checking the client
secret and the PKCE verifier, RS256-signed ID tokens (joserfc, Authlib's JOSE), and sign-out.
It runs a real HTTP server in a thread. `misbehave` makes the next ID tokens wrong in one way
(bad signature, wrong nonce, wrong audience, expired, wrong issuer), as a broken or hostile
platform would."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

MISBEHAVIOURS = ("bad_signature", "wrong_nonce", "wrong_audience", "expired", "wrong_issuer")


@functools.cache
def _rsa_key(name: str) -> RSAKey:
    """One key per name and test process (generating RSA keys is slow)."""
    return RSAKey.generate_key(2048, {"kid": "zlb-1"})


@dataclass
class PlatformUser:
    sub: str
    preferred_username: str
    name: str


@dataclass
class Provider:
    client_id: str
    client_secret: str
    now: Callable[[], datetime]
    users: dict[str, PlatformUser] = field(default_factory=dict)  # by the login name typed
    misbehave: str | None = None
    url: str = ""
    key: RSAKey = field(default_factory=lambda: _rsa_key("platform"))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return self.url

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "end_session_endpoint": f"{self.url}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def jwks(self) -> dict[str, Any]:
        return KeySet([self.key]).as_dict(private=False)

    def authorize(self, params: dict[str, str], login: str) -> str:
        """The redirect back to the client after `login` signed in at the platform."""
        user = self.users[login]
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"params": params, "user": user}
        query = urlencode({"code": code, "state": params.get("state", "")})
        return f"{params['redirect_uri']}?{query}"

    def id_token(self, user: PlatformUser, nonce: str) -> str:
        issued = int(self.now().timestamp())
        claims = {
            "iss": self.issuer,
            "sub": user.sub,
            "aud": self.client_id,
            "iat": issued,
            "exp": issued + 300,
            "nonce": nonce,
            "preferred_username": user.preferred_username,
            "name": user.name,
        }
        key = self.key
        if self.misbehave == "bad_signature":  # same key id, someone else's key
            key = _rsa_key("impostor")
        elif self.misbehave == "wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif self.misbehave == "wrong_audience":
            claims["aud"] = "another-system"
        elif self.misbehave == "expired":
            claims["iat"], claims["exp"] = issued - 3600, issued - 600
        elif self.misbehave == "wrong_issuer":
            claims["iss"] = "https://impostor.example"
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key, algorithms=["RS256"])

    def token(self, form: dict[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        self.token_requests.append(form)
        expected = (
            "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        )
        if authorization != expected:
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
        if grant is None or form.get("grant_type") != "authorization_code":
            return 400, {"error": "invalid_grant"}
        params = grant["params"]
        challenge = (
            base64.urlsafe_b64encode(
                hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            )
            .rstrip(b"=")
            .decode()
        )
        if (
            params.get("code_challenge_method") != "S256"
            or challenge != params.get("code_challenge")
            or form.get("redirect_uri") != params.get("redirect_uri")
        ):
            return 400, {"error": "invalid_grant", "error_description": "PKCE or redirect"}
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant["user"], params.get("nonce", "")),
        }


SIGN_IN_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>统一身份认证平台（测试）</title><style>
body{{font-family:sans-serif;background:#eef3f8;margin:0}}
main{{max-width:380px;margin:80px auto;background:#fff;padding:28px 32px;border-radius:8px;
box-shadow:0 2px 10px rgba(0,0,0,.12)}}h1{{font-size:20px;color:#1f4e8c}}
label{{display:block;margin:16px 0}}input{{width:100%;padding:8px;box-sizing:border-box}}
button{{background:#1f4e8c;color:#fff;border:0;padding:10px 24px;border-radius:4px}}
</style></head><body><main><h1>统一身份认证平台（测试）</h1>
<p>应用“{client}”请求使用您的身份登录。</p>
<form method="post" action="/authorize">{hidden}
<label>账号 <input name="login" autocomplete="off" required></label>
<button type="submit">授权并登录</button></form></main></body></html>"""


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet test output
            return

        def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, json.dumps(body).encode(), "application/json")

        def _form(self) -> dict[str, str]:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length).decode()
            return {k: v[0] for k, v in parse_qs(raw).items()}

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif parts.path == "/jwks":
                self._json(200, provider.jwks())
            elif parts.path == "/authorize":
                provider.authorize_requests.append(query)
                if query.get("client_id") != provider.client_id:
                    self._send(400, "未注册的应用".encode(), "text/plain; charset=utf-8")
                    return
                hidden = "".join(
                    f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                    for k, v in query.items()
                )
                page = SIGN_IN_PAGE.format(client=html.escape(provider.client_id), hidden=hidden)
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif parts.path == "/logout":
                back = query.get("post_logout_redirect_uri", "")
                page = f'<p>已退出统一身份认证平台。<a href="{html.escape(back)}">返回</a></p>'
                self._send(200, page.encode(), "text/html; charset=utf-8")
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            form = self._form()
            if self.path == "/authorize":
                login = form.pop("login", "")
                if login not in provider.users:
                    self._send(401, "账号不存在".encode(), "text/plain; charset=utf-8")
                    return
                self._send(302, b"", "text/plain", Location=provider.authorize(form, login))
            elif self.path == "/token":
                status, body = provider.token(form, self.headers.get("Authorization", ""))
                self._json(status, body)
            else:
                self._json(404, {"error": "not_found"})

    return Handler


@contextmanager
def running_provider(provider: Provider) -> Iterator[Provider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
