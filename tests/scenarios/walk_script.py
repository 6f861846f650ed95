"""How a walk answers (see walker.py): the demo script's form data, main-path answers, branch
overrides, the messages to send and how long to hold a task before acting on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parents[2] / "processes" / "demo"


FormData = dict[str, Any] | Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
Answer = FormData | list[FormData]  # a list: one per completion of the task, the last repeats


@dataclass(frozen=True)
class Message:
    """Sent once, when the case waits for it with nothing else to do, and only after the task
    `after` (if any) was reached: the same message can then serve two waits of one case."""

    name: str
    payload: Any
    after: str | None = None


@dataclass
class Script:
    process_id: str
    region: str
    start_data: dict[str, Any]
    answers: dict[str, Answer]  # task name -> form data, or f(case data, task) -> form data
    messages: list[Message]  # sent in this order as the case comes to wait for them
    holds: dict[str, timedelta] = field(default_factory=dict)  # task name -> wait before acting

    @classmethod
    def from_demo(
        cls,
        process_id: str,
        answers: dict[str, Answer] | None = None,
        messages: dict[str, Any] | None = None,
        holds: dict[str, timedelta] | None = None,
    ) -> Script:
        """The demo script's region, start data, answers and messages; `answers` and `messages`
        add what the main path needs beyond the demo script (they never override the demo's)."""
        demo = json.loads((DEMO_DIR / f"{process_id}.json").read_text(encoding="utf-8"))
        merged: dict[str, Answer] = {**(answers or {}), **demo.get("answers", {})}
        sent = {m["name"]: m.get("payload") for m in demo.get("messages", {}).values()}
        return cls(
            process_id,
            demo["region"],
            demo.get("start_data", {}),
            merged,
            [Message(name, payload) for name, payload in {**(messages or {}), **sent}.items()],
            holds or {},
        )

    def branch(
        self,
        answers: dict[str, Answer] | None = None,
        messages: list[Message] | None = None,
        holds: dict[str, timedelta] | None = None,
    ) -> Script:
        """This script with `answers` (over the demo's too) and `holds` put in, and `messages`
        replacing those of the same names."""
        replaced = {m.name for m in messages or []}
        return Script(
            self.process_id,
            self.region,
            self.start_data,
            {**self.answers, **(answers or {})},
            [m for m in self.messages if m.name not in replaced] + list(messages or []),
            {**self.holds, **(holds or {})},
        )


def demo_answer(process_id: str, task_name: str) -> dict[str, Any]:
    """The demo script's form data for one task."""
    demo = json.loads((DEMO_DIR / f"{process_id}.json").read_text(encoding="utf-8"))
    return dict(demo["answers"][task_name])
