"""The admin console's pages are for administrators: anyone else is refused before the page is
built, in Chinese (the services check again)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from engine.errors import PermissionDenied
from engine.services.actor import Actor

from .rendering import page_actor


def page_admin(actor: Annotated[Actor, Depends(page_actor)]) -> Actor:
    if not actor.is_admin:
        raise PermissionDenied("此页面仅限系统管理员使用")
    return actor


AdminDep = Annotated[Actor, Depends(page_admin)]
