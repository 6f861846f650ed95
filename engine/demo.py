"""Demo data for `landflow demo` and the README's run command. Every demo password is `demo`,
and it is set only here."""

from __future__ import annotations

from typing import Any

from engine.services.container import Landflow

DEMO_PASSWORD = "demo"
DEMO_USERS = [
    ("admin", "系统管理员", True),
    ("clerk", "经办人", False),
    ("approver", "负责人", False),
]


def load_demo(lf: Landflow) -> dict[str, Any]:
    users = [
        lf.auth.ensure_user(name, DEMO_PASSWORD, display, admin)["username"]
        for name, display, admin in DEMO_USERS
    ]
    return {"users": users, "password": DEMO_PASSWORD}
