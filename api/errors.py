"""JSON errors with a stable code and a Chinese message."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


from assist.errors import AssistError as ApiError  # noqa: E402 (the application layer's error is the API's)


def error_body(code: str, message: str, **details) -> dict:
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return body


_HTTP_MESSAGES = {
    400: ("invalid_body", "请求内容无法读取，请发送 UTF-8 编码的 JSON。"),  # FastAPI: the body could not be decoded
    404: ("not_found", "没有找到您要的内容。"),
    413: ("payload_too_large", "请求内容太大了。"),
    405: ("method_not_allowed", "不支持这种请求方式。"),
    401: ("unauthorized", "需要先验证身份。"),
    403: ("forbidden", "没有权限进行这个操作。"),
}


DB_UNAVAILABLE_MESSAGE = "系统暂时无法访问数据库，请稍后再试。预约请求可以用同一个请求编号重新提交，不会重复预约。"

# Domain errors of policies/ and tickets/ -> HTTP status. Their codes and Chinese messages pass through.
_DOMAIN_STATUS = {
    "policy_verification_failed": 403,  # same answer for "no such policy" and "not yours"
    "policy_source_unavailable": 503,
    "ticket_not_found": 404,  # same answer for "no such ticket" and "not yours"
    "verification_locked": 429,  # too many wrong proofs (core.throttle); Retry-After says when to come back
    "transition_not_allowed": 409,
    "idempotency_conflict": 409,
    "ticket_changed": 409,
}


def install(app: FastAPI) -> None:
    from core.identity import PolicyError
    from tickets.service import TicketError
    from core.ids import ValidationError

    @app.exception_handler(PolicyError)
    @app.exception_handler(TicketError)
    async def _domain(_req: Request, exc):
        details = dict(getattr(exc, "details", None) or {})
        retry = getattr(exc, "retry_after", None)
        if retry:
            details["retry_after_seconds"] = retry
        return JSONResponse(error_body(exc.code, exc.message, **details), status_code=_DOMAIN_STATUS.get(exc.code, 400),
                            headers={"Retry-After": str(retry)} if retry else None)

    @app.exception_handler(ValidationError)
    async def _invalid(_req: Request, exc: ValidationError):
        """Ticket/policy input checks: one issue keeps its own code; several -> validation_failed."""
        issues = [{"code": i.code, "field": i.field, "message": i.message} for i in exc.issues]
        code = issues[0]["code"] if len(issues) == 1 else "validation_failed"
        message = "；".join(i["message"].rstrip("。") for i in issues) + "。"
        return JSONResponse(error_body(code, message, issues=issues), status_code=422)

    from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DisconnectionError)
    @app.exception_handler(PoolTimeout)
    async def _db_unavailable(_req: Request, exc: Exception):
        """Database down, connection lost or pool exhausted: a 503 the client may retry. A write that
        failed was rolled back; a ticket request repeated with the same Idempotency-Key is stored once."""
        log.warning("database unavailable: %s: %s", exc.__class__.__name__, str(exc).splitlines()[0][:200])
        return JSONResponse(error_body("db_unavailable", DB_UNAVAILABLE_MESSAGE, retry_after_seconds=5),
                            status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(ApiError)
    async def _api_error(_req: Request, exc: ApiError):
        return JSONResponse(error_body(exc.code, exc.message, **exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError):
        errors = exc.errors()
        fields = [".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header"))
                  for e in errors]
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(error_body("invalid_json", "请求内容不是有效的 JSON。"), status_code=422)
        shown = "、".join(dict.fromkeys(f for f in fields if f)) or "请求体"
        problems = [{"field": f, "type": e.get("type")} for f, e in zip(fields, errors)]
        return JSONResponse(error_body("invalid_input", "请求内容有误，请检查这些字段：" + shown,
                                       fields=fields, problems=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException):
        code, msg = _HTTP_MESSAGES.get(exc.status_code, ("http_error", "请求无法完成。"))
        return JSONResponse(error_body(code, msg), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unhandled(_req: Request, exc: Exception):  # pragma: no cover - last resort
        log.exception("unhandled error")
        return JSONResponse(error_body("internal_error", "系统暂时出了点问题，请稍后再试或联系人工客服。"), status_code=500)
