"""Where an SLA rung's time goes: `bench.jobs`'s yellow rungs, fired in-process by one
`run_due` on PostgreSQL, with every SQL statement counted and timed by its first words and a
cProfile of the fires.

    python -m bench.profile_rungs [--rungs 300] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text

from bench.jobs import PG_ADMIN, build, new_database, seed_rungs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_rungs")
    parser.add_argument("--rungs", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    url = new_database()
    lf, clock = build(url, Path(tempfile.mkdtemp(prefix="landflow-rungs-")))
    try:
        seed_rungs(lf, clock, args.rungs, "profile")
        statements: dict[str, list[float]] = defaultdict(list)
        began: dict[int, float] = {}

        @event.listens_for(lf.uow.engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            began[id(cursor)] = time.perf_counter()

        @event.listens_for(lf.uow.engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            words = " ".join(statement.split())[:80]
            statements[words].append((time.perf_counter() - began.pop(id(cursor))) * 1000)

        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        fired = 0
        while ran := lf.jobs.run_due():
            fired += ran
        profile.disable()
        spent = (time.perf_counter() - start) * 1000
        count = sum(len(v) for v in statements.values())
        sql = sum(sum(v) for v in statements.values())
        print(
            f"{fired} jobs fired in {spent:.0f} ms under the profiler: {spent / fired:.2f} ms "
            f"each, {count / fired:.1f} statements each, SQL {sql / fired:.2f} ms each"
        )
        for words, times in sorted(statements.items(), key=lambda kv: -len(kv[1]))[:20]:
            print(f"  x{len(times) / fired:5.2f}  {sum(times) / fired:6.3f} ms  {words}")
        listing = io.StringIO()
        pstats.Stats(profile, stream=listing).sort_stats("cumulative").print_stats(
            "engine/", args.top
        )
        print(listing.getvalue())
    finally:
        lf.close()
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = url.rsplit("/", 1)[1]
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
