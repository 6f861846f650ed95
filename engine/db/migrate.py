"""Alembic, driven from code: `landflow db upgrade` and start-up both call upgrade()."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from .schema_lock import schema_lock

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    with schema_lock(database_url):  # one process at a time (serve and worker start together)
        command.upgrade(alembic_config(database_url), revision)


@functools.lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration of this release (read from the scripts once per process)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def is_current(engine: Engine) -> bool:
    """Whether the database already stands at the newest migration: start-up then skips
    Alembic (and its lock) altogether."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return [v for (v,) in versions] == [head_revision()]
