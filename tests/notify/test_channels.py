"""Real sends over every channel: SMTP to aiosmtpd, robots and webhooks over HTTP to the local
receiver, SMS through the logging and a plugged-in gateway."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.services.notify.channels import build_channels
from engine.services.notify.channels.dingtalk import DingTalkChannel
from engine.services.notify.channels.email import EmailChannel, SmtpConfig
from engine.services.notify.channels.sms import SMS_LIMIT, LoggingSmsGateway, SmsChannel
from engine.services.notify.channels.text import truncate_utf8
from engine.services.notify.channels.webhook import (
    WebhookChannel,
    signature,
    verify_webhook,
)
from engine.services.notify.channels.wecom import CONTENT_LIMIT_BYTES, WeComChannel, content_of
from engine.services.notify.message import DeliveryFailed, Message, Target
from engine.settings import Settings

from .conftest import SMTP_PASSWORD, SMTP_USER
from .receivers import CollectingSmsGateway

LINK = "https://landflow.example.gov.cn/tasks/42"
FROM = "landflow@zrzy.example.gov.cn"


def message(**overrides) -> Message:
    values = dict(
        delivery_id=7,
        dedupe_key="sla_red:clock-9|zhang|email",
        event="sla_red",
        event_name="已超期（红灯）",
        title="已超期：入市条件及负面清单审查",
        text="古方村 12.5亩 工业用地入市 的「入市条件及负面清单审查」已超过办理时限。",
        markdown="### 已超期：入市条件及负面清单审查\n> 婺城区自然资源和规划局",
        link=LINK,
        data={"case_no": "婺自然资源入市〔2026〕1号", "task_id": 42},
        created_at=datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
    )
    values.update(overrides)
    return Message(**values)


def mail_channel(server, wall_clock, **config) -> EmailChannel:
    values = dict(host=server.host, port=server.port, from_address=FROM, from_name="土地审批平台")
    values.update(config)
    return EmailChannel(SmtpConfig(**values), wall_clock.now)


def failure(send) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as caught:
        send()
    return caught.value


# --- e-mail -------------------------------------------------------------------------------


def test_mail_arrives_with_chinese_subject_both_parts_and_a_stable_message_id(
    smtp_server, wall_clock
):
    settings = Settings(
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_from=FROM,
        smtp_from_name="农村土地审批协同平台",
    )
    channel = build_channels(settings, wall_clock.now)["email"]
    target = Target("zhang@example.cn", name="张经办")
    channel.send(message(), target)
    channel.send(message(), target)  # a retry of the same delivery

    first, second = smtp_server.messages
    assert smtp_server.raw[0].isascii()  # headers RFC 2047-encoded, bodies base64
    assert first["Subject"] == "已超期：入市条件及负面清单审查"
    assert first["From"].addresses[0].display_name == "农村土地审批协同平台"
    assert first["From"].addresses[0].addr_spec == FROM
    assert first["To"].addresses[0].display_name == "张经办"
    assert first["X-Landflow-Delivery"] == "sla_red:clock-9|zhang|email"
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].endswith("@zrzy.example.gov.cn>")
    assert first["Date"].datetime == wall_clock.now()
    assert first.get_content_type() == "multipart/alternative"
    plain = first.get_body(("plain",))
    rich = first.get_body(("html",))
    assert plain.get_content_charset() == rich.get_content_charset() == "utf-8"
    assert plain.get_content().rstrip().endswith(LINK)
    assert "已超过办理时限" in plain.get_content()
    assert f'<a href="{LINK}">查看详情</a>' in rich.get_content()
    assert smtp_server.envelopes[0] == (FROM, ["zhang@example.cn"])


def test_a_different_delivery_gets_a_different_message_id(smtp_server, wall_clock):
    channel = mail_channel(smtp_server, wall_clock)
    channel.send(message(), Target("zhang@example.cn"))
    channel.send(message(dedupe_key="sla_red:clock-9|li|email"), Target("li@example.cn"))
    first, second = smtp_server.messages
    assert first["Message-ID"] != second["Message-ID"]


def test_the_rendered_html_part_is_kept_and_gets_the_link(smtp_server, wall_clock):
    html = "<html><body><h3>已超期</h3><p>请尽快办理</p></body></html>"
    mail_channel(smtp_server, wall_clock).send(message(html=html), Target("zhang@example.cn"))
    rich = smtp_server.messages[0].get_body(("html",)).get_content()
    assert rich.startswith("<html><body><h3>已超期</h3>")
    assert rich.index("查看详情") < rich.index("</body>")


def test_mail_signs_in_when_a_username_is_set(smtp_server, wall_clock):
    channel = mail_channel(smtp_server, wall_clock, username=SMTP_USER, password=SMTP_PASSWORD)
    channel.send(message(), Target("zhang@example.cn"))
    assert smtp_server.logins == [SMTP_USER]

    wrong = mail_channel(smtp_server, wall_clock, username=SMTP_USER, password="wrong")
    error = failure(lambda: wrong.send(message(), Target("zhang@example.cn")))
    assert error.retryable  # the server's account, not this mail: fixed by an administrator
    assert "535" in str(error)
    assert len(smtp_server.messages) == 1


def test_mail_over_starttls_with_a_verified_certificate(
    starttls_smtp_server, tls_client_context, wall_clock
):
    config = SmtpConfig(
        host=starttls_smtp_server.host,
        port=starttls_smtp_server.port,
        security="starttls",
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        from_address=FROM,
    )
    EmailChannel(config, wall_clock.now, tls_client_context).send(
        message(), Target("zhang@example.cn")
    )
    assert starttls_smtp_server.logins == [SMTP_USER]

    untrusting = EmailChannel(config, wall_clock.now)  # the system CAs do not know the cert
    error = failure(lambda: untrusting.send(message(), Target("zhang@example.cn")))
    assert error.retryable and "certificate" in str(error).lower()
    assert len(starttls_smtp_server.messages) == 1


def test_a_refused_recipient_is_not_retried_but_a_deferred_one_is(smtp_server, wall_clock):
    smtp_server.refuse("nobody@example.cn", "550 5.1.1 No such user")
    smtp_server.refuse("busy@example.cn", "451 4.3.0 Try again later")
    channel = mail_channel(smtp_server, wall_clock)

    refused = failure(lambda: channel.send(message(), Target("nobody@example.cn")))
    assert not refused.retryable and "550" in str(refused)
    deferred = failure(lambda: channel.send(message(), Target("busy@example.cn")))
    assert deferred.retryable and "451" in str(deferred)
    assert smtp_server.messages == []


def test_mail_server_down_is_retryable_and_mail_flows_again_once_it_is_back(
    smtp_server, wall_clock
):
    channel = mail_channel(smtp_server, wall_clock, timeout=2.0)
    smtp_server.stop()
    error = failure(lambda: channel.send(message(), Target("zhang@example.cn")))
    assert error.retryable
    smtp_server.start()
    channel.send(message(), Target("zhang@example.cn"))
    assert len(smtp_server.messages) == 1


def test_mail_without_a_server_waits_and_a_bad_address_is_final(wall_clock):
    unconfigured = EmailChannel(SmtpConfig(host=None), wall_clock.now)
    error = failure(lambda: unconfigured.send(message(), Target("zhang@example.cn")))
    assert error.retryable and "LANDFLOW_SMTP_HOST" in str(error)

    channel = EmailChannel(SmtpConfig(host="127.0.0.1", port=1), wall_clock.now)
    error = failure(lambda: channel.send(message(), Target("not-an-address")))
    assert not error.retryable


# --- DingTalk / 浙政钉 --------------------------------------------------------------------


def test_dingtalk_signed_markdown_is_verified_by_the_receiver(receiver, wall_clock):
    channel = DingTalkChannel(5.0, wall_clock.now)
    channel.send(message(), Target(receiver.dingtalk_url(), secret=receiver.dingtalk_secret))

    (got,) = receiver.received["dingtalk"]
    assert got.query["timestamp"] == str(int(wall_clock.now().timestamp() * 1000))
    assert got.json["msgtype"] == "markdown"
    assert got.json["markdown"]["title"] == "已超期：入市条件及负面清单审查"
    assert got.json["markdown"]["text"].startswith("### 已超期")
    assert got.json["markdown"]["text"].endswith(f"[查看详情]({LINK})")


def test_dingtalk_refusals_are_sorted_into_final_and_retryable(receiver, wall_clock):
    channel = DingTalkChannel(5.0, wall_clock.now)
    url = receiver.dingtalk_url()

    wrong_secret = failure(lambda: channel.send(message(), Target(url, secret="SECwrong")))
    assert not wrong_secret.retryable and "310000" in str(wrong_secret)
    unsigned = failure(lambda: channel.send(message(), Target(url)))
    assert not unsigned.retryable
    wrong_token = receiver.url("dingtalk", access_token="deleted-robot")
    gone = failure(lambda: channel.send(message(), Target(wrong_token, secret="SECx")))
    assert not gone.retryable and "300001" in str(gone)

    receiver.fail("dingtalk", errcode=130101, errmsg="send too fast")
    throttled = failure(
        lambda: channel.send(message(), Target(url, secret=receiver.dingtalk_secret))
    )
    assert throttled.retryable and "130101" in str(throttled)
    channel.send(message(), Target(url, secret=receiver.dingtalk_secret))
    assert len(receiver.received["dingtalk"]) == 1
    assert len(receiver.attempts["dingtalk"]) == 5


def test_dingtalk_signature_is_refused_once_the_wall_clock_is_an_hour_off(receiver, wall_clock):
    skewed = DingTalkChannel(5.0, lambda: wall_clock.now() - timedelta(hours=2))
    target = Target(receiver.dingtalk_url(), secret=receiver.dingtalk_secret)
    assert not failure(lambda: skewed.send(message(), target)).retryable


# --- WeCom --------------------------------------------------------------------------------


def test_wecom_markdown_arrives_and_errors_are_sorted(receiver):
    channel = WeComChannel(5.0)
    channel.send(message(), Target(receiver.wecom_url()))
    (got,) = receiver.received["wecom"]
    assert got.json == {"msgtype": "markdown", "markdown": {"content": content_of(message())}}
    assert got.json["markdown"]["content"].endswith(f"[查看详情]({LINK})")

    bad_key = failure(lambda: channel.send(message(), Target(receiver.wecom_url("old-key"))))
    assert not bad_key.retryable and "93000" in str(bad_key)
    receiver.fail("wecom", errcode=45009, errmsg="api freq out of limit")
    throttled = failure(lambda: channel.send(message(), Target(receiver.wecom_url())))
    assert throttled.retryable and "45009" in str(throttled)


def test_long_wecom_content_is_cut_on_a_character_boundary_keeping_the_link(receiver):
    long_text = "### 督办单\n" + "婺城区自然资源和规划局逾期未反馈。" * 400  # ~20 kB
    content = content_of(message(markdown=long_text))
    raw = content.encode()
    assert len(raw) <= CONTENT_LIMIT_BYTES
    assert content.endswith(f"…\n\n[查看详情]({LINK})")
    assert raw.decode() == content  # no broken character

    WeComChannel(5.0).send(message(markdown=long_text), Target(receiver.wecom_url()))
    assert len(receiver.received["wecom"]) == 1  # the receiver enforces 4096 bytes


def test_truncate_utf8_never_splits_a_character():
    text = "审批" * 10  # 3 bytes each
    for limit in range(0, 40):
        cut = truncate_utf8(text, limit)
        assert len(cut.encode()) <= max(limit, len("…".encode()))
        assert cut == text or cut.endswith("…")


# --- webhook ------------------------------------------------------------------------------


def test_webhook_is_signed_and_verified_by_the_receiver(receiver, wall_clock):
    WebhookChannel(5.0, wall_clock.now).send(
        message(), Target(receiver.url("webhook"), secret=receiver.webhook_secret)
    )
    (got,) = receiver.received["webhook"]
    assert got.headers["X-Landflow-Event"] == "sla_red"
    assert got.headers["X-Landflow-Delivery"] == "sla_red:clock-9|zhang|email"
    assert got.headers["X-Landflow-Timestamp"] == str(int(wall_clock.now().timestamp()))
    assert got.json == {
        "id": "sla_red:clock-9|zhang|email",
        "event": "sla_red",
        "event_name": "已超期（红灯）",
        "title": "已超期：入市条件及负面清单审查",
        "text": message().text,
        "link": LINK,
        "data": {"case_no": "婺自然资源入市〔2026〕1号", "task_id": 42},
        "created_at": "2026-11-02T01:00:00+00:00",
    }


def test_verify_webhook_refuses_tampering_wrong_secrets_and_replays(wall_clock):
    now = wall_clock.now()
    stamp = int(now.timestamp())
    body = b'{"id":"k","title":"\xe5\xae\xa1\xe6\x89\xb9"}'
    headers = {
        "x-landflow-timestamp": str(stamp),
        "X-LANDFLOW-SIGNATURE": signature("s3cret", stamp, body),
    }
    assert verify_webhook("s3cret", headers, body, now)
    assert verify_webhook("s3cret", headers, body, now + timedelta(seconds=300))
    assert not verify_webhook("s3cret", headers, body.replace(b"k", b"x"), now)
    assert not verify_webhook("other", headers, body, now)
    assert not verify_webhook("s3cret", headers, body, now + timedelta(seconds=301))
    assert not verify_webhook("s3cret", headers, body, now - timedelta(seconds=301))
    assert not verify_webhook("s3cret", {"X-Landflow-Timestamp": str(stamp)}, body, now)
    bad_stamp = {**headers, "x-landflow-timestamp": "soon"}
    assert not verify_webhook("s3cret", bad_stamp, body, now)


def test_webhook_failures_are_sorted_by_status(receiver, wall_clock):
    channel = WebhookChannel(5.0, wall_clock.now)
    target = Target(receiver.url("webhook"), secret=receiver.webhook_secret)
    for status, retryable in ((500, True), (503, True), (429, True), (408, True), (400, False)):
        receiver.fail("webhook", status=status)
        error = failure(lambda: channel.send(message(), target))
        assert (error.retryable, f"HTTP {status}" in str(error)) == (retryable, True)
    unsigned = failure(lambda: channel.send(message(), Target(target.address, secret="x")))
    assert not unsigned.retryable and "401" in str(unsigned)
    missing = failure(lambda: channel.send(message(), Target(receiver.url("nowhere"))))
    assert not missing.retryable and "404" in str(missing)
    channel.send(message(), target)
    assert len(receiver.received["webhook"]) == 1


def test_webhook_timeouts_and_refused_connections_are_retryable(receiver, wall_clock):
    receiver.fail("webhook", status=200, delay=1.0)
    slow = WebhookChannel(0.2, wall_clock.now)
    target = Target(receiver.url("webhook"), secret=receiver.webhook_secret)
    error = failure(lambda: slow.send(message(), target))
    assert error.retryable and "超时" in str(error)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    nobody = Target(f"http://127.0.0.1:{closed}/webhook", secret="x")
    assert failure(lambda: slow.send(message(), nobody)).retryable
    bad_scheme = Target("ftp://example.cn/hook")
    assert not failure(lambda: slow.send(message(), bad_scheme)).retryable


# --- SMS ----------------------------------------------------------------------------------


def test_sms_logging_gateway_logs_a_signed_capped_text(caplog):
    channel = SmsChannel(LoggingSmsGateway(), "土地审批")
    with caplog.at_level(logging.INFO, logger="landflow.sms"):
        channel.send(message(), Target("13812345678"))
        channel.send(message(text="催办" * 400), Target("13812345678"))
    first, second = (record.getMessage() for record in caplog.records)
    assert first == f"SMS to 138****5678: 【土地审批】{message().text}"
    sent = second.split(": ", 1)[1]
    assert len(sent) == SMS_LIMIT and sent.startswith("【土地审批】催办") and sent.endswith("…")
    assert "13812345678" not in caplog.text


def test_sms_gateway_plugs_in_through_the_setting(wall_clock):
    settings = Settings(
        sms_gateway="tests.notify.receivers:collecting_sms_gateway", sms_sign="婺城区自然资源"
    )
    channel = build_channels(settings, wall_clock.now)["sms"]
    gateway = channel.gateway
    assert isinstance(gateway, CollectingSmsGateway) and gateway.settings is settings
    channel.send(message(text="【婺城区自然资源】已签名的短信"), Target("13812345678"))
    assert gateway.sent == [("13812345678", "【婺城区自然资源】已签名的短信")]
    assert failure(lambda: channel.send(message(), Target("0001"))).retryable
    assert not failure(lambda: channel.send(message(), Target(" "))).retryable

    with pytest.raises(ValueError):
        build_channels(Settings(sms_gateway="no_factory_named"), wall_clock.now)


def test_build_channels_gives_one_channel_per_kind(wall_clock):
    channels = build_channels(Settings(), wall_clock.now)
    assert {kind: channel.kind for kind, channel in channels.items()} == {
        "email": "email",
        "sms": "sms",
        "dingtalk": "dingtalk",
        "wecom": "wecom",
        "webhook": "webhook",
    }


def test_the_verifier_printed_in_the_docs_accepts_our_signature_and_refuses_replays():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()
    snippet = next(
        block.split("\n", 1)[1]
        for block in docs.split("```")
        if block.startswith("python") and "def verify_landflow" in block
    )
    namespace: dict = {}
    exec(compile(snippet, "notifications.md", "exec"), namespace)
    verify_landflow = namespace["verify_landflow"]
    body = '{"id":"k","title":"已超期"}'.encode()
    # the snippet is receiver code and reads the real time, so sign with the real time too
    for age, expected in ((0, True), (301, False)):
        stamp = int(time.time()) - age
        headers = {
            "X-Landflow-Timestamp": str(stamp),
            "X-Landflow-Signature": signature("s3cret", stamp, body),
        }
        assert verify_landflow("s3cret", headers, body) is expected
        assert not verify_landflow("s3cret", headers, body + b" ")
