"""JSON errors with a stable code and a Chinese message."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_body(code: str, message: str, **details) -> dict:
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return body


_HTTP_MESSAGES = {
    404: ("not_found", "没有找到您要的内容。"),
    405: ("method_not_allowed", "不支持这种请求方式。"),
    401: ("unauthorized", "需要先验证身份。"),
    403: ("forbidden", "没有权限进行这个操作。"),
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError):
        return JSONResponse(error_body(exc.code, exc.message, **exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError):
        fields = [".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")) for e in exc.errors()]
        return JSONResponse(error_body("invalid_input", "请求内容有误，请检查这些字段：" + "、".join(f for f in fields if f),
                                       fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        code, msg = _HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法完成。"))
        return JSONResponse(error_body(code, msg), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unhandled(_req: Request, exc: Exception):  # pragma: no cover - last resort
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "系统暂时出了点问题，请稍后再试或联系人工客服。"), status_code=500)
