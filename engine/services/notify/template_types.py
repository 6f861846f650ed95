"""What rendering a notification template gives, and the problems a check finds."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.errors import FieldError, LandflowError, ValidationFailed


@dataclass(frozen=True)
class Rendered:
    title: str
    text: str
    html: str | None = None
    markdown: str | None = None
    link: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TemplateProblem:
    file: str
    message: str
    line: int | None = None
    version: int | None = None  # None: the folder's default; else the saved version

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "version": self.version,
            "message": self.message,
        }

    @property
    def located(self) -> str:
        return f"第 {self.line} 行：{self.message}" if self.line else self.message

    def __str__(self) -> str:
        where = self.file + (f"（第 {self.version} 版）" if self.version else "")
        return f"{where}:{self.line}: {self.message}" if self.line else f"{where}: {self.message}"


class TemplateProblemsFound(LandflowError):
    code = "notification_templates_invalid"

    def __init__(self, problems: list[TemplateProblem]) -> None:
        listed = "\n".join(str(p) for p in problems)
        super().__init__(
            f"通知模板有 {len(problems)} 处问题：\n{listed}",
            problems=[p.as_dict() for p in problems],
        )
        self.problems = problems


class TemplateInvalid(ValidationFailed):
    """A draft an administrator wrote fails its check (HTTP 422, with lines)."""

    def __init__(self, problems: list[TemplateProblem]) -> None:
        super().__init__("模板未通过检查", [FieldError("source", p.located) for p in problems])
        self.details["problems"] = [p.as_dict() for p in problems]
        self.problems = problems
