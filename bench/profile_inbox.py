"""Where an inbox page's time goes at scale: the service call behind `GET /api/v1/tasks`
(no HTTP) on a database `python -m bench.inbox` built and left behind, with every SQL
statement's time summed by its first words and a cProfile of the calls.

    python -m bench.inbox --sizes 1000000 --backends postgresql   # builds landflow_bench_inbox
    python -m bench.profile_inbox [--url postgresql+psycopg://postgres@127.0.0.1:5432/landflow_bench_inbox]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import event

from bench.inbox import PAGE, SCENARIOS

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/landflow_bench_inbox"


def main(argv: list[str] | None = None) -> None:
    from engine.clock import SettableClock
    from engine.services.container import Landflow
    from engine.services.inbox import TaskFilter
    from engine.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bench.profile_inbox")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    lf = Landflow.build(Settings(database_url=args.url, scheduler_enabled=False), SettableClock())
    statements: dict[str, list[float]] = defaultdict(list)
    began: dict[int, float] = {}

    @event.listens_for(lf.uow.engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        began[id(cursor)] = time.perf_counter()

    @event.listens_for(lf.uow.engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        words = " ".join(statement.split())[:90]
        statements[words].append((time.perf_counter() - began.pop(id(cursor))) * 1000)

    for label, user, scope in SCENARIOS:
        actor = lf.auth.actor_for(user)
        where = TaskFilter(scope=scope, limit=PAGE)
        for _ in range(10):
            lf.inbox.list(actor, where)  # warm: caches, the calendar, the planner
        statements.clear()
        profile = cProfile.Profile()
        took = []
        for _ in range(args.runs):
            start = time.perf_counter()
            profile.enable()
            lf.inbox.list(actor, where)
            profile.disable()
            took.append((time.perf_counter() - start) * 1000)
        sql_total = sum(sum(v) for v in statements.values()) / args.runs
        print(
            f"\n== {label} ({user}, scope={scope}): service call p50 "
            f"{statistics.median(took):.2f} ms under the profiler, of which SQL {sql_total:.2f} ms"
        )
        for words, times in sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:8]:
            per_call = sum(times) / args.runs
            print(f"  {per_call:7.3f} ms/call  x{len(times) / args.runs:4.1f}  {words}")
        if label == SCENARIOS[0][0]:
            listing = io.StringIO()
            stats = pstats.Stats(profile, stream=listing).sort_stats("tottime")
            stats.print_stats(args.top)
            print(listing.getvalue()[:6000])
    lf.close()


if __name__ == "__main__":
    main()
