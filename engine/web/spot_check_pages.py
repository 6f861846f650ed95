"""年度抽查 pages for the leadership-group office and the 自然资源 department of a city or
province: the year's candidates, the draw form, the recorded draws, and one draw with its
drawn projects, their check cases and the re-run of its seed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import Conflict, FieldError, ValidationFailed
from engine.services.actor import Actor
from engine.services.spot_checks import DrawRequest

from .rendering import ActorDep, check_csrf, landflow, render
from .session import CSRF_FIELD

router = APIRouter(include_in_schema=False)
OUTCOME_CLASSES = {"合格": "passed", "整改完成": "passed", "整改中": "failed", "待核查": "open"}


@router.get("/dispatch/spot-checks")
def spot_checks_page(
    request: Request, actor: ActorDep, year: str = "", region: str = ""
) -> HTMLResponse:
    return _page(request, actor, {"year": year, "region": region})


@router.post("/dispatch/spot-checks")
async def draw(request: Request, actor: ActorDep) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get(CSRF_FIELD, "")))
    given = {name: str(form.get(name) or "").strip() for name in _FIELDS}
    try:
        drawn = landflow(request).spot_checks.draw(
            actor,
            DrawRequest(
                year=_integer(given["year"], "year", "年度"),
                region=given["region"] or None,
                share_percent=_number(given["share_percent"], "share_percent", "抽查比例"),
                count=_integer(given["count"], "count", "抽取数量") if given["count"] else None,
                seed=_integer(given["seed"], "seed", "随机种子") if given["seed"] else None,
                supplementary=form.get("supplementary") == "on",
                reason=given["reason"] or None,
            ),
        )
    except ValidationFailed as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _page(request, actor, given, status=422, message=exc.message, errors=errors)
    except Conflict as exc:
        return _page(request, actor, given, status=409, message=exc.message)
    return RedirectResponse(f"/dispatch/spot-checks/{drawn['id']}", status_code=303)


@router.get("/dispatch/spot-checks/{draw_id}")
def draw_page(request: Request, draw_id: int, actor: ActorDep) -> HTMLResponse:
    drawn = landflow(request).spot_checks.get(actor, draw_id)
    chosen = {d["instance_id"] for d in drawn["drawn"]}
    return render(
        request,
        "spot_check_draw.html",
        actor,
        draw=drawn,
        chosen=chosen,
        outcome_classes=OUTCOME_CLASSES,
    )


_FIELDS = ("year", "region", "share_percent", "count", "seed", "reason")


def _page(
    request: Request,
    actor: Actor,
    given: dict[str, str],
    status: int = 200,
    message: str = "",
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    """The draw form for the chosen region and year with its candidates, and the draws."""
    lf = landflow(request)
    options = lf.spot_checks.options(actor)
    regions = {r["code"]: r for r in options["regions"]}
    region = given.get("region") if given.get("region") in regions else next(iter(regions), "")
    year = int(given["year"]) if given.get("year", "").isdigit() else options["current_year"]
    year = year if year in options["years"] else options["current_year"]
    preview = lf.spot_checks.candidates(actor, year, region) if region else None
    return render(
        request,
        "spot_checks.html",
        actor,
        status=status,
        options=options,
        region=region,
        year=year,
        preview=preview,
        given=given,
        message=message,
        errors=errors or {},
        draws=lf.spot_checks.list(actor)["items"],
    )


def _integer(text: str, field: str, label: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(f"{label}无效", [FieldError(field, f"{label}应为整数")]) from None


def _number(text: str, field: str, label: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationFailed(f"{label}无效", [FieldError(field, f"{label}应为数字")]) from None
