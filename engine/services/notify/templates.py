"""Notification templates: the defaults in `notifications/` (notifications/README.md), admin
versions in `notification_templates` (the newest one wins; `source=None` goes back to the
default). Everything renders in a Jinja2 sandbox. Templates are checked strictly against every
event's sample at start-up and on save, and rendered leniently at send time, so a message is
never lost to a template."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Template, TemplateNotFound, TemplateSyntaxError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db.notify_tables import NotificationTemplate

from ..access import Access
from ..uow import UnitOfWork
from .catalogue import BY_CODE, DIGEST
from .template_admin import TemplateAdmin
from .template_env import (
    StoreLoader,
    compile_source,
    explain,
    locate,
    make_environments,
    markdown_to_text,
    one_line,
    paragraphs,
    render_block,
    saved_name,
    underscore_names,
)
from .template_keys import (
    DELIVERY_TEMPLATE,
    DIGEST_ITEM_KEYS,
    MAX_SOURCE_CHARS,
    REQUIRED_BLOCKS,
    SAMPLE_RECIPIENT,
    SITE_NAME,
    event_name,
    file_of,
    link_path,
    sample_payload,
    template_keys,
)
from .template_types import Rendered, TemplateInvalid, TemplateProblem, TemplateProblemsFound

__all__ = [
    "Rendered",
    "TemplateInvalid",
    "TemplateProblem",
    "TemplateProblemsFound",
    "TemplateStore",
]
log = logging.getLogger(__name__)
Loader = Callable[[bool], Template]  # html? → the compiled template


class TemplateStore(TemplateAdmin):
    def __init__(
        self,
        folder: Path,
        uow: UnitOfWork,
        clock: Clock,
        zone: ZoneInfo,
        public_url: str | None,
        access: Access,
    ) -> None:
        self.folder = folder
        self.uow = uow
        self.clock = clock
        self.zone = zone
        self.public_url = (public_url or "").rstrip("/") or None
        self.access = access
        self._saved: dict[str, str] = {}  # saved_name → source; saved versions never change
        self.envs = make_environments(StoreLoader(folder, self._saved), zone)

    # ---- send time -----------------------------------------------------------------------
    def render(
        self,
        session: Session,
        event: str,
        channel: str,
        payload: dict[str, Any],
        recipient_name: str = "",
    ) -> Rendered:
        """The message of `event` for a delivery `channel`; never raises for a template's sake."""
        template_channel = "email" if event == DIGEST else DELIVERY_TEMPLATE.get(channel, "inapp")
        if event != DIGEST and event not in BY_CODE:
            return self._fallback(event, payload)
        context = self.context(event, payload, recipient_name)
        file = file_of(event, template_channel)
        name = self._current_name(session, event, template_channel)
        for candidate in dict.fromkeys((name, file)):
            try:
                return self._compose(self._named(candidate), template_channel, context)
            except Exception:
                log.exception("notification template %s failed; falling back", candidate)
        return self._fallback(event, payload, context["link"])

    def context(self, event: str, payload: dict[str, Any], recipient_name: str) -> dict[str, Any]:
        context = {"site_name": SITE_NAME, **payload}
        link = link_path(event, payload)
        if link and self.public_url:
            link = self.public_url + link
        context.update(event_name=event_name(event), recipient_name=recipient_name or "", link=link)
        if event == DIGEST:
            context["items"] = [self._digest_item(item) for item in payload.get("items") or []]
        return context

    def _digest_item(self, item: dict[str, Any]) -> dict[str, Any]:
        shaped = {key: item.get(key) or "" for key in DIGEST_ITEM_KEYS}
        if shaped["link"].startswith("/") and self.public_url:
            shaped["link"] = self.public_url + shaped["link"]
        return shaped

    def _current_name(self, session: Session, event: str, channel: str) -> str:
        """The newest saved version's name (one small query; its source is read once), or the
        folder file's."""
        file = file_of(event, channel)
        newest = session.execute(
            select(NotificationTemplate.version, NotificationTemplate.source.is_(None))
            .where(NotificationTemplate.event == event, NotificationTemplate.channel == channel)
            .order_by(NotificationTemplate.version.desc())
            .limit(1)
        ).first()
        if newest is None or newest[1]:
            return file
        name = saved_name(file, newest.version)
        if name not in self._saved:
            source = session.scalar(
                select(NotificationTemplate.source).where(
                    NotificationTemplate.event == event,
                    NotificationTemplate.channel == channel,
                    NotificationTemplate.version == newest.version,
                )
            )
            self._saved[name] = source or ""
        return name

    def _named(self, name: str, strict: bool = False) -> Loader:
        return lambda html: self.envs.pick(html, strict).get_template(name)

    def _compose(self, load: Loader, channel: str, context: dict[str, Any]) -> Rendered:
        template = load(False)
        link = context.get("link") or None

        def block(name: str) -> str:
            return render_block(template, name, context)

        if channel == "email":
            html = load(True).render(context)
            return Rendered(one_line(block("subject")), paragraphs(block("text")), html, link=link)
        if channel == "im":
            markdown = paragraphs(block("body"))
            title = one_line(block("title"))
            return Rendered(title, markdown_to_text(markdown), markdown=markdown, link=link)
        if channel == "sms":
            return Rendered(context["event_name"], paragraphs(block("body")), link=link)
        return Rendered(one_line(block("title")), paragraphs(block("body")), link=link)

    def _fallback(self, event: str, payload: dict[str, Any], link: str = "") -> Rendered:
        name = event_name(event) if event == DIGEST or event in BY_CODE else "系统通知"
        subject = " ".join(str(payload.get(k) or "") for k in ("case_no", "task")).strip()
        title = f"{name}：{subject}" if subject else name
        return Rendered(title, title, link=link or None)

    # ---- checks --------------------------------------------------------------------------
    def start_up(self) -> None:
        problems = self.check()
        if problems:
            raise TemplateProblemsFound(problems)

    def check(self) -> list[TemplateProblem]:
        """Every event × template channel (and the digest) exists and renders its sample with
        no unknown variable, for the folder's defaults and the newest saved versions."""
        with self.uow.read() as session:
            newest = self.newest_versions(session)
        problems: list[TemplateProblem] = []
        for event, channel in template_keys():
            file = file_of(event, channel)
            problems += self.problems(event, channel, self._named(file, strict=True), file)
            row = newest.get((event, channel))
            if row is not None and row.source is not None:
                name = saved_name(file, row.version)
                self._saved.setdefault(name, row.source)
                load = self._named(name, strict=True)
                problems += self.problems(event, channel, load, file, row.version)
        return problems

    def draft_problems(self, event: str, channel: str, source: str) -> list[TemplateProblem]:
        file = file_of(event, channel)
        if len(source) > MAX_SOURCE_CHARS:
            return [TemplateProblem(file, f"模板过长（不超过 {MAX_SOURCE_CHARS} 个字符）")]

        def load(html: bool) -> Template:
            return compile_source(self.envs.pick(html, strict=True), source, file)

        return self.problems(event, channel, load, file, source=source)

    def problems(
        self,
        event: str,
        channel: str,
        load: Loader,
        file: str,
        version: int | None = None,
        source: str | None = None,
    ) -> list[TemplateProblem]:
        def problem(exc: BaseException) -> TemplateProblem:
            where, line = locate(exc, self.folder)
            return TemplateProblem(where or file, explain(exc), line, version)

        try:
            template = load(False)
        except TemplateNotFound as exc:
            if exc.name == file:
                return [TemplateProblem(file, "缺少模板文件", None, version)]
            return [problem(exc)]
        except TemplateSyntaxError as exc:
            return [problem(exc)]
        found = self._forbidden(template, file, version, source)
        missing = [b for b in REQUIRED_BLOCKS[channel] if b not in template.blocks]
        found += [
            TemplateProblem(file, f"缺少 {{% block {b} %}}…{{% endblock %}}", None, version)
            for b in missing
        ]
        if found:
            return found
        context = self.context(event, sample_payload(event), SAMPLE_RECIPIENT)
        try:
            rendered = self._compose(load, channel, context)
        except Exception as exc:
            return [problem(exc)]
        empty = [b for b, text in self._block_texts(channel, rendered).items() if not text]
        return [TemplateProblem(file, f"{b} 块的内容为空", None, version) for b in empty]

    def _forbidden(
        self, template: Template, file: str, version: int | None, source: str | None
    ) -> list[TemplateProblem]:
        """Underscore names (the way out of a sandbox) refused even where the sample does not
        reach; the sandbox refuses the rest while rendering."""
        env = self.envs.strict_text
        if source is None:
            # loaded by name through the store's loader
            assert env.loader is not None and template.name is not None
            source = env.loader.get_source(env, template.name)[0]
        message = "不允许的写法：不能访问以下划线开头的名称 {}"
        return [
            TemplateProblem(file, message.format(name), line, version)
            for name, line in underscore_names(source)
        ]

    @staticmethod
    def _block_texts(channel: str, rendered: Rendered) -> dict[str, str]:
        if channel == "email":
            return {"subject": rendered.title, "text": rendered.text, "HTML": rendered.html or ""}
        if channel == "sms":
            return {"body": rendered.text}
        return {"title": rendered.title, "body": rendered.text}

    def newest_versions(self, session: Session) -> dict[tuple[str, str], NotificationTemplate]:
        rows = session.scalars(
            select(NotificationTemplate).order_by(
                NotificationTemplate.event,
                NotificationTemplate.channel,
                NotificationTemplate.version,
            )
        )
        return {(row.event, row.channel): row for row in rows}
