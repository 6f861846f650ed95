"""Sign-ins (tokens) one can see and end: one's own, or as an administrator any user's. Part
of AuthService (engine.services.auth)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.tables import AuthToken, User
from engine.errors import NotFound

from .access import Access
from .actor import Actor
from .audit import note
from .uow import UnitOfWork


class TokenAdministration:
    uow: UnitOfWork
    wall: Clock
    access: Access

    def tokens(self, actor: Actor, current: str | None = None) -> list[dict[str, Any]]:
        """The actor's sign-ins that have not expired, newest first; `current` marks the one
        this request came with."""
        with self.uow.read() as session:
            return _listed(session, actor.user_id, self.wall.now(), current)

    def revoke_token(self, actor: Actor, token_id: int) -> None:
        """End one of one's own sign-ins. Another user's token answers as a missing one."""
        with self.uow.write() as session:
            found = session.get(AuthToken, token_id)
            if found is None or found.user_id != actor.user_id:
                raise NotFound("没有这个登录")
            session.delete(found)
            note(
                session,
                self.wall.now(),
                actor.username,
                "sign_in_revoked",
                f"user:{actor.username}",
                token=token_id,
            )

    def user_tokens(self, actor: Actor, username: str) -> list[dict[str, Any]]:
        self.access.require_admin(actor)
        with self.uow.read() as session:
            return _listed(session, _user(session, username).id, self.wall.now(), None)

    def revoke_user_tokens(self, actor: Actor, username: str) -> dict[str, Any]:
        """An administrator ends every sign-in of a user (a lost laptop, a leaked token)."""
        self.access.require_admin(actor)
        with self.uow.write() as session:
            user = _user(session, username)
            result = session.execute(delete(AuthToken).where(AuthToken.user_id == user.id))
            ended = cast(CursorResult[Any], result).rowcount  # a DELETE's result is a cursor's
            note(
                session,
                self.wall.now(),
                actor.username,
                "sign_ins_revoked",
                f"user:{username}",
                ended=ended,
            )
        return {"username": username, "revoked": ended}


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"没有用户 {username}")
    return user


def _listed(
    session: Session, user_id: int | None, now: datetime, current: str | None
) -> list[dict[str, Any]]:
    if user_id is None:
        return []
    current_hash = hashlib.sha256(current.encode()).hexdigest() if current else None
    rows = session.scalars(
        select(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.expires_at > now)
        .order_by(AuthToken.created_at.desc(), AuthToken.id.desc())
    ).all()
    return [
        {
            "id": row.id,
            "kind": row.kind,
            "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
            "current": row.token_hash == current_hash,
        }
        for row in rows
    ]
