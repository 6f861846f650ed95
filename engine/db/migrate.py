"""Alembic, driven from code: `landflow db upgrade` and start-up both call upgrade()."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

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
