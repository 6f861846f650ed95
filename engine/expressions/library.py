"""The default function library: pure date/time helpers (no file, OS or network access)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any


def _aware(value: datetime) -> datetime:
    """Attach UTC to naive datetimes."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parse_iso(text: str) -> date | datetime:
    """Parse an ISO date (-> date) or date-time (-> datetime, kept naive/aware as written)."""
    if not isinstance(text, str):
        raise TypeError(f"expected an ISO date string, got {type(text).__name__}")
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO date or date-time: {text[:60]!r}") from None


def make_date(year: Any, month: int | None = None, day: int | None = None) -> date:
    """``date(2024, 5, 1)`` or ``date("2024-05-01")``."""
    if month is None and day is None:
        return parse_date(year)
    return date(year, month, day)  # type: ignore[arg-type]


def make_datetime(
    year: Any,
    month: int | None = None,
    day: int | None = None,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    microsecond: int = 0,
) -> datetime:
    """``datetime(2024, 5, 1, 13, 30)`` (UTC) or ``datetime("2024-05-01T13:30:00+02:00")``."""
    if month is None and day is None:
        return parse_datetime(year)
    return datetime(
        year,
        month,  # type: ignore[arg-type]
        day,  # type: ignore[arg-type]
        hour,
        minute,
        second,
        microsecond,
        tzinfo=UTC,
    )


def make_timedelta(
    days: float = 0,
    hours: float = 0,
    minutes: float = 0,
    seconds: float = 0,
    weeks: float = 0,
    milliseconds: float = 0,
) -> timedelta:
    return timedelta(
        days=days,
        hours=hours,
        minutes=minutes,
        seconds=seconds,
        weeks=weeks,
        milliseconds=milliseconds,
    )


def parse_date(value: Any) -> date:
    """ISO date string (or date-time string, or date/datetime) -> date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = _parse_iso(value)
    return parsed.date() if isinstance(parsed, datetime) else parsed


def parse_datetime(value: Any) -> datetime:
    """ISO date-time string (or date string, date, datetime) -> aware datetime (UTC if naive)."""
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    parsed = _parse_iso(value)
    if not isinstance(parsed, datetime):
        parsed = datetime.combine(parsed, time())
    return _aware(parsed)


def add_days(value: Any, days: float) -> str:
    """Add ``days`` and return ISO text: a date stays a date, a date-time stays a date-time."""
    if isinstance(value, str):
        value = _parse_iso(value)
    if not isinstance(value, date):
        raise TypeError(f"add_days() expects a date, datetime or ISO string, got {type(value)}")
    return (value + timedelta(days=days)).isoformat()


def iso_duration(value: timedelta) -> str:
    """Format a non-negative timedelta as an ISO-8601 duration (``P3D``, ``PT2H30M``)."""
    if value < timedelta(0):
        raise ValueError("durations must not be negative")
    micros = value // timedelta(microseconds=1)
    days, micros = divmod(micros, 86_400_000_000)
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds, micros = divmod(micros, 1_000_000)
    date_part = f"{days}D" if days else ""
    time_part = ""
    if hours:
        time_part += f"{hours}H"
    if minutes:
        time_part += f"{minutes}M"
    if seconds or micros:
        fraction = f".{micros:06d}".rstrip("0") if micros else ""
        time_part += f"{seconds}{fraction}S"
    if not date_part and not time_part:
        return "PT0S"
    return "P" + date_part + (f"T{time_part}" if time_part else "")


def duration(
    days: Any = 0,
    hours: float = 0,
    minutes: float = 0,
    seconds: float = 0,
    weeks: float = 0,
) -> str:
    """ISO-8601 duration text, e.g. ``duration(days=3)`` -> ``"P3D"``; accepts a timedelta."""
    if isinstance(days, timedelta):
        value = days + timedelta(hours=hours, minutes=minutes, seconds=seconds, weeks=weeks)
    else:
        value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds, weeks=weeks)
    return iso_duration(value)


def iso(value: Any) -> str:
    """ISO text for a date, datetime, time, timedelta (as a duration) or ISO string."""
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    return _parse_iso(value).isoformat()


def default_functions(now: Callable[[], datetime]) -> dict[str, Callable[..., Any]]:
    """The whitelisted function library; ``now`` is the injectable clock."""

    def current_datetime() -> datetime:
        return _aware(now())

    def current_date() -> date:
        return current_datetime().date()

    return {
        "now": current_datetime,
        "today": current_date,
        "date": make_date,
        "datetime": make_datetime,
        "timedelta": make_timedelta,
        "parse_date": parse_date,
        "parse_datetime": parse_datetime,
        "add_days": add_days,
        "iso": iso,
        "duration": duration,
    }


def system_clock() -> datetime:
    return datetime.now(UTC)
