"""Runtime settings, read once from the environment (prefix LANDFLOW_) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, field_validator
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
    # budgets for what a model may ask of the engine (docs/security.md)
    timer_max_years: int = 100  # timer dates and durations at most this far from now
    timer_min_cycle_seconds: int = 60  # shortest interval of a timeCycle
    timer_max_cycles: int = 1_000  # most repetitions of a timeCycle (R/... counts as this)
    multi_instance_max: int = 500  # most instances of one multi-instance task
    case_state_max_bytes: int = 5_000_000  # serialized state of one case
    case_data_max_depth: int = 32  # nesting of lists and objects in case data
    engine_max_steps: int = 500  # engine steps one command may run
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

    # OpenID Connect sign-in through a unified identity platform (docs/security.md); off unless
    # an issuer is set. The client secret is named, never written: "env:NAME" reads $NAME.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None  # env:NAME
    oidc_scopes: str = "openid profile"
    oidc_username_claim: str = "preferred_username"  # the claim holding our username...
    oidc_user_map: Path | None = None  # ...or a JSON file {claim value: username}
    oidc_auto_provision: bool = False  # create unknown users (without departments)
    oidc_algorithms: str = "RS256,ES256"
    oidc_redirect_url: str | None = None  # default: <public_url or this site>/login/oidc/callback

    @field_validator("oidc_client_secret")
    @classmethod
    def _secret_named_only(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("env:") and len(value) > 4):
            raise ValueError("oidc_client_secret must be env:NAME (the variable holding it)")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
