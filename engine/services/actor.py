"""Who is acting, with what they may reach: every service command receives one."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    display_name: str
    is_admin: bool = False
    departments: frozenset[str] = frozenset()  # codes, own and those of users stood in for
    roles: frozenset[tuple[str, str]] = frozenset()  # (department code, role)
    territories: tuple[str, ...] = ()  # region paths watched as a leadership-group office
    stands_in_for: frozenset[str] = frozenset()  # usernames this user substitutes today
    region_paths: tuple[str, ...] = field(default=())  # paths of the regions of own departments
    stand_in: tuple[tuple[str, str], ...] = ()  # (department, absent user) reached by standing in

    @property
    def label(self) -> str:
        return self.username

    def principals(self) -> frozenset[str]:
        return self.stands_in_for | {self.username}

    def watches(self, region_path: str) -> bool:
        return any(region_path.startswith(t) for t in self.territories)

    def has_role(self, department: str, *roles: str) -> bool:
        return any((department, r) in self.roles for r in roles)


SYSTEM = Actor(None, "system", "系统", is_admin=True)
