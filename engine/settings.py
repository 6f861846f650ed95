"""Runtime settings, read once from the environment (prefix LANDFLOW_) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LANDFLOW_", frozen=True)

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'landflow.db'}"
    processes_dir: Path = PROJECT_ROOT / "processes"
    forms_dir: Path = PROJECT_ROOT / "forms"
    notifications_dir: Path = PROJECT_ROOT / "notifications"
    timezone: str = "Asia/Shanghai"
    token_ttl_hours: int = 12
    session_cookie: str = "landflow_session"
    cookie_secure: bool = False
    deploy_on_startup: bool = True
    scheduler_enabled: bool = True
    scheduler_interval_seconds: float = 1.0
    job_batch_size: int = 50
    allow_clock_override: bool = False
    sla_yellow_default: str = "1wd"
    expression_max_seconds: float = 1.0
    expression_max_steps: int = 100_000
    max_upload_bytes: int = 5_000_000
    sql_echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
