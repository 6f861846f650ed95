"""Backup and restore of the embedded SQLite database with SQLite's online backup API: a backup
is a consistent copy even while the server and worker write. PostgreSQL is backed up with
pg_dump / pg_restore (docs/operations.md)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from engine.errors import BadRequest


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BadRequest(
            "landflow backup/restore handle the embedded SQLite database; back up PostgreSQL "
            "with pg_dump and restore it with pg_restore (docs/operations.md#backup-and-restore)"
        )
    if not url.database or url.database == ":memory:":
        raise BadRequest("数据库在内存中，没有可备份的文件")
    return Path(url.database)


def backup(database_url: str, target: Path) -> dict[str, Any]:
    """Copy the live database to `target` (written beside it first, then moved into place)."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BadRequest(f"{source} 处没有数据库")
    target = target.resolve()
    if target == source.resolve():
        raise BadRequest("备份不能覆盖数据库本身")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial, single_file=True)
    facts = _check(partial)
    os.replace(partial, target)
    return {"backup": str(target), **facts}


def restore(database_url: str, source: Path) -> dict[str, Any]:
    """Replace the database's content with the backup's. The backup is checked first; the
    current content is kept beside the database (…before-restore-<time>) in case it is
    needed. Stop the server and the worker before restoring."""
    database = sqlite_path(database_url)
    if not source.exists():
        raise BadRequest(f"{source} 处没有备份")
    facts = _check(source)
    kept = None
    if database.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        _copy(database, kept, single_file=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, database)
    return {"restored_from": str(source), "previous_kept_at": str(kept) if kept else None, **facts}


def _copy(source: Path, target: Path, single_file: bool = False) -> None:
    """Copy with the backup API; `single_file`: the copy keeps no write-ahead log beside it."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(target, timeout=30)) as dst,
    ):
        src.backup(dst)
        if single_file:
            dst.execute("PRAGMA journal_mode=DELETE")


def _check(path: Path) -> dict[str, Any]:
    """The file is an intact Landflow database: its integrity, schema revision, audit head."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
            if integrity != "ok":
                raise BadRequest(f"{path} is damaged: {integrity}")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables:
                raise BadRequest(f"{path} is not a Landflow database")
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
            head = (
                db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
                if "audit_head" in tables
                else None
            )
    except sqlite3.DatabaseError as exc:
        raise BadRequest(f"{path} is not an SQLite database: {exc}") from exc
    return {
        "schema_revision": revision[0] if revision else None,
        "audit_head": {"seq": head[0], "hash": head[1]} if head else None,
        "bytes": path.stat().st_size,
    }
