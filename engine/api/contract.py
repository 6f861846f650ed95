"""The OpenAPI document as a contract: every operation under /api declares each error status
it can answer, all with the one ErrorBody schema. Which statuses follow from the route: every
route can refuse its input (422); a signed-in route can also meet any of the typed errors of
engine.errors (400, 401, 403, 404, 409); sign-in routes can answer 429. A route's own
`responses={…}` keep their more precise descriptions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from .deps import current_actor
from .schemas.errors import ERROR_DESCRIPTIONS, ErrorBody

PUBLIC_ERRORS = (422,)
SIGNED_IN_ERRORS = (400, 401, 403, 404, 409, 422)
THROTTLED = {"/api/v1/auth/token": (401, 429), "/api/v1/auth/password": (429,)}
ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def error_statuses(path: str, dependant: Dependant) -> set[int]:
    statuses = set(SIGNED_IN_ERRORS if signed_in(dependant) else PUBLIC_ERRORS)
    statuses.update(THROTTLED.get(path, ()))
    return statuses


def signed_in(dependant: Dependant) -> bool:
    pending = list(dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is current_actor:
            return True
        pending.extend(dependency.dependencies)
    return False


class ContractApp(FastAPI):
    """FastAPI whose /openapi.json is the contract below."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = contract(self)
        return self.openapi_schema


def contract(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in ErrorBody.model_json_schema(ref_template=_REF).get("$defs", {}).items():
        schemas.setdefault(name, schema)
    body = ErrorBody.model_json_schema(ref_template=_REF)
    body.pop("$defs", None)
    schemas["ErrorBody"] = body
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, methods, dependant in api_routes(app):
        item = document["paths"].get(path, {})
        for method in methods:
            operation = item.get(method.lower())
            if operation is not None:
                _declare(operation["responses"], error_statuses(path, dependant))
    return document


def api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], Dependant]]:
    """(path, methods, dependant) of every route under /api, through included routers."""
    contexts: Iterable[Any]
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are plain APIRoutes
        contexts = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    for route in contexts:
        original = getattr(route, "original_route", route)
        path = str(getattr(route, "path_format", ""))
        if isinstance(original, APIRoute) and path.startswith("/api/"):
            yield path, set(getattr(route, "methods", None) or ()), original.dependant


_REF = "#/components/schemas/{model}"


def _declare(responses: dict[str, Any], statuses: set[int]) -> None:
    for status in sorted(statuses | {int(s) for s in responses if s.startswith(("4", "5"))}):
        declared = responses.setdefault(str(status), {})
        declared.setdefault("description", ERROR_DESCRIPTIONS.get(status, "error"))
        declared["content"] = {"application/json": {"schema": ERROR_REF}}
