"""Users, password hashes (argon2) and opaque tokens for the API and the web session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta, tzinfo
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from engine.clock import Clock, SystemClock
from engine.db.tables import AuthToken, User
from engine.errors import AuthenticationRequired, Conflict, FieldError, ValidationFailed

from .access import Access
from .actor import Actor
from .principals import load_actor
from .uow import UnitOfWork

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("landflow-timing-equaliser")


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        token_ttl: timedelta,
        access: Access,
        zone: tzinfo,
        wall: Clock | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        # Sign-ins live on wall time: moving the engine's test clock must not sign anyone out.
        self.wall = wall or SystemClock()
        self.token_ttl = token_ttl
        self.access = access
        self.zone = zone

    def today(self):
        return self.clock.now().astimezone(self.zone).date()

    def create_user(
        self,
        actor: Actor,
        username: str,
        password: str,
        display_name: str = "",
        is_admin: bool = False,
    ) -> dict[str, Any]:
        self.access.require_admin(actor)
        return self.ensure_user(username, password, display_name, is_admin, replace=False)

    def ensure_user(
        self,
        username: str,
        password: str,
        display_name: str = "",
        is_admin: bool = False,
        replace: bool = True,
    ) -> dict[str, Any]:
        """Create a user, or (replace=True) reset an existing one's password and flags."""
        errors = []
        if (
            not username
            or len(username) > 80
            or not username.replace(".", "").replace("_", "").replace("-", "").isalnum()
        ):
            errors.append(FieldError("username", "用户名只能包含字母、数字和 . _ -"))
        if len(password) < 8:
            errors.append(FieldError("password", "密码至少 8 位"))
        if errors:
            raise ValidationFailed("用户信息无效", errors)
        with self.uow.write() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is not None and not replace:
                raise Conflict(f"user '{username}' already exists")
            if user is None:
                user = User(username=username, created_at=self.clock.now())
                session.add(user)
            user.display_name = display_name or username
            user.password_hash = _HASHER.hash(password)
            user.is_admin = is_admin
            user.is_active = True
            session.flush()
            return {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "is_admin": user.is_admin,
            }

    def issue_token(self, username: str, password: str, kind: str = "bearer") -> dict[str, Any]:
        with self.uow.write() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.is_active:
                _verify(_DUMMY_HASH, password)
                raise AuthenticationRequired("wrong username or password")
            if not _verify(user.password_hash, password):
                raise AuthenticationRequired("wrong username or password")
            now = self.wall.now()
            token = secrets.token_urlsafe(32)
            session.execute(delete(AuthToken).where(AuthToken.expires_at < now))
            session.add(
                AuthToken(
                    token_hash=_token_digest(token),
                    user_id=user.id,
                    kind=kind,
                    created_at=now,
                    expires_at=now + self.token_ttl,
                )
            )
            return {
                "access_token": token,
                "token_type": "bearer",
                "expires_at": (now + self.token_ttl).isoformat(),
                "user": {
                    "username": user.username,
                    "display_name": user.display_name,
                    "is_admin": user.is_admin,
                },
            }

    def authenticate(self, token: str | None) -> Actor:
        if not token:
            raise AuthenticationRequired("sign in first")
        with self.uow.read() as session:
            row = session.execute(
                select(AuthToken, User)
                .join(User, User.id == AuthToken.user_id)
                .where(AuthToken.token_hash == _token_digest(token))
            ).first()
            if row is None or row.AuthToken.expires_at <= self.wall.now() or not row.User.is_active:
                raise AuthenticationRequired("the sign-in has expired or is not valid")
            return load_actor(session, row.User, self.today())

    def actor_for(self, username: str) -> Actor:
        """For trusted local callers (the CLI): the actor of an existing, active user."""
        with self.uow.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.is_active:
                raise AuthenticationRequired(f"no active user '{username}'")
            return load_actor(session, user, self.today())

    def revoke(self, token: str) -> None:
        with self.uow.write() as session:
            session.execute(delete(AuthToken).where(AuthToken.token_hash == _token_digest(token)))


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
