"""The kinds of dispatch report (DOMAIN.md §8: 周例会、月调度、季分析、年总结、不定期通报), the
period each covers and when the scheduled ones are issued: weekly on Monday, monthly on the
1st, quarterly on the 1st of January, April, July and October, annually on 1 January, each at
08:00 local (Beijing) time, for the period that has just ended."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

WEEKLY, MONTHLY, QUARTERLY, ANNUAL, BULLETIN = (
    "weekly",
    "monthly",
    "quarterly",
    "annual",
    "bulletin",
)
SCHEDULED = (WEEKLY, MONTHLY, QUARTERLY, ANNUAL)
KINDS = (*SCHEDULED, BULLETIN)
KIND_NAMES = {
    WEEKLY: "周报",
    MONTHLY: "月调度",
    QUARTERLY: "季度分析",
    ANNUAL: "年度总结",
    BULLETIN: "不定期通报",
}
RANKED = (MONTHLY, QUARTERLY, ANNUAL)  # 月晾晒、季评价、年考核
ISSUE_TIME = time(8, 0)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_start(kind: str, day: date) -> date:
    """The first day of the period of `kind` that contains `day`."""
    if kind == WEEKLY:
        return day - timedelta(days=day.weekday())
    if kind == MONTHLY:
        return day.replace(day=1)
    if kind == QUARTERLY:
        return _quarter_start(day)
    if kind == ANNUAL:
        return date(day.year, 1, 1)
    raise ValueError(kind)


def next_period_start(kind: str, start: date) -> date:
    if kind == WEEKLY:
        return start + timedelta(days=7)
    months = {MONTHLY: 1, QUARTERLY: 3, ANNUAL: 12}[kind]
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def previous_period(kind: str, day: date) -> tuple[date, date]:
    """(first, last day) of the whole period of `kind` before the one containing `day`."""
    current = period_start(kind, day)
    previous = period_start(kind, current - timedelta(days=1))
    return previous, current - timedelta(days=1)


def last_issue_at(kind: str, now: datetime, zone: tzinfo) -> datetime:
    """The latest scheduled issue time of `kind` at or before `now`."""
    local = now.astimezone(zone)
    start = period_start(kind, local.date())
    issue = datetime.combine(start, ISSUE_TIME, zone)
    if issue > now:
        issue = datetime.combine(period_start(kind, start - timedelta(days=1)), ISSUE_TIME, zone)
    return issue


def next_issue_at(kind: str, now: datetime, zone: tzinfo) -> datetime:
    """The first scheduled issue time of `kind` after `now`."""
    last = last_issue_at(kind, now, zone)
    return datetime.combine(next_period_start(kind, last.date()), ISSUE_TIME, zone)


def period_label(kind: str, since: date, until: date) -> str:
    """How the period reads in a title: 2026年第47周 (11月16日—11月22日), 2026年11月, …"""
    if kind == WEEKLY and since.weekday() == 0 and (until - since).days == 6:
        year, week, _ = since.isocalendar()
        return f"{year}年第{week}周（{since.month}月{since.day}日—{until.month}月{until.day}日）"
    if (
        kind == MONTHLY
        and since.day == 1
        and next_period_start(MONTHLY, since) == until + timedelta(1)
    ):
        return f"{since.year}年{since.month}月"
    if (
        kind == QUARTERLY
        and since == _quarter_start(since)
        and until + timedelta(1) == (next_period_start(QUARTERLY, since))
    ):
        return f"{since.year}年第{(since.month - 1) // 3 + 1}季度"
    if kind == ANNUAL and (since.month, since.day, until.month, until.day) == (1, 1, 12, 31):
        return f"{since.year}年"
    return f"{since.isoformat()} 至 {until.isoformat()}"
