"""Chinese names for what the pages would otherwise show as codes: departments, regions,
processes, users, department types and levels. One small read per lookup table, cached for a
few seconds so a page renders from memory and an organisation change shows soon after."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.db.tables import Department, ProcessVersion, Region, User
from engine.domain.organisation import DEPARTMENT_TYPES, LEVEL_NAMES

from .uow import UnitOfWork

TTL_SECONDS = 5.0


@dataclass(frozen=True)
class NameTables:
    departments: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    region_paths: dict[str, str] = field(default_factory=dict)
    processes: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)


class NameBook:
    def __init__(self, uow: UnitOfWork, ttl: float = TTL_SECONDS) -> None:
        self.uow = uow
        self.ttl = ttl
        self._lock = threading.Lock()
        self._tables = NameTables()
        self._loaded_at = float("-inf")

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = float("-inf")

    def tables(self) -> NameTables:
        with self._lock:
            if time.monotonic() - self._loaded_at < self.ttl:
                return self._tables
        fresh = self._load()
        with self._lock:
            self._tables, self._loaded_at = fresh, time.monotonic()
        return fresh

    # ---- lookups (a code never found falls back to itself) --------------------------------
    def department(self, code: str | None) -> str:
        if not code:
            return ""
        return self.tables().departments.get(code, code)

    def region(self, code: str | None) -> str:
        if not code:
            return ""
        return self.tables().regions.get(code, code)

    def region_full(self, code: str | None) -> str:
        """e.g. 金华市婺城区白龙桥镇古方村 (province left out)."""
        if not code:
            return ""
        tables = self.tables()
        path = tables.region_paths.get(code)
        if not path:
            return self.region(code)
        codes = path.strip("/").split("/")[1:] or [code]
        return "".join(tables.regions.get(c, c) for c in codes)

    def process(self, process_id: str | None) -> str:
        if not process_id:
            return ""
        return self.tables().processes.get(process_id, process_id)

    def user(self, username: str | None) -> str:
        if not username:
            return ""
        return self.tables().users.get(username, username)

    @staticmethod
    def dept_type(dept_type: str | None) -> str:
        return DEPARTMENT_TYPES.get(dept_type or "", dept_type or "")

    @staticmethod
    def level(level: str | None) -> str:
        return LEVEL_NAMES.get(level or "", level or "")

    def _load(self) -> NameTables:
        with self.uow.read() as session:
            regions = session.execute(select(Region.code, Region.name, Region.path)).all()
            processes: dict[str, str] = {}
            for pid, name in session.execute(
                select(ProcessVersion.process_id, ProcessVersion.name).order_by(
                    ProcessVersion.process_id, ProcessVersion.version
                )
            ):
                processes[pid] = name or pid
            return NameTables(
                departments=dict(session.execute(select(Department.code, Department.name)).all()),
                regions={code: name for code, name, _ in regions},
                region_paths={code: path for code, _, path in regions},
                processes=processes,
                users=dict(session.execute(select(User.username, User.display_name)).all()),
            )
