"""The one mapping from Landflow errors to HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine import errors
from engine.web.pages import LoginRequired, page_error

log = logging.getLogger(__name__)

STATUS = {
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.BadRequest: 400,
    errors.ValidationFailed: 422,
    errors.DefinitionInvalid: 422,
    errors.AuthenticationRequired: 401,
    errors.PermissionDenied: 403,
    errors.FeatureDisabled: 403,
}


def status_of(exc: errors.LandflowError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, _exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(errors.LandflowError)
    async def _landflow(request: Request, exc: errors.LandflowError) -> Response:
        status = status_of(exc)
        if not request.url.path.startswith("/api/"):
            return page_error(request, status, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        body = {"error": exc.code, "message": exc.message, **exc.details}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        return JSONResponse(
            {"error": "validation_failed", "message": "请求格式无效", "errors": fields},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/api/") and exc.status_code == 404:
            return page_error(request, 404, "页面不存在")
        return JSONResponse(
            {"error": "http_error", "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(
            {"error": "internal", "message": "internal error; see the server log"}, status_code=500
        )
