"""E-mail over SMTP (smtplib): multipart/alternative text + HTML in UTF-8, a Message-ID derived
from the dedupe key so that a retried mail is recognisably the same mail."""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from ..catalogue import EMAIL
from ..message import DeliveryFailed, Message, Target

SECURITY_MODES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class SmtpConfig:
    host: str | None
    port: int = 25
    security: str = "none"  # none | starttls | tls
    username: str | None = None
    password: str | None = None
    from_address: str = "landflow@localhost"
    from_name: str = ""
    timeout: float = 10.0


class EmailChannel:
    kind = EMAIL

    def __init__(
        self,
        config: SmtpConfig,
        wall_now: Callable[[], datetime],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if config.security not in SECURITY_MODES:
            raise ValueError(f"LANDFLOW_SMTP_SECURITY must be one of {SECURITY_MODES}")
        self.config = config
        self.wall_now = wall_now
        self.ssl_context = ssl_context or ssl.create_default_context()

    def send(self, message: Message, target: Target) -> None:
        host = self.config.host
        if not host:
            raise DeliveryFailed("未配置邮件服务器（LANDFLOW_SMTP_HOST），邮件等待发送")
        mail = self.compose(message, target)
        try:
            self._deliver(mail, target.address, host)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise DeliveryFailed(
                f"收件人被拒绝：{code} {_text(reply)}", retryable=code < 500
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            # the server's account, not this mail: retried while an administrator fixes it
            raise DeliveryFailed(
                f"邮件服务器登录失败：{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"邮件服务器拒绝：{exc.smtp_code} {_text(exc.smtp_error)}",
                retryable=exc.smtp_code < 500,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, TLS, dropped
            raise DeliveryFailed(f"无法连接邮件服务器：{str(exc) or type(exc).__name__}") from exc

    def compose(self, message: Message, target: Target) -> EmailMessage:
        config = self.config
        try:
            mail = EmailMessage(policy=SMTP_POLICY)
            mail["Subject"] = " ".join(message.title.split())
            mail["From"] = Address(config.from_name, addr_spec=config.from_address)
            mail["To"] = Address(target.name, addr_spec=_address(target.address))
        except (ValueError, IndexError) as exc:
            raise DeliveryFailed(f"邮件地址无效：{target.address}", retryable=False) from exc
        mail["Date"] = format_datetime(self.wall_now())
        mail["Message-ID"] = message_id(message.dedupe_key, config.from_address)
        mail["X-Landflow-Delivery"] = message.dedupe_key
        mail["X-Landflow-Event"] = message.event
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
        mail.set_content(text_part(message), charset="utf-8", cte="base64")
        mail.add_alternative(html_part(message), subtype="html", charset="utf-8", cte="base64")
        return mail

    def _deliver(self, mail: EmailMessage, recipient: str, host: str) -> None:
        config = self.config
        if config.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, config.port, timeout=config.timeout, context=self.ssl_context
            )
        else:
            smtp = smtplib.SMTP(host, config.port, timeout=config.timeout)
        try:
            if config.security == "starttls":
                smtp.starttls(context=self.ssl_context)
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(mail, from_addr=config.from_address, to_addrs=[recipient])
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def message_id(dedupe_key: str, from_address: str) -> str:
    domain = from_address.rpartition("@")[2] or "landflow.local"
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]}@{domain}>"


def text_part(message: Message) -> str:
    text = message.text.rstrip()
    if message.link and not text.endswith(message.link):
        text = f"{text}\n\n{message.link}"
    return text + "\n"


def html_part(message: Message) -> str:
    link = message.link
    anchor = f'<p><a href="{html.escape(link)}">查看详情</a></p>' if link else ""
    if message.html is None:
        paragraphs = html.escape(message.text.strip()).replace("\n", "<br>\n")
        return f"<html><body><p>{paragraphs}</p>{anchor}</body></html>\n"
    if not link or link in message.html:
        return message.html
    if "</body>" in message.html:
        return message.html.replace("</body>", f"{anchor}</body>", 1)
    return message.html + anchor


def _address(address: str) -> str:
    address = address.strip()
    if address.count("@") != 1 or address.startswith("@") or address.endswith("@"):
        raise ValueError(address)
    return address


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
