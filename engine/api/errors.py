"""The one mapping from Landflow errors to HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
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
    errors.TooManyAttempts: 429,
}

# Pydantic's error types, in the words clerks read.
FIELD_MESSAGES = {
    "missing": "必填",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_pattern_mismatch": "格式不符合要求",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为是或否",
    "bool_parsing": "应为是或否",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_type": "应为日期时间（ISO 8601）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "model_attributes_type": "应为对象",
    "extra_forbidden": "不允许的字段",
    "value_error": "取值无效",
}


def field_message(error: dict) -> str:
    template = FIELD_MESSAGES.get(error.get("type", ""), "取值无效")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template


HTTP_MESSAGES = {
    400: "请求格式无效",
    404: "接口不存在",
    405: "不支持该请求方法",
    413: "请求内容过大",
    415: "不支持的内容类型",
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
        if isinstance(exc, errors.TooManyAttempts):
            headers = {"Retry-After": str(max(1, exc.retry_after_seconds))}
        body = {"error": exc.code, "message": exc.message, **exc.details}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "message": field_message(e),
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
            {"error": "http_error", "message": HTTP_MESSAGES.get(exc.status_code, "请求无法处理")},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception) -> Response:
        """A number or text the database cannot hold (a last line behind the parameter
        bounds): the request is refused, not the server."""
        log.warning("value out of the database's range: %s", exc)
        message = "数值或文本超出允许的范围"
        if not request.url.path.startswith("/api/"):
            return page_error(request, 422, message)
        return JSONResponse(
            {"error": "validation_failed", "message": message, "errors": []}, status_code=422
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(
            {"error": "internal", "message": "服务器内部错误，请查看服务器日志"}, status_code=500
        )
