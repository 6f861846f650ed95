"""The `landflow` command: serve, worker, deploy, start, tasks, complete, demo, db upgrade,
audit verify, backup and restore."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from engine.db.schema_lock import schema_lock
from engine.errors import LandflowError
from engine.services import backup as backups
from engine.services.actor import SYSTEM
from engine.services.audit_verify import verify_chain
from engine.services.container import Landflow
from engine.services.inbox import SCOPES, TaskFilter
from engine.settings import Settings


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _json_arg(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON: {exc}") from exc


def cmd_serve(lf: Landflow, args: argparse.Namespace) -> int:
    import uvicorn

    from engine.api.app import create_app

    _migrate(lf)
    if args.demo:
        from engine.demo import load_demo

        lf.start_up()
        load_demo(lf)
    print(f"Landflow is serving on http://{args.host}:{args.port}/  (API docs: /docs)")
    if args.workers > 1:  # each process builds its own Landflow from the environment
        lf.start_up()  # deploy once here, so that the workers find everything unchanged
        lf.close()
        uvicorn.run(
            "engine.cli:serving_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            access_log=args.access_log,
        )
        return 0
    uvicorn.run(
        create_app(lf), host=args.host, port=args.port, log_level="info", access_log=args.access_log
    )
    return 0


def serving_app():
    """The app of one `serve --workers N` process."""
    from engine.api.app import create_app

    quiet_engine_logs()
    return create_app(Landflow.build(Settings()))


def quiet_engine_logs() -> None:
    """SpiffWorkflow logs every task state change at INFO: a served step would pay for it."""
    for name in ("spiff", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)


def cmd_worker(lf: Landflow, args: argparse.Namespace) -> int:
    from engine import scheduler

    _migrate(lf)
    lf.templates.start_up()
    print(
        f"landflow worker {lf.jobs.worker_id} running due jobs and deliveries every "
        f"{lf.settings.scheduler_interval_seconds}s"
    )
    if args.once:
        _print({"ran": lf.jobs.run_due(), "delivered": lf.deliveries.run_due()})
        return 0
    scheduler.run_forever(lf.runners(), lf.settings.scheduler_interval_seconds)
    return 0


def cmd_deploy(lf: Landflow, args: argparse.Namespace) -> int:
    _migrate(lf)
    files = {Path(p).name: Path(p).read_bytes() for p in args.files}
    _print(lf.definitions.deploy(files, SYSTEM, source="cli").as_dict())
    return 0


def cmd_start(lf: Landflow, args: argparse.Namespace) -> int:
    actor = lf.auth.actor_for(args.user)
    _print(lf.instances.start(actor, args.process_id, args.region, args.business_key, args.data))
    return 0


def cmd_tasks(lf: Landflow, args: argparse.Namespace) -> int:
    actor = lf.auth.actor_for(args.user)
    result = lf.inbox.list(
        actor, TaskFilter(scope=args.scope, state=args.state, process_id=args.process)
    )
    for item in result["items"]:
        print(
            f"{item['id']}  {item['process_id']:<24} {item['title']:<20} "
            f"{item['region']:<12} {item['assignee'] or '-'}"
        )
    print(f"({result['total']} task(s))")
    return 0


def cmd_complete(lf: Landflow, args: argparse.Namespace) -> int:
    actor = lf.auth.actor_for(args.user)
    _print(lf.tasks.complete(actor, args.task_id, args.data))
    return 0


def cmd_demo(lf: Landflow, args: argparse.Namespace) -> int:
    from engine.demo import load_demo

    _migrate(lf)
    lf.start_up()
    _print(load_demo(lf))
    return 0


def cmd_db(lf: Landflow, args: argparse.Namespace) -> int:
    _migrate(lf)
    print("database is at the newest schema")
    return 0


def _migrate(lf: Landflow) -> None:
    """Migrate and seed one process at a time (serve and worker may start together)."""
    with schema_lock(lf.settings.database_url):
        lf.migrate()


def cmd_audit_verify(lf: Landflow, args: argparse.Namespace) -> int:
    """Check the audit chain and the case histories against it; exit 1 when broken."""
    with lf.uow.read() as session:
        outcome = verify_chain(session)
    _print(outcome)
    return 0 if outcome["ok"] else 1


def cmd_backup(lf: Landflow, args: argparse.Namespace) -> int:
    _print(backups.backup(lf.settings.database_url, Path(args.file)))
    return 0


def cmd_restore(lf: Landflow, args: argparse.Namespace) -> int:
    """Restore, bring the schema to the newest version, then check the audit chain."""
    lf.close()
    restored = backups.restore(lf.settings.database_url, Path(args.file))
    after = Landflow.build(lf.settings)
    try:
        _migrate(after)
        with after.uow.read() as session:
            restored["audit"] = verify_chain(session)
    finally:
        after.close()
    _print(restored)
    return 0 if restored["audit"]["ok"] else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="landflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the web server (API, pages, scheduler)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--demo", action="store_true", help="load the demo organisation first")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (uvicorn workers); on SQLite they share one writer",
    )
    p.add_argument(
        "--access-log", action="store_true", help="log every request (off: the proxy logs)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "worker", help="run due jobs (timers, time limits, notifications) until stopped"
    )
    p.add_argument("--once", action="store_true", help="run what is due now, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("deploy", help="deploy .bpmn/.dmn files")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_deploy)

    p = sub.add_parser("start", help="start a case")
    p.add_argument("process_id")
    p.add_argument("--region", required=True)
    p.add_argument("--business-key")
    p.add_argument("--data", type=_json_arg, default={})
    p.add_argument("--user", default="admin")
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("tasks", help="list tasks")
    p.add_argument("--user", default="admin")
    p.add_argument("--scope", default="all", choices=list(SCOPES))
    p.add_argument("--state", default="open", choices=["open", "done"])
    p.add_argument("--process")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("complete", help="complete a task")
    p.add_argument("task_id")
    p.add_argument("--data", type=_json_arg, default={})
    p.add_argument("--user", default="admin")
    p.set_defaults(func=cmd_complete)

    p = sub.add_parser("demo", help="migrate, deploy processes/ and load the demo organisation")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("db", help="database administration")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations")
    up.set_defaults(func=cmd_db)

    p = sub.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = p.add_subparsers(dest="audit_command", required=True)
    check = audit_sub.add_parser(
        "verify", help="check the hash chain and the case histories; exit 1 when broken"
    )
    check.set_defaults(func=cmd_audit_verify)

    p = sub.add_parser("backup", help="copy the SQLite database (online, consistent) to a file")
    p.add_argument("file")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore", help="replace the SQLite database with a backup (stop server and worker first)"
    )
    p.add_argument("file")
    p.set_defaults(func=cmd_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_engine_logs()
    args = build_parser().parse_args(argv)
    lf = Landflow.build(Settings())
    try:
        return args.func(lf, args)
    except LandflowError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        for problem in exc.details.get("problems", []) + exc.details.get("errors", []):
            print(f"  - {problem}", file=sys.stderr)
        return 2
    finally:
        lf.close()


if __name__ == "__main__":
    sys.exit(main())
