"""OpenID Connect sign-in through a province's unified identity platform (Authlib).

Authorization-code flow with PKCE (S256): `begin` makes the state, nonce and code verifier the
browser keeps in a short-lived HttpOnly cookie and the platform's authorization URL; `finish`
checks the state, exchanges the code, verifies the ID token's signature against the platform's
JWKS and its issuer, audience, expiry and nonce, then signs in the local user the configured
claim names (or the user map maps it to). Unknown users are refused unless auto-provisioning
is on. Local accounts stay the default; nothing here runs unless an issuer is configured."""

from __future__ import annotations

import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jws, jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from sqlalchemy import select

from engine.db.tables import User
from engine.settings import Settings

from .audit import note
from .auth import AuthService, hash_password

PENDING_SECONDS = 600  # the browser has ten minutes at the platform
CLOCK_LEEWAY_SECONDS = 60
METADATA_SECONDS = 3600
USERNAME_CHARS = frozenset("._-")


class OidcRefused(Exception):
    """A sign-in through the platform that cannot go on; `message` is for the user."""

    def __init__(self, message: str, status: int = 400, reason: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    secret_variable: str | None
    scopes: str
    username_claim: str
    user_map: dict[str, str] | None
    auto_provision: bool
    algorithms: tuple[str, ...]
    redirect_url: str | None
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            return None
        secret = settings.oidc_client_secret
        redirect = settings.oidc_redirect_url
        if redirect is None and settings.public_url:
            redirect = settings.public_url.rstrip("/") + "/login/oidc/callback"
        return cls(
            issuer=settings.oidc_issuer.rstrip("/"),
            client_id=settings.oidc_client_id,
            secret_variable=secret.removeprefix("env:") if secret else None,
            scopes=" ".join(settings.oidc_scopes.split()),
            username_claim=settings.oidc_username_claim,
            user_map=_load_user_map(settings.oidc_user_map),
            auto_provision=settings.oidc_auto_provision,
            algorithms=tuple(a.strip() for a in settings.oidc_algorithms.split(",") if a.strip()),
            redirect_url=redirect,
            timeout=settings.http_timeout_seconds,
        )

    def client_secret(self) -> str | None:
        return os.environ.get(self.secret_variable) if self.secret_variable else None


def _load_user_map(path: Path | None) -> dict[str, str] | None:
    if path is None:
        return None
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
    ):
        raise ValueError(f"{path}: expected a JSON object of claim value → username")
    return loaded


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser keeps between leaving for the platform and coming back."""

    state: str
    nonce: str
    verifier: str
    started: int

    def cookie(self) -> str:
        return f"{self.state}.{self.nonce}.{self.verifier}.{self.started}"

    @classmethod
    def from_cookie(cls, value: str | None) -> PendingSignIn | None:
        parts = (value or "").split(".")
        if len(parts) != 4 or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], parts[2], int(parts[3]))


class OidcSignIn:
    def __init__(self, config: OidcConfig, auth: AuthService) -> None:
        self.config = config
        self.auth = auth
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    def _now(self) -> int:
        return int(self.auth.wall.now().timestamp())

    # ---- the platform's metadata and keys ------------------------------------------------------
    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.config.timeout)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unavailable() from exc
        if not isinstance(body, dict):
            raise _unavailable()
        return body

    def metadata(self) -> dict[str, Any]:
        """The platform's discovery document, cached for an hour; its issuer must be ours."""
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_SECONDS:
            found = self._get_json(f"{self.config.issuer}/.well-known/openid-configuration")
            needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
            if str(found.get("issuer", "")).rstrip("/") != self.config.issuer or not all(
                isinstance(found.get(k), str) for k in needed
            ):
                raise _unavailable()
            self._metadata, self._metadata_at, self._keys = found, time.monotonic(), None
        return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            try:
                jwks: Any = self._get_json(self.metadata()["jwks_uri"])
                self._keys = KeySet.import_key_set(jwks)
            except (JoseError, ValueError, TypeError) as exc:
                raise _unavailable() from exc
        return self._keys

    # ---- the flow ------------------------------------------------------------------------------
    def redirect_uri(self, site_url: str) -> str:
        return self.config.redirect_url or site_url.rstrip("/") + "/login/oidc/callback"

    def begin(self, site_url: str) -> tuple[str, PendingSignIn]:
        """The platform's authorization URL and what the browser must keep until it returns."""
        pending = PendingSignIn(
            generate_token(32), generate_token(32), generate_token(64), self._now()
        )
        url = add_params_to_uri(
            self.metadata()["authorization_endpoint"],
            [
                ("response_type", "code"),
                ("client_id", self.config.client_id),
                ("redirect_uri", self.redirect_uri(site_url)),
                ("scope", self.config.scopes),
                ("state", pending.state),
                ("nonce", pending.nonce),
                ("code_challenge", create_s256_code_challenge(pending.verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return url, pending

    def finish(
        self,
        pending: PendingSignIn | None,
        params: dict[str, str],
        site_url: str,
        address: str | None,
    ) -> dict[str, Any]:
        """Complete the sign-in the platform sent the browser back from; a session token."""
        if params.get("error"):
            raise OidcRefused("统一身份认证平台未完成登录，请重新登录", 401, "provider_error")
        if pending is None or not 0 <= self._now() - pending.started <= PENDING_SECONDS:
            raise OidcRefused("登录请求已过期，请重新登录", 400, "expired_request")
        if not hmac.compare_digest(pending.state.encode(), params.get("state", "").encode()):
            raise OidcRefused("登录请求校验失败，请重新登录", 400, "state")
        if not params.get("code"):
            raise OidcRefused("统一身份认证平台未返回授权码，请重新登录", 400, "no_code")
        tokens = self._exchange(params["code"], pending.verifier, self.redirect_uri(site_url))
        claims = self._verified_claims(tokens.get("id_token"), pending.nonce)
        return self._sign_in(claims, address)

    def end_session_url(self, site_url: str) -> str | None:
        """The platform's sign-out page, to end the sign-in there too (if it has one)."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except OidcRefused:
            return None
        if not isinstance(endpoint, str):
            return None
        return add_params_to_uri(
            endpoint,
            [
                ("client_id", self.config.client_id),
                ("post_logout_redirect_uri", site_url.rstrip("/") + "/login"),
            ],
        )

    def _exchange(self, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": self.config.client_id,
        }
        secret = self.config.client_secret()
        auth: tuple[str, str] | None = None
        if secret is not None:
            methods = self.metadata().get("token_endpoint_auth_methods_supported") or []
            if "client_secret_basic" not in methods and "client_secret_post" in methods:
                form["client_secret"] = secret
            else:
                auth = (self.config.client_id, secret)
        try:
            response = httpx.post(
                self.metadata()["token_endpoint"],
                data=form,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=self.config.timeout,
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unavailable() from exc
        if response.status_code != 200 or not isinstance(body, dict):
            raise OidcRefused("统一身份认证平台拒绝了授权码，请重新登录", 401, "token_refused")
        return body

    def _verified_claims(self, id_token: Any, nonce: str) -> CodeIDToken:
        if not isinstance(id_token, str) or not id_token:
            raise OidcRefused("统一身份认证平台未返回身份令牌", 401, "no_id_token")
        token = self._decode(id_token)
        claims = CodeIDToken(
            token.claims,
            token.header,
            options={
                "iss": {"essential": True, "value": self.config.issuer},
                "aud": {"essential": True, "value": self.config.client_id},
                "exp": {"essential": True},
            },
            params={"nonce": nonce, "client_id": self.config.client_id},
        )
        try:
            claims.validate(now=self._now(), leeway=CLOCK_LEEWAY_SECONDS)
        except ExpiredTokenError as exc:
            raise OidcRefused("身份令牌已过期，请重新登录", 401, "expired") from exc
        except (InvalidClaimError, MissingClaimError) as exc:
            raise _claim_refusal(exc.claim) from exc
        except (ClaimError, JoseError) as exc:
            raise OidcRefused("身份令牌无效，请重新登录", 401, "invalid_token") from exc
        return claims

    def _decode(self, id_token: str) -> jwt.Token:
        try:
            kid = jws.extract_compact(id_token.encode()).headers().get("kid")
        except (JoseError, ValueError) as exc:
            raise OidcRefused("身份令牌格式无效，已拒绝登录", 401, "invalid_token") from exc
        keys = self._key_set()
        if kid is not None and all(key.kid != kid for key in keys.keys):
            keys = self._key_set(refresh=True)  # the platform may have rotated its keys
        try:
            return jwt.decode(id_token, keys, algorithms=self.config.algorithms)
        except (JoseError, ValueError) as exc:
            raise OidcRefused("身份令牌签名校验失败，已拒绝登录", 401, "bad_signature") from exc

    def _sign_in(self, claims: CodeIDToken, address: str | None) -> dict[str, Any]:
        value = claims.get(self.config.username_claim)
        subject = str(claims["sub"])
        if not isinstance(value, str) or not value or "\x00" in value:
            raise OidcRefused(
                f"统一身份认证账号未提供“{self.config.username_claim}”，无法确定本系统用户，"
                "请联系管理员",
                403,
                "no_username",
            )
        username = self.config.user_map.get(value) if self.config.user_map is not None else value
        now = self.auth.wall.now()
        refusal: OidcRefused | None = None
        with self.auth.uow.write() as session:
            user = (
                session.scalar(select(User).where(User.username == username)) if username else None
            )
            if user is None and username and self.config.auto_provision and _valid(username):
                user = User(
                    username=username,
                    display_name=str(claims.get("name") or username)[:200],
                    password_hash=hash_password(secrets.token_urlsafe(32)),
                    is_admin=False,
                    is_active=True,
                    created_at=now,
                )
                session.add(user)
                session.flush()
                note(session, now, "system", "user_provisioned", f"user:{username}", via="oidc")
            if user is None or not user.is_active:
                note(
                    session,
                    now,
                    "anonymous",
                    "oidc_sign_in_refused",
                    f"oidc:{subject}",
                    issuer=self.config.issuer,
                    claim=value,
                )
                refusal = OidcRefused(
                    f"统一身份认证账号（{value}）尚未开通本系统账号或已停用，"
                    "请联系管理员开通后再登录",
                    403,
                    "unknown_user",
                )
            else:
                issued = self.auth._new_token(session, user, "session", address, now)
                note(
                    session,
                    now,
                    user.username,
                    "oidc_signed_in",
                    f"user:{user.username}",
                    issuer=self.config.issuer,
                    sub=subject,
                )
        if refusal is not None:
            raise refusal  # after the commit: the refusal stays audited
        return issued


def _valid(username: str) -> bool:
    return len(username) <= 80 and all(c.isalnum() or c in USERNAME_CHARS for c in username)


def _unavailable() -> OidcRefused:
    return OidcRefused(
        "统一身份认证平台暂时无法访问，请稍后再试或使用本系统账号登录", 503, "unavailable"
    )


def _claim_refusal(claim: str) -> OidcRefused:
    messages = {
        "nonce": ("身份令牌与本次登录请求不符（nonce 不一致），已拒绝登录", "nonce"),
        "aud": ("身份令牌不是签发给本系统的，已拒绝登录", "audience"),
        "azp": ("身份令牌不是签发给本系统的，已拒绝登录", "audience"),
        "iss": ("身份令牌的签发方不是配置的统一身份认证平台，已拒绝登录", "issuer"),
    }
    message, reason = messages.get(claim, ("身份令牌无效，请重新登录", "invalid_token"))
    return OidcRefused(message, 401, reason)
