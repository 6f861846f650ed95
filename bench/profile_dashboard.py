"""Where the dispatch dashboard's time goes, part by part, for the month and the year so far:
each aggregate the page is made of, timed on its own in one read transaction, on a database
`python -m bench.dashboard --keep FILE` seeded (SQLite file, or `--postgresql`).

    python -m bench.dashboard --cases 100000 --runs 1 --keep var/dash100k.db
    python -m bench.profile_dashboard --keep var/dash100k.db [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.dashboard import OFFICE, build
from engine.services.dashboard_indicators import indicator_totals
from engine.services.dashboard_workdays import day_number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_dashboard")
    parser.add_argument("--keep", type=Path, default=None)
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    lf, _ = build(0, args.postgresql, args.keep)
    office = lf.auth.actor_for(OFFICE)
    periods = {
        "month": (date(2026, 11, 1), date(2026, 11, 30)),
        "year": (date(2026, 1, 1), date(2026, 11, 30)),
    }
    for label, (since, until) in periods.items():
        parts: dict[str, list[float]] = {}
        for _ in range(args.runs):
            with lf.uow.read() as session:
                began = time.perf_counter()
                scope, metrics, today = lf.dispatch.open_in(session, office, None, since, until)
                parts.setdefault("scope and working-day index", []).append(_ms(began))
                calls: dict[str, Callable[[], Any]] = {
                    "active cases": metrics.active_cases,
                    "finished steps (roll-up)": metrics.finished,
                    "open lights": metrics.open_lights,
                    "督办 orders": metrics.supervision,
                    "open steps": lambda m=metrics, t=today: m.open_steps(day_number(t)),
                    "indicators": lambda s=session, sc=scope: indicator_totals(
                        s, sc, lf.dispatch.catalog.all()
                    ),
                }
                for name, call in calls.items():
                    began = time.perf_counter()
                    call()
                    parts.setdefault(name, []).append(_ms(began))
            began = time.perf_counter()
            lf.dispatch.dashboard(office, None, since, until)
            parts.setdefault("whole dashboard() call", []).append(_ms(began))
        print(f"\n== {OFFICE}, {label} {since}..{until}: median of {args.runs} runs")
        for name, samples in parts.items():
            print(f"  {statistics.median(samples):9.1f} ms  {name}")
    lf.close()


def _ms(began: float) -> float:
    return (time.perf_counter() - began) * 1000


if __name__ == "__main__":
    main()
