"""Runtime settings, read once from the environment (prefix LANDFLOW_) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
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
    # attachments (docs/attachments.md): a local folder, or an S3-compatible bucket when set
    attachments_dir: Path = PROJECT_ROOT / "var" / "attachments"
    attachments_max_bytes: int = 20 * 1024 * 1024
    attachments_allowed_types: str = "pdf,jpeg,png,ofd,doc,docx,xls,xlsx,zip"
    attachments_s3_bucket: str | None = None
    attachments_s3_endpoint: str | None = None
    attachments_s3_region: str = "us-east-1"
    attachments_s3_prefix: str = "attachments/"
    attachments_s3_access_key: SecretStr | None = None  # from the environment only
    attachments_s3_secret_key: SecretStr | None = None

    # notifications (docs/notifications.md): links in messages, SMTP, SMS, delivery policy
    public_url: str | None = None  # e.g. https://landflow.example.gov.cn, for links in messages
    smtp_host: str | None = None  # no host: e-mail deliveries wait (and show so in the log)
    smtp_port: int = 25
    smtp_security: str = "none"  # none | starttls | tls
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None  # from the environment only
    smtp_from: str = "landflow@localhost"
    smtp_from_name: str = "农村土地审批协同平台"
    smtp_timeout_seconds: float = 10.0
    sms_gateway: str | None = None  # "module:factory" of an SmsGateway; None: log only
    sms_sign: str = "土地审批"
    http_timeout_seconds: float = 10.0  # robots and webhooks
    delivery_max_attempts: int = 8
    delivery_backoff_seconds: float = 30.0  # doubled per attempt
    delivery_backoff_cap_seconds: float = 3600.0
    delivery_lease_seconds: float = 300.0
    delivery_batch_size: int = 50

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
