"""RFC 9457 problem+json for every error: domain errors, validation errors, oversized bodies. Each names
the offending field and speaks Korean (default) and English."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from api import openapi_rules
from hotline.core.errors import DomainError

PROBLEM = "application/problem+json"

_PYDANTIC_KO = {
    "missing": "필수 항목입니다.",
    "extra_forbidden": "알 수 없는 항목입니다.",
    "too_short": "항목 수가 너무 적습니다.",
    "too_long": "너무 깁니다.",
    "string_too_short": "비어 있을 수 없습니다.",
    "string_too_long": "글자 수가 너무 많습니다.",
    "enum": "허용되지 않는 값입니다.",
    "literal_error": "허용되지 않는 값입니다.",
    "date_from_datetime_parsing": "날짜 형식이 올바르지 않습니다 (예: 2020-05-01).",
    "date_parsing": "날짜 형식이 올바르지 않습니다 (예: 2020-05-01).",
    "datetime_parsing": "날짜·시각 형식이 올바르지 않습니다 (예: 2026-11-24T09:00:00+09:00).",
    "datetime_from_date_parsing": "날짜·시각 형식이 올바르지 않습니다 (예: 2026-11-24T09:00:00+09:00).",
    "int_parsing": "정수를 입력해 주세요.",
    "float_parsing": "숫자를 입력해 주세요.",
    "bool_parsing": "true 또는 false를 입력해 주세요.",
    "greater_than_equal": "값이 너무 작습니다.",
    "less_than_equal": "값이 너무 큽니다.",
    "greater_than": "값이 너무 작습니다.",
    "string_pattern_mismatch": "형식이 올바르지 않습니다.",
    "json_invalid": "JSON 형식이 올바르지 않습니다.",
    "model_attributes_type": "객체(JSON object)여야 합니다.",
    "list_type": "목록(JSON array)이어야 합니다.",
    "value_error": "값이 올바르지 않습니다.",
    "string_type": "문자열이어야 합니다.",
    "int_type": "정수여야 합니다.",
    "float_type": "숫자여야 합니다.",
    "bool_type": "true 또는 false여야 합니다.",
    "dict_type": "객체(JSON object)여야 합니다.",
    "string_sub_type": "문자열이어야 합니다.",
    "nul_character": "NUL(\\x00) 문자는 쓸 수 없습니다.",
    "control_character": "제어 문자, 글자 방향을 바꾸는 문자, 정규화하면 두 글자가 되는 특수 문자는 쓸 수 없습니다.",
    "invisible_name": "보이는 글자가 하나 이상 있어야 합니다.",
    "stacked_marks": "한 글자에 붙은 결합 문자가 너무 많습니다.",
}
NULL_KO = "null은 허용되지 않습니다. 바꾸지 않을 항목은 보내지 마세요."
NULL_EN = "null is not allowed; leave out a field you do not want to change"


def field_path(loc: tuple[Any, ...]) -> str:
    """('body', 'children', 0, 'birth_date') → 'children[0].birth_date'."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or (str(loc[0]) if loc else "body")


def translate(errors: list[dict[str, Any]], prefix: tuple = ()) -> list[dict[str, str]]:
    """Pydantic errors as our field problems: a field path and a message in Korean and English."""
    out = []
    for err in errors:
        field = field_path(prefix + tuple(err.get("loc", ())))
        ko = _PYDANTIC_KO.get(err.get("type", ""), "값이 올바르지 않습니다.")
        msg = err.get("msg", "")
        if "input" in err and err["input"] is None and err.get("type") not in ("missing", "value_error"):
            ko, msg = NULL_KO, NULL_EN
        if err.get("type") == "value_error":
            ko = f"{ko} ({msg.removeprefix('Value error, ')})"
        out.append({"field": field, "message": ko, "message_en": msg})
    return out


