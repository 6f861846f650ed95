"""The text of an ad-hoc bulletin (不定期通报): a template whose ${placeholders} are filled with
the report's current figures (docs/reports.md lists them)."""

from __future__ import annotations

import string
from typing import Any

from engine.errors import FieldError, ValidationFailed

DEFAULT_BULLETIN = (
    "截至${until}，${region}在办办件${active_cases}件，红灯环节${red}个、黄灯环节${yellow}个；"
    "${since}以来办结环节${finished}个，其中逾期办结${late}个，按期办结率${on_time_rate}，"
    "本期督办${supervised}件。按期办结率最高的是${best_area}，最低的是${worst_area}。"
    "请各地各部门对照通报，抓紧办理红灯事项。"
)


def compose_bulletin(template: str | None, figures: dict[str, Any]) -> str:
    """The bulletin's text: the template's ${placeholders} filled with the figures."""
    totals, scope = figures["totals"], figures["scope"]
    rated = [a for a in figures["areas"] if a["on_time_rate"] is not None]
    best = max(rated, key=lambda a: a["on_time_rate"], default=None)
    worst = min(rated, key=lambda a: a["on_time_rate"], default=None)

    def rate(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.2f}%"

    values = {
        "region": scope["region_name"],
        "since": scope["since"],
        "until": scope["until"],
        "active_cases": totals["active_cases"],
        "open_steps": totals["open_steps"],
        "red": totals["red"],
        "yellow": totals["yellow"],
        "finished": totals["finished"],
        "late": totals["late"],
        "on_time_rate": rate(totals["on_time_rate"]),
        "supervised": totals["supervised"],
        "best_area": f"{best['name']}（{rate(best['on_time_rate'])}）" if best else "—",
        "worst_area": f"{worst['name']}（{rate(worst['on_time_rate'])}）" if worst else "—",
    }
    try:
        return string.Template(template or DEFAULT_BULLETIN).substitute(values)
    except KeyError as exc:
        raise ValidationFailed(
            "通报正文无效", [FieldError("template", f"没有占位符 ${{{exc.args[0]}}}")]
        ) from exc
    except ValueError as exc:
        raise ValidationFailed(
            "通报正文无效", [FieldError("template", "“$”后应为占位符名，如 ${red}；“$$”表示“$”")]
        ) from exc
