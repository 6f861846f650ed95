"""Sign-in throttling: failures counted per username and per client address in the database
(so every server process agrees); too many in the window lock the key for a while. The same
for usernames that exist and those that do not, so a lockout tells nothing about accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine.db.auth_tables import SignInThrottle
from engine.errors import TooManyAttempts


class SignInLocked(TooManyAttempts):
    """Answered 429 with Retry-After, alike for known and unknown usernames."""


@dataclass(frozen=True)
class ThrottlePolicy:
    user_failures: int = 5  # per username within the window
    address_failures: int = 20  # per client address (an office shares one behind its NAT)
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass
class Attempt:
    """The locked counter rows of one sign-in attempt: [(row, limit)]."""

    rows: list[tuple[SignInThrottle, int]]
    policy: ThrottlePolicy

    def locked_until(self, now: datetime) -> datetime | None:
        until = [r.locked_until for r, _ in self.rows if r.locked_until and r.locked_until > now]
        return max(until) if until else None

    def failed(self, now: datetime) -> list[SignInThrottle]:
        """Count one failure on every key; returns the rows that became locked."""
        locked = []
        for row, limit in self.rows:
            if now - row.window_started >= self.policy.window:
                row.failures, row.window_started = 0, now
            row.failures += 1
            if row.failures >= limit:
                row.failures, row.window_started = 0, now
                row.locked_until = now + self.policy.lockout
                locked.append(row)
        return locked

    def succeeded(self) -> None:
        """A right password clears the username's count (the address keeps its own)."""
        for row, _ in self.rows:
            if row.key.startswith(USER):
                row.failures, row.locked_until = 0, None


USER, ADDRESS = "user:", "address:"


def attempt(
    session: Session, policy: ThrottlePolicy, username: str, address: str | None, now: datetime
) -> Attempt:
    """Lock (FOR UPDATE, in key order) the counters of this username and address, creating
    them when missing, so that concurrent attempts count one after another."""
    limits = {f"{USER}{username}"[:200]: policy.user_failures}
    if address:
        limits[f"{ADDRESS}{address}"[:200]] = policy.address_failures
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in sorted(limits):
        session.execute(
            make(SignInThrottle)
            .values(key=key, failures=0, window_started=now, locked_until=None)
            .on_conflict_do_nothing(index_elements=["key"])
        )
    rows = session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.key.in_(limits))
        .order_by(SignInThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return Attempt([(row, limits[row.key]) for row in rows], policy)


def forget_stale(session: Session, policy: ThrottlePolicy, now: datetime) -> None:
    """Drop counters whose window and lockout are over (skipping those another sign-in holds,
    so that two sign-ins never wait on each other)."""
    stale = (
        select(SignInThrottle.key)
        .where(
            SignInThrottle.window_started < now - policy.window,
            or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until <= now),
        )
        .limit(1000)
        .with_for_update(skip_locked=True)
    )
    keys = session.scalars(stale).all()
    if keys:
        session.execute(delete(SignInThrottle).where(SignInThrottle.key.in_(keys)))