def problem(status: int, title_ko: str, title_en: str, detail_ko: str = "", detail_en: str = "",
            *, type: str = "about:blank", instance: str | None = None, errors: list[dict] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": type, "title": title_ko, "status": status, "detail": detail_ko or title_ko,
                            "title_en": title_en, "detail_en": detail_en or title_en}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(exc.status, exc.title_ko, exc.title_en, exc.detail_ko, exc.detail_en, type=exc.type,
                       instance=request.url.path, errors=[e.as_dict() for e in exc.errors] or None, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = translate(exc.errors())
        first = errors[0] if errors else {"field": "body", "message": "", "message_en": ""}
        return problem(422, "입력값을 확인해 주세요", "Invalid input",
                       f"{first['field']}: {first['message']}", f"{first['field']}: {first['message_en']}",
                       type="/problems/invalid-input", instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: ("찾을 수 없습니다", "Not found"), 405: ("허용되지 않는 메서드", "Method not allowed"),
                  401: ("인증 실패", "Unauthorized"), 403: ("권한 없음", "Forbidden"),
                  413: ("요청 본문이 너무 큽니다", "Request body too large")}
        ko, en = titles.get(exc.status_code, ("오류", "Error"))
        limit = getattr(exc, "limit", None)  # api.middleware.BodyTooLarge
        if limit:
            kib = limit // 1024
            return problem(413, ko, en, f"요청 본문은 {kib} KiB 이하여야 합니다.", f"The request body must be at most {kib} KiB.",
                           type="/problems/body-too-large", instance=request.url.path,
                           errors=[{"field": "body", "message": f"{kib} KiB 초과", "message_en": f"over {kib} KiB"}])
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405 and (allow := allowed_methods(request)):
            headers = {**(headers or {}), "Allow": allow}
        return problem(exc.status_code, ko, en, detail_en=str(exc.detail) if exc.detail else en,
                       instance=request.url.path, headers=headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this address, asked of the router method by method. Starlette's
    405 names only the first route whose path matched — `Allow: POST` on /v1/requests, which answers GET
    too (issue 18, defect 10). Mounts (static files) answer their own 405s."""
    routes = [route for route in request.app.router.routes if not isinstance(route, Mount)]
    return ", ".join(method for method in _METHODS
                     if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes))


class FieldProblemOut(BaseModel):
    field: str = Field(examples=["guardian.phone"])
    message: str = Field(examples=["전화번호 '010-12'가 올바르지 않습니다."])
    message_en: str
    choices: list[str] | None = Field(default=None, examples=[["성남시 수정구 신흥동", "안성시 신흥동"]],
                                      description="values the field may take instead (a place name found in several places)")


class Problem(BaseModel):
    """RFC 9457 problem details, in Korean (`title`, `detail`) and English (`title_en`, `detail_en`)."""

    type: str = Field(examples=["/problems/invalid-input"])
    title: str
    status: int
    detail: str
    title_en: str
    detail_en: str
    instance: str | None = None
    errors: list[FieldProblemOut] | None = None


_WHY = {400: "Unreadable body", 401: "Not signed in, or the sign-in failed", 403: "Not allowed for this account",
        404: "No such resource", 409: "Conflicts with the resource's state", 413: "Request body too large",
        422: "Invalid input: `errors` names each field", 429: "Too many attempts", 500: "Unexpected error"}


def _problem_codes(path: str, method: str, op: dict[str, Any]) -> set[int]:
    codes = {422, 500}  # any address can carry a bad query value (or a NUL); anything can fail
    if op.get("security") or path.startswith("/v1/webhooks"):
        codes |= {401, 403}
    if "{" in path:
        codes.add(404)
    if "requestBody" in op or path.startswith("/v1/webhooks"):  # Twilio's forms are read, not declared
        codes |= {400, 413}
    if method in ("post", "put", "patch", "delete"):
        codes.add(409)
    if path == "/v1/auth/token":
        codes |= {401, 429}
    return codes


def document(app: FastAPI) -> None:
    """The OpenAPI document lists the problem+json answers each operation can give (issue 9, defect 13:
    it listed none, and FastAPI's own 422 schema, which we never send)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        defs = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(defs.pop("$defs", {}))
        schemas["Problem"] = defs
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, methods in spec.get("paths", {}).items():
            for method, op in methods.items():
                responses = op.setdefault("responses", {})
                for code in sorted(_problem_codes(path, method, op)):
                    responses[str(code)] = {"description": _WHY[code], "content": content}
                if "401" in responses:  # every 401 says how to sign in (DomainError's handler above)
                    responses["401"]["headers"] = {"WWW-Authenticate": {
                        "description": "`Bearer`: sign in at /v1/auth/token", "required": True,
                        "schema": {"type": "string", "const": "Bearer"}}}
        openapi_rules.describe(spec)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi
