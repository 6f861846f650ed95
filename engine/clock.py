"""The one time source of the engine: every component asks the injected clock, not datetime."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """Wall time unless frozen; tests and the admin clock endpoint move it instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed: datetime | None = _aware(start) if start else None

    def now(self) -> datetime:
        with self._lock:
            return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._fixed = _aware(moment)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            base = self._fixed if self._fixed is not None else datetime.now(UTC)
            self._fixed = base + delta
            return self._fixed

    def release(self) -> None:
        with self._lock:
            self._fixed = None

    @property
    def frozen(self) -> bool:
        return self._fixed is not None


def _aware(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
