"""Where a completion's CPU goes: cProfile of service-layer completions of the step benchmark's
looping case, summed by package (self time) and listed by cumulative time.

    python -m bench.profile_step [--cases 20] [--rounds 10] [--top 30]
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

from bench.run import CLERK, OpenTask, build, start_cases


def package_of(file_name: str, function: str) -> str:
    if "SpiffWorkflow" in file_name:
        return "SpiffWorkflow"
    if "sqlalchemy" in file_name:
        return "SQLAlchemy"
    if "sqlite3" in file_name or "sqlite3" in function or "psycopg" in file_name:
        return "database driver"
    if "/engine/" in file_name:
        return "Landflow"
    if "json" in file_name:
        return "json"
    return "other (stdlib, pydantic, argon2, jinja2…)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_step")
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="landflow-profile-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    lf = build(url, workdir)
    cases = start_cases(lf, args.cases, args.rounds + 2)
    clerk = lf.auth.actor_for(CLERK)
    open_task = OpenTask(url)
    for case in cases:  # warm caches: the spec, the actor, the forms
        lf.tasks.complete(clerk, open_task(case), {})
    tasks = [[open_task(case)] for case in cases]
    profile = cProfile.Profile()
    count, spent = 0, 0.0
    for _ in range(args.rounds):
        for index, case in enumerate(cases):
            task_id = tasks[index][0]
            began = time.perf_counter()
            profile.enable()
            lf.tasks.complete(clerk, task_id, {})
            profile.disable()
            spent += time.perf_counter() - began
            count += 1
            tasks[index][0] = open_task(case)
    open_task.engine.dispose()
    lf.close()
    print(f"{count} completions, {spent / count * 1000:.1f} ms each under the profiler")
    stats = pstats.Stats(profile)
    by_package: dict[str, float] = defaultdict(float)
    for (file_name, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        by_package[package_of(file_name, function)] += row[2]
    total = sum(by_package.values())
    for name, seconds in sorted(by_package.items(), key=lambda item: -item[1]):
        print(f"  {name:45s} {seconds / total * 100:5.1f} % of self time")
    listing = io.StringIO()
    pstats.Stats(profile, stream=listing).sort_stats("cumulative").print_stats(args.top)
    print(listing.getvalue())


if __name__ == "__main__":
    main()
