"""Every benchmark with one command: `python -m bench [--quick] [--only NAME ...]`.

Each scenario runs in its own process (python -m bench.<name>) and prints its own figures with
their ratios to the baseline it measures in the same run; this only runs them one after the
other and says which failed. --quick uses small sizes (a smoke run, not figures to record).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

FULL = {
    "step": ["bench.run", "--scenario", "step", "--steps", "200"],
    "http-sqlite": ["bench.run", "--scenario", "http", "--servers", "1", "2"],
    "http-postgresql": ["bench.run", "--scenario", "http", "--postgresql", "--servers", "1", "2"],
    "jobs": ["bench.jobs"],
    "inbox": ["bench.inbox"],
    "pages": ["bench.pages"],
    "dashboard": ["bench.dashboard"],
}
QUICK = {
    "step": ["bench.run", "--scenario", "step", "--steps", "30"],
    "http-sqlite": ["bench.run", "--scenario", "http", "--servers", "1", "--requests", "48"],
    "http-postgresql": [
        "bench.run",
        "--scenario",
        "http",
        "--postgresql",
        "--servers",
        "1",
        "--requests",
        "48",
    ],
    "jobs": ["bench.jobs", "--burst", "100", "--rate", "20", "--seconds", "3", "--sla", "100"],
    "inbox": ["bench.inbox", "--sizes", "10000", "--backends", "sqlite", "--runs", "20"],
    "pages": ["bench.pages", "--tasks", "2000", "--runs", "5"],
    "dashboard": ["bench.dashboard", "--cases", "2000", "--runs", "3"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=list(FULL), default=list(FULL))
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    failed = []
    for name in args.only:
        command = [sys.executable, "-m", *plan[name]]
        print(f"\n######## {name}: {' '.join(command[1:])}", flush=True)
        began = time.monotonic()
        if subprocess.call(command) != 0:
            failed.append(name)
        print(f"######## {name}: {time.monotonic() - began:.0f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
