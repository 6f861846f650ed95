"""Who is acting: every service command receives one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    display_name: str
    is_admin: bool = False

    @property
    def label(self) -> str:
        return self.username


SYSTEM = Actor(None, "system", "系统", is_admin=True)
