"""Notification templates: the notifications/ defaults render every event's sample on every
channel in official Chinese without codes; the check finds missing and broken files with their
lines; admins save (checked, sandboxed), render picks the newest version, reset goes back to the
default; send-time rendering never raises; the admin API over HTTP on both backends."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.api import errors as api_errors
from engine.api.routes import notification_templates
from engine.db.notify_tables import NotificationTemplate
from engine.errors import NotFound, PermissionDenied, ValidationFailed
from engine.services.notify.catalogue import BY_CODE, DIGEST, EVENTS
from engine.services.notify.template_keys import DELIVERY_TEMPLATE, sample_payload, template_keys
from engine.services.notify.templates import (
    TemplateInvalid,
    TemplateProblemsFound,
    TemplateStore,
)

PUBLIC_URL = "https://landflow.example.gov.cn"
CODES = re.compile(r"zrzy\.|330702|\bzhang\b|\{\{|\{%|\}\}|%\}")
HAN = re.compile(r"[\u4e00-\u9fff]")
SEND_CHANNELS = {"inapp": "inapp", "email": "email", "im": "dingtalk", "sms": "sms"}
INAPP_SOURCE = """{% block title %}请办理：{{ task }}{% endblock %}
{% block body %}
自定义正文：{{ department_name }}办理“{{ task }}”。
{% endblock %}
"""


def make_store(lf, folder: Path | None = None, public_url: str | None = PUBLIC_URL):
    return TemplateStore(
        folder or lf.settings.notifications_dir,
        lf.uow,
        lf.clock,
        ZoneInfo(lf.settings.timezone),
        public_url,
        lf.access,
    )


@pytest.fixture
def store(lf) -> TemplateStore:
    return make_store(lf)


@pytest.fixture
def admin(lf):
    return lf.auth.actor_for("admin")


def render(lf, store, event, channel, payload, name=""):
    with lf.uow.read() as session:
        return store.render(session, event, channel, payload, name)


# ---- the folder's defaults -----------------------------------------------------------------
def test_every_event_and_channel_renders_its_sample_in_chinese_without_codes(lf, store):
    for event, template_channel in template_keys():
        payload = sample_payload(event)
        channels = [c for c, t in DELIVERY_TEMPLATE.items() if t == template_channel]
        for channel in ["email"] if event == DIGEST else channels:
            shown = render(lf, store, event, channel, payload, "李明")
            where = f"{event}/{channel}"
            for part in (shown.title, shown.text, shown.html or "", shown.markdown or ""):
                assert not CODES.search(part), f"{where}: {CODES.search(part)} in {part!r}"
            assert HAN.search(shown.title) and HAN.search(shown.text), where
            assert "\n" not in shown.title, where
            if template_channel == "email":
                assert "农村土地审批协同平台" in shown.html and "请勿直接回复" in shown.html, where
                assert shown.html.lstrip().startswith("<!DOCTYPE html>"), where
            if template_channel == "im":
                assert shown.markdown.startswith("#### ") and "**" not in shown.text, where
            if template_channel == "sms":
                assert len(shown.text) <= 70, f"{where}: {len(shown.text)} characters"
                assert "http" not in shown.text, where
            if event != DIGEST and BY_CODE[event].link == "task":
                assert shown.link == f"{PUBLIC_URL}/tasks/sample", where


def test_texts_name_the_case_step_deadline_and_people_not_codes(lf, store):
    payload = {**sample_payload("sla_red"), "task_id": "t-1", "instance_id": "c-1"}
    inapp = render(lf, store, "sla_red", "inapp", payload)
    assert inapp.title == "已超期：入市条件及负面清单审查"
    assert "婺自然资源入市〔2026〕1号" in inapp.text and "古方村 12.5亩 工业用地入市" in inapp.text
    assert "法定时限（2026-03-09到期）" in inapp.text  # 09:00 UTC is 17:00 in Beijing, same day
    assert "请婺城区自然资源和规划局立即办理" in inapp.text
    mail = render(lf, store, "sla_red", "email", payload, "王科长")
    assert mail.text.startswith("王科长：")
    assert "办件编号：婺自然资源入市〔2026〕1号" in mail.text
    assert f"{PUBLIC_URL}/tasks/t-1" in mail.text and f'href="{PUBLIC_URL}/tasks/t-1"' in mail.html
    ext = "sla_extension_requested"
    asked = render(lf, store, ext, "inapp", sample_payload(ext))
    assert "张经办申请" in asked.text and "10天" in asked.text and "zhang" not in asked.text
    supplement = render(lf, store, "supplement_notice", "sms", sample_payload("supplement_notice"))
    assert "宗地界址图、村民代表会议决议" in supplement.text


def test_html_escapes_payload_but_text_keeps_it(lf, store):
    payload = {**sample_payload("task_assigned"), "case_title": "A&B <script>x</script>"}
    mail = render(lf, store, "task_assigned", "email", payload)
    assert "<script>" not in mail.html and "A&amp;B &lt;script&gt;" in mail.html
    assert "A&B <script>x</script>" in mail.text


def test_links_follow_the_event_kind_and_the_public_url(lf):
    with_url, without = make_store(lf), make_store(lf, public_url=None)
    ids = {"task_id": "t-9", "instance_id": "c-9"}
    expected = {
        "task_assigned": "/tasks/t-9",
        "case_completed": "/cases/c-9",
        "supervision_order": "/cases/c-9",
        "report_issued": "/reports",
        "incident_opened": "/admin/incidents",
        "calendar_missing": "/admin/calendar",
    }
    for event, path in expected.items():
        payload = {**BY_CODE[event].sample, **ids}
        assert render(lf, with_url, event, "email", payload).link == PUBLIC_URL + path
        relative = render(lf, without, event, "email", payload)
        assert relative.link == path
        assert "http" not in relative.text  # a relative link is no use outside the site
    no_task = {k: v for k, v in ids.items() if k != "task_id"}
    assert render(lf, with_url, "task_assigned", "inapp", no_task).link == f"{PUBLIC_URL}/cases/c-9"


def test_digest_lists_its_items(lf, store):
    payload = {
        "day": "2026-03-09",
        "items": [
            {
                "event_name": "新待办指派给我",
                "title": "新待办：入市条件及负面清单审查",
                "text": "请及时办理。",
                "link": "/tasks/t-1",
                "at": datetime(2026, 3, 9, 1, 30, tzinfo=ZoneInfo("UTC")),
            },
            {"event_name": "已超期（红灯）", "title": "已超期：村民代表会议决议审查"},
        ],
    }
    mail = render(lf, store, DIGEST, "email", payload, "李明")
    assert mail.title == "【每日消息汇总】2026-03-09 共 2 条"
    assert "1. 【新待办指派给我】新待办：入市条件及负面清单审查" in mail.text
    assert "时间：2026-03-09 09:30" in mail.text and f"{PUBLIC_URL}/tasks/t-1" in mail.text
    assert "已超期：村民代表会议决议审查" in mail.html
    assert mail.link == f"{PUBLIC_URL}/notifications"


def test_the_shipped_folder_passes_its_check(lf, store):
    assert store.check() == []
    store.start_up()


# ---- the check -----------------------------------------------------------------------------
def test_check_finds_a_missing_and_a_broken_file_with_file_and_line(lf, tmp_path):
    folder = tmp_path / "notifications"
    shutil.copytree(lf.settings.notifications_dir, folder)
    (folder / "task_queued" / "sms.j2").unlink()
    broken = folder / "task_assigned" / "inapp.j2"
    lines = broken.read_text("utf-8").splitlines()
    lines[5] = "办件{{ case_no }"  # line 6: an unclosed expression
    broken.write_text("\n".join(lines), "utf-8")
    typo = folder / "sla_red" / "im.j2"
    typo.write_text(typo.read_text("utf-8").replace("{{ due_at | date }}", "{{ deu_at | date }}"))
    typo_line = 1 + typo.read_text("utf-8").splitlines().index(
        next(line for line in typo.read_text("utf-8").splitlines() if "deu_at" in line)
    )
    store = make_store(lf, folder)
    found = {(p.file, p.line): p.message for p in store.check()}
    assert found.keys() == {
        ("task_queued/sms.j2", None),
        ("task_assigned/inapp.j2", 6),
        ("sla_red/im.j2", typo_line),
    }
    assert "缺少模板文件" in found[("task_queued/sms.j2", None)]
    assert "语法错误" in found[("task_assigned/inapp.j2", 6)]
    assert "deu_at" in found[("sla_red/im.j2", typo_line)]
    with pytest.raises(TemplateProblemsFound) as raised:
        store.start_up()
    assert f"sla_red/im.j2:{typo_line}:" in raised.value.message
    assert "task_assigned/inapp.j2:6:" in raised.value.message
    assert len(raised.value.details["problems"]) == 3


def test_check_finds_a_block_missing_and_a_saved_version_gone_bad(lf, store, admin):
    store.save(admin, "case_resumed", "inapp", INAPP_SOURCE)
    with lf.uow.write() as session:  # a version that no longer fits (e.g. after an upgrade)
        session.add(
            NotificationTemplate(
                event="case_resumed",
                channel="inapp",
                version=2,
                source="{% block title %}{{ gone }}{% endblock %}",
                created_by="admin",
                created_at=lf.clock.now(),
            )
        )
    problems = make_store(lf).check()
    assert [(p.file, p.version) for p in problems] == [
        ("case_resumed/inapp.j2", 2),
    ]
    assert "body" in problems[0].message  # the block is missing


# ---- admin commands ------------------------------------------------------------------------
def test_save_makes_a_new_version_that_render_uses_and_reset_goes_back(lf, store, admin):
    payload = sample_payload("task_queued")
    default = render(lf, store, "task_queued", "webhook", payload)
    assert default.title == "待认领：入市条件及负面清单审查"
    saved = store.save(admin, "task_queued", "inapp", INAPP_SOURCE)
    assert saved["version"] == 1 and saved["edited"] and saved["source"] == INAPP_SOURCE
    assert saved["versions"][0]["created_by_name"] == "管理员"
    edited = render(lf, store, "task_queued", "webhook", payload)
    assert edited.title == "请办理：入市条件及负面清单审查"
    assert edited.text == "自定义正文：婺城区自然资源和规划局办理“入市条件及负面清单审查”。"
    store.save(admin, "task_queued", "inapp", INAPP_SOURCE.replace("自定义", "第二版"))
    assert render(lf, store, "task_queued", "inapp", payload).text.startswith("第二版正文")
    mail = render(lf, store, "task_queued", "email", payload)  # other channels keep the default
    assert mail.title == "【待认领】入市条件及负面清单审查（婺自然资源入市〔2026〕1号）"
    reset = store.reset(admin, "task_queued", "inapp")
    assert not reset["edited"] and reset["version"] == 3
    assert reset["source"] == reset["default_source"]
    assert [v["reset"] for v in reset["versions"]] == [True, False, False]
    assert render(lf, store, "task_queued", "inapp", payload) == default
    assert store.reset(admin, "task_queued", "inapp")["version"] == 3  # nothing to reset
    listed = {i["event"]: i for i in store.catalogue(admin)["items"]}
    assert len(listed) == len(EVENTS) + 1
    queued = {c["channel"]: c for c in listed["task_queued"]["channels"]}
    assert queued["inapp"]["version"] == 3 and not queued["inapp"]["edited"]
    assert queued["email"]["version"] is None


def test_save_refuses_python_escapes_typos_and_syntax_with_lines(lf, store, admin):
    escapes = [
        "{% block title %}x{% endblock %}\n{% block body %}{{ ''.__class__.__mro__ }}"
        "{% endblock %}",
        "{% block title %}x{% endblock %}\n{% block body %}{{ task | attr('__class__') }}"
        "{% endblock %}",
        "{% block title %}x{% endblock %}\n{% block body %}{% if false %}{{ task['__init__'] }}"
        "{% endif %}{% endblock %}",
    ]
    for source in escapes:
        with pytest.raises(ValidationFailed) as refused:
            store.save(admin, "task_assigned", "inapp", source)
        assert refused.value.errors[0].message.startswith("第 2 行：不允许的写法"), source
    mutate = (
        "{% block title %}x{% endblock %}\n{% block body %}\n"
        "{{ missing_items.append('x') }}{% endblock %}"
    )
    with pytest.raises(TemplateInvalid) as refused:
        store.save(admin, "supplement_notice", "inapp", mutate)
    assert refused.value.problems[0].line == 3 and "不允许" in refused.value.problems[0].message
    with pytest.raises(TemplateInvalid) as refused:
        store.save(admin, "task_assigned", "sms", "{% block body %}\n\n{{ taks }}{% endblock %}")
    assert refused.value.problems[0].line == 3 and "taks" in refused.value.problems[0].message
    with pytest.raises(TemplateInvalid) as refused:
        store.save(admin, "task_assigned", "sms", "{% block body %}\n{% if %}{% endblock %}")
    assert refused.value.problems[0].line == 2
    assert "语法错误" in refused.value.problems[0].message
    with pytest.raises(TemplateInvalid) as refused:
        store.save(admin, "task_assigned", "inapp", "{% block title %}标题{% endblock %}")
    assert "body" in refused.value.problems[0].message
    assert store.get(admin, "task_assigned", "inapp")["versions"] == []


def test_admin_commands_are_for_admins_and_known_templates(lf, store):
    clerk = lf.auth.actor_for("zrzy.330702")
    with pytest.raises(PermissionDenied):
        store.catalogue(clerk)
    with pytest.raises(PermissionDenied):
        store.save(clerk, "task_assigned", "inapp", INAPP_SOURCE)
    admin = lf.auth.actor_for("admin")
    with pytest.raises(NotFound):
        store.get(admin, "no_such_event", "inapp")
    with pytest.raises(NotFound):
        store.get(admin, DIGEST, "sms")


def test_preview_renders_a_draft_with_the_sample(lf, store, admin):
    draft = "{% block body %}期限{{ due_at | datetime }}，{{ grade | grade }}督办{% endblock %}"
    shown = store.preview(admin, "supervision_order", "sms", draft)
    assert shown["text"] == "期限2026-03-09 17:00，橙色督办"
    assert store.get(admin, "supervision_order", "sms")["versions"] == []


# ---- send time -----------------------------------------------------------------------------
def test_send_time_render_never_raises(lf, store):
    for event, template_channel in template_keys():
        for channel in (c for c, t in DELIVERY_TEMPLATE.items() if t == template_channel):
            shown = render(lf, store, event, channel, {})
            assert shown.title and not CODES.search(shown.text), (event, channel)
    with lf.uow.write() as session:  # a stored version broken at send time
        session.add(
            NotificationTemplate(
                event="sla_red",
                channel="inapp",
                version=1,
                source="{% block title %}{{ 1 / 0 }}{% endblock %}{% block body %}x{% endblock %}",
                created_by="admin",
                created_at=lf.clock.now(),
            )
        )
    fallen_back = render(lf, store, "sla_red", "inapp", sample_payload("sla_red"))
    assert fallen_back.title == "已超期：入市条件及负面清单审查"
    unknown = render(lf, store, "retired_event", "inapp", {"task": "某环节"})
    assert unknown.title == "系统通知：某环节"


def test_a_missing_key_renders_empty_but_the_rest_stays(lf, store):
    payload = {k: v for k, v in sample_payload("sla_yellow").items() if k != "due_at"}
    shown = render(lf, store, "sla_yellow", "inapp", payload)
    assert "入市条件及负面清单审查" in shown.text and "到期" in shown.text


# ---- HTTP ----------------------------------------------------------------------------------
@pytest.fixture
def client(lf) -> Iterator[TestClient]:
    if getattr(lf, "templates", None) is None:
        lf.templates = make_store(lf)
    app = FastAPI()
    app.state.landflow = lf
    api_errors.install(app)
    app.include_router(notification_templates.router)
    with TestClient(app) as test_client:
        yield test_client


def bearer(lf, username: str, password: str) -> dict[str, str]:
    token = lf.auth.issue_token(username, password)["access_token"]
    return {"Authorization": f"Bearer {token}"}


BASE = "/api/v1/admin/notification-templates"


def test_api_lists_saves_previews_and_resets(lf, client):
    admin = bearer(lf, "admin", "admin-pass")
    listed = client.get(BASE, headers=admin)
    assert listed.status_code == 200
    assert listed.json()["items"][0]["channels"][0]["file"] == "task_assigned/inapp.j2"
    one = client.get(f"{BASE}/case_completed/email", headers=admin).json()
    assert one["source"] == one["default_source"] and "block subject" in one["source"]
    assert {v["name"] for v in one["variables"]} >= {"case_no", "result", "link"}
    saved = client.put(f"{BASE}/case_completed/inapp", json={"source": INAPP_SOURCE}, headers=admin)
    assert saved.status_code == 200 and saved.json()["version"] == 1
    bad = "{% block title %}x{% endblock %}\n{% block body %}\n{{ reslt }}\n{% endblock %}"
    refused = client.put(f"{BASE}/case_completed/inapp", json={"source": bad}, headers=admin)
    assert refused.status_code == 422
    body = refused.json()
    assert body["error"] == "validation_failed"
    assert body["errors"][0]["field"] == "source"
    assert body["errors"][0]["message"].startswith("第 3 行：")
    assert body["problems"][0]["line"] == 3 and "reslt" in body["problems"][0]["message"]
    preview = client.post(
        f"{BASE}/case_completed/email/preview", json={"source": one["source"]}, headers=admin
    )
    assert preview.status_code == 200
    shown = preview.json()
    assert "准予入市" in shown["html"] and shown["title"].startswith("【办结通知】")
    reset = client.post(f"{BASE}/case_completed/inapp/reset", headers=admin)
    assert reset.status_code == 200
    assert reset.json()["edited"] is False and reset.json()["version"] == 2


def test_api_refuses_non_admins_unknown_templates_and_anonymous(lf, client):
    clerk = bearer(lf, "zrzy.330702", "demo")
    assert client.get(BASE, headers=clerk).status_code == 403
    put = client.put(f"{BASE}/task_assigned/inapp", json={"source": INAPP_SOURCE}, headers=clerk)
    assert put.status_code == 403
    assert client.get(BASE).status_code == 401
    admin = bearer(lf, "admin", "admin-pass")
    assert client.get(f"{BASE}/no_such_event/inapp", headers=admin).status_code == 404
    assert client.get(f"{BASE}/task_assigned/fax", headers=admin).status_code == 404
