"""A user's own notification choices: which events reach them by which channel, their mail
address and mobile number, quiet hours and the daily digest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from engine.clock import Clock
from engine.db.notify_tables import NotificationPreference, NotificationSettings
from engine.db.tables import User
from engine.errors import FieldError, NotFound, ValidationFailed

from ..actor import Actor
from ..uow import UnitOfWork
from .catalogue import BY_CODE, CHANNEL_NAMES, EMAIL, EVENTS, INAPP, SMS

CHOOSABLE = (EMAIL, SMS)  # in-app messages always arrive: they are the record
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^1\d{10}$")  # a mainland mobile number


@dataclass(frozen=True)
class PreferenceChange:
    channels: dict[str, dict[str, bool]]  # event -> channel -> on
    email: str | None
    phone: str | None
    quiet_start: str | None
    quiet_end: str | None
    digest: bool
    digest_time: str


class PreferenceService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    def get(self, actor: Actor) -> dict[str, Any]:
        with self.uow.read() as session:
            user = self._user(session, actor)
            chosen = {
                (row.event, row.channel): row.enabled
                for row in session.scalars(
                    select(NotificationPreference).where(NotificationPreference.user_id == user.id)
                )
            }
            settings = session.get(NotificationSettings, user.id)
        return {
            "channels": [{"code": c, "name": CHANNEL_NAMES[c]} for c in (INAPP, *CHOOSABLE)],
            "events": [
                {
                    "code": event.code,
                    "name": event.name,
                    "audience": event.audience,
                    "channels": {
                        INAPP: True,
                        **{c: chosen.get((event.code, c), c in event.defaults) for c in CHOOSABLE},
                    },
                }
                for event in EVENTS
            ],
            "email": user.email,
            "phone": user.phone,
            "quiet_start": settings.quiet_start if settings else None,
            "quiet_end": settings.quiet_end if settings else None,
            "digest": bool(settings and settings.digest),
            "digest_time": settings.digest_time if settings else "08:30",
        }

    def update(self, actor: Actor, change: PreferenceChange) -> dict[str, Any]:
        errors = _problems(change)
        if errors:
            raise ValidationFailed("通知设置有误，请修改后再保存", errors)
        with self.uow.write() as session:
            user = self._user(session, actor)
            user.email = change.email or None
            user.phone = change.phone or None
            session.execute(
                delete(NotificationPreference).where(NotificationPreference.user_id == user.id)
            )
            for code, channels in change.channels.items():
                for channel, on in channels.items():
                    if channel in CHOOSABLE and on != (channel in BY_CODE[code].defaults):
                        session.add(
                            NotificationPreference(
                                user_id=user.id, event=code, channel=channel, enabled=on
                            )
                        )
            settings = session.get(NotificationSettings, user.id)
            if settings is None:
                settings = NotificationSettings(user_id=user.id)
                session.add(settings)
            settings.quiet_start = change.quiet_start or None
            settings.quiet_end = change.quiet_end or None
            settings.digest, settings.digest_time = change.digest, change.digest_time
            settings.updated_at = self.clock.now()
        return self.get(actor)

    @staticmethod
    def _user(session, actor: Actor) -> User:
        user = session.scalar(select(User).where(User.username == actor.username))
        if user is None:
            raise NotFound("用户不存在")
        return user


def _problems(change: PreferenceChange) -> list[FieldError]:
    errors = []
    for code, channels in change.channels.items():
        if code not in BY_CODE:
            errors.append(FieldError(f"channels.{code}", "没有这类通知"))
            continue
        for channel in channels:
            if channel not in (INAPP, *CHOOSABLE):
                errors.append(FieldError(f"channels.{code}.{channel}", "没有这种通知方式"))
    if change.email and not MAIL.match(change.email):
        errors.append(FieldError("email", "电子邮箱格式不正确"))
    if change.phone and not PHONE.match(change.phone):
        errors.append(FieldError("phone", "手机号码应为 11 位数字"))
    for name in ("quiet_start", "quiet_end", "digest_time"):
        value = getattr(change, name)
        if value and not HHMM.match(value):
            errors.append(FieldError(name, "时间格式应为 时:分，如 22:00"))
    if bool(change.quiet_start) != bool(change.quiet_end):
        errors.append(FieldError("quiet_end", "免打扰时段需同时填写开始和结束时间"))
    if change.digest and not change.email:
        errors.append(FieldError("email", "选择每日汇总邮件时须填写电子邮箱"))
    return errors
