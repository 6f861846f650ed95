"""Users, password hashes (argon2) and opaque tokens for the API and the web session; sign-in
throttling (engine.services.auth_throttle) and the password policy (auth_passwords)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, tzinfo
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from engine.clock import Clock, SystemClock
from engine.db.tables import AuthToken, User
from engine.errors import AuthenticationRequired, Conflict, FieldError, ValidationFailed

from .access import Access
from .actor import Actor
from .audit import note
from .auth_cache import ActorCache
from .auth_passwords import check_password_policy
from .auth_throttle import SignInLocked, ThrottlePolicy, attempt, forget_stale
from .auth_tokens import TokenAdministration
from .principals import load_actor
from .uow import UnitOfWork

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("landflow-timing-equaliser")
WRONG = "wrong username or password"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService(TokenAdministration):
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        token_ttl: timedelta,
        access: Access,
        zone: tzinfo,
        wall: Clock | None = None,
        throttle: ThrottlePolicy | None = None,
    ) -> None:
        self.uow = uow
        self.clock = clock
        # Sign-ins live on wall time: moving the engine's test clock must not sign anyone out.
        self.wall = wall or SystemClock()
        self.token_ttl = token_ttl
        self.access = access
        self.zone = zone
        self.throttle = throttle or ThrottlePolicy()
        self.actors = ActorCache(uow.engine)

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
        check_password_policy(password, username)
        return self.ensure_user(username, password, display_name, is_admin, replace=False)

    def ensure_user(
        self,
        username: str,
        password: str,
        display_name: str = "",
        is_admin: bool = False,
        replace: bool = True,
    ) -> dict[str, Any]:
        """Create a user, or (replace=True) reset an existing one's password and flags. For
        trusted local callers (fixtures, the demo): the password policy is create_user's."""
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
                raise Conflict(f"用户名“{username}”已被使用")
            if user is None:
                user = User(username=username, created_at=self.clock.now())
                session.add(user)
            user.display_name = display_name or username
            user.password_hash = _HASHER.hash(password)
            user.is_admin = is_admin
            user.is_active = True
            session.flush()
            note(session, self.wall.now(), "system", "user_set", f"user:{username}")
            return {
                "id": user.id,
                "username": user.username,
                "display_name": user.display_name,
                "is_admin": user.is_admin,
            }

    def issue_token(
        self, username: str, password: str, kind: str = "bearer", address: str | None = None
    ) -> dict[str, Any]:
        """Sign in. Wrong passwords and unknown users get the same answer in the same time
        (a dummy hash is verified for unknown users); too many failures for the username or
        the address lock them for a while (SignInLocked), whether the user exists or not."""
        if "\x00" in username or "\x00" in password:
            _verify(_DUMMY_HASH, password.replace("\x00", ""))
            raise AuthenticationRequired(WRONG)
        now = self.wall.now()
        refusal: AuthenticationRequired | SignInLocked | None = None
        with self.uow.write() as session:
            forget_stale(session, self.throttle, now)
            counters = attempt(session, self.throttle, username, address, now)
            until = counters.locked_until(now)
            if until is not None:
                refusal = _locked(until - now)
            elif (user := _checked_user(session, username, password)) is None:
                for row in counters.failed(now):
                    until_text = row.locked_until.isoformat() if row.locked_until else None
                    note(session, now, "anonymous", "sign_in_locked", row.key, until=until_text)
                refusal = AuthenticationRequired(WRONG)
            else:
                counters.succeeded()
                issued = self._new_token(session, user, kind, address, now)
        if refusal is not None:
            raise refusal  # after the commit: the failure stays counted
        return issued

    def _new_token(
        self, session: Session, user: User, kind: str, address: str | None, now: datetime
    ) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        session.execute(delete(AuthToken).where(AuthToken.expires_at < now))
        session.add(
            AuthToken(
                token_hash=token_digest(token),
                user_id=user.id,
                kind=kind,
                created_at=now,
                expires_at=now + self.token_ttl,
            )
        )
        subject = f"user:{user.username}"
        note(session, now, user.username, "signed_in", subject, kind=kind, address=address)
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

    def change_password(
        self, actor: Actor, current: str, new: str, token: str | None = None
    ) -> dict[str, Any]:
        """Change one's own password; every other sign-in of the user ends. A wrong current
        password counts as a failed sign-in."""
        check_password_policy(new, actor.username, field="new_password")
        now = self.wall.now()
        refusal: Exception | None = None
        ended = 0
        with self.uow.write() as session:
            counters = attempt(session, self.throttle, actor.username, None, now)
            until = counters.locked_until(now)
            user = session.get(User, actor.user_id) if actor.user_id else None
            if user is None:
                raise AuthenticationRequired("请先登录")
            if until is not None:
                refusal = _locked(until - now)
            elif not _verify(user.password_hash, current):
                counters.failed(now)
                refusal = ValidationFailed(
                    "当前密码不正确", [FieldError("current_password", "当前密码不正确")]
                )
            else:
                counters.succeeded()
                user.password_hash = _HASHER.hash(new)
                keep = token_digest(token) if token else ""
                result = session.execute(
                    delete(AuthToken).where(
                        AuthToken.user_id == user.id, AuthToken.token_hash != keep
                    )
                )
                ended = cast(CursorResult[Any], result).rowcount  # a DELETE's result is a cursor's
                note(
                    session,
                    now,
                    actor.username,
                    "password_changed",
                    f"user:{actor.username}",
                    ended_sign_ins=ended,
                )
        if refusal is not None:
            raise refusal
        return {"username": actor.username, "ended_sign_ins": ended}

    def authenticate(self, token: str | None) -> Actor:
        if not token:
            raise AuthenticationRequired("请先登录")
        with self.uow.read() as session:
            row = session.execute(
                select(AuthToken.expires_at, User)
                .join(User, User.id == AuthToken.user_id)
                .where(AuthToken.token_hash == token_digest(token))
            ).first()
            now = self.wall.now()
            if row is None or row.expires_at <= now or not row.User.is_active:
                raise AuthenticationRequired("登录已过期或无效，请重新登录")
            user, today = row.User, self.today()
            actor = self.actors.get(user.id, user.is_admin, today, now)
            if actor is None or actor.display_name != user.display_name:
                actor = load_actor(session, user, today)
                self.actors.put(actor, user.is_admin, today, now)
            return actor

    def actor_for(self, username: str) -> Actor:
        """For trusted local callers (the CLI): the actor of an existing, active user."""
        with self.uow.read() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None or not user.is_active:
                raise AuthenticationRequired(f"没有在用的用户 {username}")
            return load_actor(session, user, self.today())

    def revoke(self, token: str) -> None:
        """Sign out: the token ends at once."""
        with self.uow.write() as session:
            found = session.scalar(
                select(AuthToken).where(AuthToken.token_hash == token_digest(token))
            )
            if found is not None:
                user = session.get(User, found.user_id)
                session.delete(found)
                note(
                    session,
                    self.wall.now(),
                    user.username if user else "?",
                    "signed_out",
                    f"token:{found.id}",
                )


def _locked(left: timedelta) -> SignInLocked:
    minutes = max(1, -(-int(left.total_seconds()) // 60))
    return SignInLocked(
        f"登录失败次数过多，请 {minutes} 分钟后再试", retry_after_seconds=int(left.total_seconds())
    )


def _checked_user(session: Session, username: str, password: str) -> User | None:
    """The active user whose password this is. Unknown and deactivated users verify a dummy
    hash, so that they take as long as a wrong password."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        _verify(_DUMMY_HASH, password)
        return None
    return user if _verify(user.password_hash, password) else None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
